//! One module per subcommand.

pub mod demo;
pub mod migrate;
pub mod seed;
pub mod serve;
pub mod version_service;
