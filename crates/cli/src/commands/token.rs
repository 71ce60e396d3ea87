//! `licensedot token`: mints a development JWT with the configured HS256 secret, and the
//! secrets the demo keeps in its data directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use rand::RngCore;

use crate::settings;

/// The file in a demo data directory holding the generated HS256 secret.
pub const JWT_SECRET_FILE: &str = "jwt-secret";
/// The file in a demo data directory holding the gateway's credential for the version service.
pub const SERVICE_TOKEN_FILE: &str = "service-token";

/// Arguments of `licensedot token`.
#[derive(Args)]
pub struct TokenArgs {
    /// The role: admin, sales, support, viewer or customer (repeat for several).
    #[arg(long = "role", required = true)]
    roles: Vec<String>,
    /// A customer id a `customer` token may see (repeat for several).
    #[arg(long = "customer")]
    customers: Vec<i64>,
    /// How long the token is valid: 3600s, 30m, 1h, 7d, 1h30m.
    #[arg(long, default_value = "1h")]
    ttl: String,
    /// The token's subject (`sub`); defaults to `dev-<role>`.
    #[arg(long)]
    sub: Option<String>,
    /// The e-mail claim, if any.
    #[arg(long)]
    email: Option<String>,
    /// The demo data directory whose secret to use when neither LICENSEDOT_JWT_SECRET nor the
    /// config file sets one.
    #[arg(long, default_value = "licensedot-demo")]
    data_dir: PathBuf,
    /// A TOML config file: its `[gateway.auth]` gives the secret, issuer, audience and claim
    /// names; `LICENSEDOT_*` variables override it.
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Prints a token on stdout (and nothing else, so that `$(licensedot token ...)` works).
pub fn run(args: TokenArgs) -> anyhow::Result<()> {
    let figment = settings::figment(args.config.as_deref())?;
    let mut config: auth::AuthConfig = settings::section(&figment, "gateway.auth")?;
    config = config.with_env_secret();
    if config.hs256_secret.is_none() {
        config.hs256_secret = read_secret(&args.data_dir.join(JWT_SECRET_FILE))?;
    }
    anyhow::ensure!(
        config.hs256_secret.is_some(),
        "no HS256 secret: set {}, `hs256_secret` in [gateway.auth] of --config, or run `licensedot demo --data-dir {}` once",
        auth::JWT_SECRET_ENV,
        args.data_dir.display()
    );
    let roles = check_roles(&args.roles, &args.customers)?;
    let ttl = auth::parse_ttl(&args.ttl)?;
    let claims = auth::MintClaims {
        sub: args
            .sub
            .unwrap_or_else(|| format!("dev-{}", roles.join("-"))),
        email: args.email,
        roles,
        customer_ids: args.customers,
        ttl,
        issuer: None,
        audience: None,
    };
    println!("{}", auth::mint_hs256_for(&config, &claims)?);
    Ok(())
}

/// The role names, checked: known roles only, and a `customer` token names its customers.
fn check_roles(names: &[String], customers: &[i64]) -> anyhow::Result<Vec<String>> {
    let mut roles = Vec::new();
    for name in names {
        let role = auth::Role::parse(name).with_context(|| {
            format!("unknown role {name:?}: use admin, sales, support, viewer or customer")
        })?;
        roles.push(role);
    }
    let effective = auth::Role::most_permissive(&roles);
    if effective == Some(auth::Role::Customer) {
        anyhow::ensure!(
            !customers.is_empty(),
            "a customer token needs at least one --customer ID (it would see nothing)"
        );
    } else if !customers.is_empty() {
        eprintln!("note: --customer only scopes `customer` tokens; this token sees every customer");
    }
    Ok(roles.iter().map(|r| r.as_str().to_owned()).collect())
}

/// The secret in `path`, if the file exists (surrounding whitespace ignored).
pub fn read_secret(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let secret = text.trim().to_owned();
            anyhow::ensure!(!secret.is_empty(), "{} is empty", path.display());
            Ok(Some(secret))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// The secret in `path`, or a new random one (256 bits, hex) written there readable by the
/// owner only. Returns whether it was created.
pub fn read_or_create_secret(path: &Path) -> anyhow::Result<(String, bool)> {
    if let Some(secret) = read_secret(path)? {
        return Ok((secret, false));
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(file, "{secret}").with_context(|| format!("cannot write {}", path.display()))?;
    Ok((secret, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_created_once_and_kept_private() {
        let dir = test_support::scratch_dir("token");
        let path = dir.path().join(JWT_SECRET_FILE);
        let (first, created) = read_or_create_secret(&path).unwrap();
        assert!(created);
        assert_eq!(first.len(), 64);
        let (again, created) = read_or_create_secret(&path).unwrap();
        assert!(!created);
        assert_eq!(first, again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn roles_are_checked() {
        assert!(check_roles(&["nope".into()], &[]).is_err());
        assert!(check_roles(&["customer".into()], &[]).is_err());
        assert_eq!(
            check_roles(&["Customer".into()], &[1]).unwrap(),
            vec!["customer"]
        );
        assert_eq!(check_roles(&["sales".into()], &[]).unwrap(), vec!["sales"]);
    }
}
