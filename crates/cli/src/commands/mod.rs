//! One module per subcommand.

pub mod demo;
pub mod migrate;
pub mod seed;
pub mod serve;
pub mod token;
pub mod version_service;
