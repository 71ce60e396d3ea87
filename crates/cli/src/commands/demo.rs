//! `licensedot demo`: the one-command start on embedded SQLite with the demo data.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use base64::Engine;
use clap::Args;
use sea_orm::{EntityTrait, PaginatorTrait};

use super::token;
use crate::{shutdown, telemetry};

/// How many customers the demo data holds besides the story's own.
const DEMO_CUSTOMERS: u64 = 200;

/// Arguments of `licensedot demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// Where the gateway listens (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:4000")]
    listen: SocketAddr,
    /// Where the version service listens (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:4001")]
    version_listen: SocketAddr,
    /// Where the SQLite databases live; created, migrated and seeded on first run.
    #[arg(long, default_value = "licensedot-demo")]
    data_dir: PathBuf,
}

/// The file in the data dir holding the key that encrypts webhook secrets at rest.
const WEBHOOK_KEY_FILE: &str = "webhook-key";

/// The demo's credentials: the HS256 secret (`LICENSEDOT_JWT_SECRET`, else generated on first
/// run and kept in the data dir), the gateway's token for the version service and the webhooks'
/// key (kept there too).
struct DemoSecrets {
    jwt_secret: String,
    jwt_secret_from_env: bool,
    service_token: String,
    /// 32 bytes in base64, as `[gateway.webhooks] secret_key` takes it.
    webhook_key: String,
}

impl DemoSecrets {
    fn load(data_dir: &std::path::Path) -> anyhow::Result<Self> {
        let env_secret = std::env::var(auth::JWT_SECRET_ENV)
            .ok()
            .filter(|s| !s.is_empty());
        let jwt_secret_from_env = env_secret.is_some();
        let jwt_secret = match env_secret {
            Some(secret) => secret,
            None => token::read_or_create_secret(&data_dir.join(token::JWT_SECRET_FILE))?.0,
        };
        let (service_token, _) =
            token::read_or_create_secret(&data_dir.join(token::SERVICE_TOKEN_FILE))?;
        let (webhook_key, _) = token::read_or_create_secret(&data_dir.join(WEBHOOK_KEY_FILE))?;
        let webhook_key = hex::decode(webhook_key.trim())
            .map(|bytes| base64::engine::general_purpose::STANDARD.encode(bytes))
            .with_context(|| format!("{WEBHOOK_KEY_FILE} in the data dir is not hex"))?;
        Ok(Self {
            jwt_secret,
            jwt_secret_from_env,
            service_token,
            webhook_key,
        })
    }

    /// Prints a ready `sales` token and how to mint others.
    fn print_token(
        &self,
        config: &auth::AuthConfig,
        data_dir: &std::path::Path,
    ) -> anyhow::Result<()> {
        let claims = auth::MintClaims {
            sub: "demo-sales".to_owned(),
            email: None,
            roles: vec!["sales".to_owned()],
            customer_ids: Vec::new(),
            ttl: std::time::Duration::from_secs(12 * 3600),
            issuer: None,
            audience: None,
        };
        let token = auth::mint_hs256_for(config, &claims)?;
        let source = if self.jwt_secret_from_env {
            format!("{} from the environment", auth::JWT_SECRET_ENV)
        } else {
            format!("{}", data_dir.join(token::JWT_SECRET_FILE).display())
        };
        println!("  sales token (12h, signed with {source}):");
        println!("    Authorization: Bearer {token}");
        println!(
            "  other tokens:     licensedot token --data-dir {} --role viewer|support|admin|customer [--customer ID] [--ttl 1h]",
            data_dir.display()
        );
        Ok(())
    }
}

/// A one-time sign-in link (a path) that opens the dashboard signed in as `sales`, so that a
/// newcomer never handles a token.
async fn sign_in_link(gateway: &gateway::AppState) -> anyhow::Result<String> {
    let viewer = auth::Viewer {
        subject: "demo-sales".to_owned(),
        email: None,
        role: auth::Role::Sales,
        roles: vec![auth::Role::Sales],
        customer_ids: Vec::new(),
    };
    gateway
        .sso
        .sign_in_link(&viewer)
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the sign-in link: {e}"))
}

/// The URL of the demo's SQLite database `file` in `dir`, which is created (or narrowed) to
/// mode 0600 first: it holds customers' names, contacts and usage. SQLite gives its `-wal` and
/// `-shm` files the database file's mode.
fn private_sqlite_url(dir: &std::path::Path, file: &str) -> anyhow::Result<String> {
    let path = dir.join(file);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    // A file from an earlier demo may have been created with the umask's mode.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict {} to its owner", path.display()))?;
    }
    Ok(format!("sqlite://{}?mode=rwc", path.display()))
}

/// Prepares the databases, starts both services and serves until ctrl-c or SIGTERM.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let telemetry = telemetry::init(&telemetry::LogConfig::default(), "licensedot-demo")?;
    std::fs::create_dir_all(&args.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            args.data_dir.display()
        )
    })?;
    let secrets = DemoSecrets::load(&args.data_dir)?;
    let licenses_url = private_sqlite_url(&args.data_dir, "licenses.sqlite")?;
    let version_url = private_sqlite_url(&args.data_dir, "version.sqlite")?;

    // Bind first: port 0 picks free ports, and the gateway must know the version service's.
    let version_listener = tokio::net::TcpListener::bind(args.version_listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (is a demo already running?)",
                args.version_listen
            )
        })?;
    let gateway_listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (is a demo already running?)",
                args.listen
            )
        })?;
    let version_address = version_listener.local_addr()?;
    let gateway_address = gateway_listener.local_addr()?;

    // Both servers share this process's open-file limit: half of the room each.
    let connections = edge::connection_cap(
        edge::ServerConfig::default().max_connections,
        edge::open_file_limit(),
    ) / 2;
    let version_config = version_service::Config {
        listen: args.version_listen,
        database_url: version_url,
        // Pings are verified against the demo's license database.
        license_database_url: Some(licenses_url.clone()),
        service_token: Some(secrets.service_token.clone()),
        server: edge::ServerConfig {
            max_connections: connections.max(1),
            ..edge::ServerConfig::default()
        },
        ..version_service::Config::default()
    };
    let version_state = super::version_service::start(version_config).await?;
    let mut gateway_config = gateway::Config {
        listen: args.listen,
        database_url: licenses_url,
        ..gateway::Config::default()
    };
    gateway_config.limits.server.max_connections = connections.max(1);
    gateway_config.version_service.url = format!("http://{version_address}/graphql");
    gateway_config.auth.hs256_secret = Some(secrets.jwt_secret.clone());
    gateway_config.version_service.service_token = Some(secrets.service_token.clone());
    gateway_config.public_url = Some(format!("http://{gateway_address}"));
    // Webhooks on, and allowed to a receiver on this machine: the demo is for development.
    gateway_config.webhooks.enabled = true;
    gateway_config.webhooks.secret_key = Some(secrets.webhook_key.clone());
    gateway_config.webhooks.development_allow_loopback = true;
    let gateway_state = gateway::AppState::start(gateway_config).await?;

    if entity::customer::Entity::find()
        .count(&gateway_state.db)
        .await?
        == 0
    {
        let options = seed::SeedOptions {
            customers: DEMO_CUSTOMERS,
            seed: 1,
            today: chrono::Utc::now().date_naive(),
            include_demo_story: true,
        };
        let report = seed::seed(&gateway_state.db, Some(&version_state.db), &options).await?;
        println!(
            "seeded the demo data: {} customers, {} licenses, {} usage pings",
            report.customers, report.licenses, report.usage_pings
        );
    }

    println!(
        "licensedot demo is running (data in {})",
        args.data_dir.display()
    );
    let link = sign_in_link(&gateway_state).await?;
    println!("  sign in as sales: http://{gateway_address}{link}");
    println!(
        "                    (opens the dashboard signed in; works once, within {} minutes)",
        gateway_state.config.sessions.login_timeout_secs / 60
    );
    println!("  dashboard:        http://{gateway_address}/");
    println!("  GraphQL explorer: http://{gateway_address}/graphql");
    println!("  version service:  http://{version_address}/graphql");
    println!(
        "  webhooks (admin): http://{gateway_address}/#/webhooks (loopback receivers allowed)"
    );
    secrets.print_token(&gateway_state.config.auth, &args.data_dir)?;
    println!("press ctrl-c to stop");

    let (stop, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut version_stop = stop.subscribe();
    let mut gateway_stop = stop.subscribe();
    let version = tokio::spawn(version_service::serve(
        version_listener,
        version_state,
        async move {
            let _ = version_stop.recv().await;
        },
    ));
    let gateway = tokio::spawn(gateway::serve(
        gateway_listener,
        gateway_state,
        async move {
            let _ = gateway_stop.recv().await;
        },
    ));
    shutdown::signal().await;
    let _ = stop.send(());
    gateway.await.context("gateway task failed")??;
    version.await.context("version service task failed")??;
    telemetry.shutdown().await;
    Ok(())
}
