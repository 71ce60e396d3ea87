//! `licensedot`: the one binary. Wiring only: it parses the command line, loads the
//! configuration, sets up logging and signals, and calls the libraries.

mod commands;
mod settings;
mod shutdown;
mod telemetry;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// One GraphQL endpoint over licenses, customers, contacts, servers and their usage pings.
#[derive(Parser)]
#[command(name = "licensedot", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run everything on embedded SQLite with demo data: the version service and the gateway.
    Demo(commands::demo::DemoArgs),
    /// Run the gateway.
    Serve {
        /// A TOML config file (see docs/config.md); `LICENSEDOT_*` variables override it.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Run the version service (usage-ping ingestion and its subgraph).
    VersionService {
        /// A TOML config file (see docs/config.md); `LICENSEDOT_*` variables override it.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Development only: start without a service token, leaving `/graphql` (every
        /// customer's usage) open to anyone who can reach the port.
        #[arg(long)]
        insecure_no_token: bool,
    },
    /// Apply pending migrations to a database.
    Migrate(commands::migrate::MigrateArgs),
    /// Fill empty databases with a deterministic, realistic data set.
    Seed(commands::seed::SeedArgs),
    /// Mint a development JWT with the configured HS256 secret (printed on stdout).
    Token(commands::token::TokenArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => commands::demo::run(args).await,
        Command::Serve { config } => commands::serve::run(config).await,
        Command::VersionService {
            config,
            insecure_no_token,
        } => commands::version_service::run(config, insecure_no_token).await,
        Command::Migrate(args) => commands::migrate::run(args).await,
        Command::Seed(args) => commands::seed::run(args).await,
        Command::Token(args) => commands::token::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
