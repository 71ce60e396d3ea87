//! The object types of the graph. Each wraps a row of the license database and resolves its
//! relations through the request's loaders.

pub mod audit;
pub mod connection;
pub mod contact;
pub mod customer;
pub mod filter;
pub mod health;
pub mod hostname;
pub mod license;
pub mod trials;
pub mod usage;

pub use contact::Contact;
pub use customer::Customer;
pub use filter::status_name;
pub use hostname::Hostname;
pub use license::License;
