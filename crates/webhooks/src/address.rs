//! Where deliveries may go. An admin types a URL; the gateway then sends requests from inside
//! the company's network, so without checks a URL could reach internal services (SSRF) or the
//! cloud's metadata endpoint.
//!
//! - A URL must be `https://` without credentials or fragment, at most [`MAX_URL_CHARS`]
//!   long; `http://` only to a loopback host with `development_allow_loopback`.
//! - Every address a host resolves to must be public: loopback only with
//!   `development_allow_loopback`; private ones (RFC 1918, shared 100.64/10, unique local
//!   fc00::/7) only for a host named in `allowed_internal_hosts`; link-local (169.254/16 — the
//!   metadata endpoints —, fe80::/10), unspecified, multicast, documentation and reserved
//!   ranges never. One bad address refuses the whole host.
//! - **Resolve and pin**: deliveries resolve through [`CheckedResolver`], which checks the
//!   addresses of that very resolution and hands the HTTP client only those. The connection
//!   goes to an address that was checked, with the URL's host in `Host` and SNI, so a DNS answer
//!   that changes after the check (rebinding) cannot reach a private address. (reqwest's
//!   `resolve()` pins per client; the resolver hook pins per resolution and lets one client keep
//!   its connections and TLS sessions across deliveries.) IP-literal URLs are not resolved and
//!   are checked by [`AddressPolicy::check_url`] before each attempt.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// The longest URL an endpoint may have.
pub const MAX_URL_CHARS: usize = 2048;

/// How long creating or enabling an endpoint waits for its host to resolve.
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// What kind of address an IP is, for the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Reachable on the internet.
    Public,
    /// This machine.
    Loopback,
    /// A private network (RFC 1918, shared address space, unique local).
    Private,
    /// Never a delivery target: link-local, unspecified, multicast, documentation, reserved.
    Forbidden(&'static str),
}

/// What `ip` is.
pub fn classify(ip: IpAddr) -> Class {
    match ip {
        IpAddr::V4(ip) => classify_v4(ip),
        IpAddr::V6(ip) => classify_v6(ip),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Class {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        Class::Loopback
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        Class::Private
    } else if ip.is_link_local() {
        Class::Forbidden("link-local")
    } else if ip.is_unspecified() || a == 0 {
        Class::Forbidden("unspecified")
    } else if ip.is_multicast() || ip.is_broadcast() {
        Class::Forbidden("multicast or broadcast")
    } else if ip.is_documentation() || (a == 198 && (b == 18 || b == 19)) {
        Class::Forbidden("documentation or benchmarking")
    } else if a >= 240 || (a == 192 && b == 0 && c == 0) {
        Class::Forbidden("reserved")
    } else {
        Class::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> Class {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let segments = ip.segments();
    let embedded = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        classify_v4(Ipv4Addr::new(a, b, c, d))
    };
    if ip.is_loopback() {
        Class::Loopback
    } else if ip.is_unspecified() {
        Class::Forbidden("unspecified")
    } else if ip.is_multicast() {
        Class::Forbidden("multicast")
    } else if ip.is_unicast_link_local() || segments[0] & 0xffc0 == 0xfec0 {
        Class::Forbidden("link-local")
    } else if ip.is_unique_local() {
        Class::Private
    } else if segments[0] == 0x2001 && segments[1] == 0x0db8 {
        Class::Forbidden("documentation")
    } else if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64: the IPv4 address it translates to decides.
        embedded(segments[6], segments[7])
    } else if segments[0] == 0x2002 {
        // 6to4: likewise.
        embedded(segments[1], segments[2])
    } else if segments[..6] == [0; 6] {
        Class::Forbidden("IPv4-compatible (deprecated)")
    } else {
        Class::Public
    }
}

/// A URL or address the policy refuses, saying why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// The rules above, with this gateway's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressPolicy {
    allow_loopback: bool,
    /// Lower case, without a trailing dot.
    internal_hosts: Vec<String>,
}

fn normalise(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

impl AddressPolicy {
    /// The policy; `Err` names an entry of `internal_hosts` that is not a host name.
    pub fn new(internal_hosts: &[String], allow_loopback: bool) -> Result<Self, String> {
        let internal_hosts = internal_hosts
            .iter()
            .map(|host| match Host::parse(host.trim()) {
                Ok(Host::Domain(domain)) => Ok(normalise(&domain)),
                _ => Err(host.clone()),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            allow_loopback,
            internal_hosts,
        })
    }

    fn is_internal(&self, host: &str) -> bool {
        let host = normalise(host);
        self.internal_hosts.contains(&host)
    }

    /// Whether `ip`, an address of `host` (a name, or the literal itself), may be sent to.
    pub fn check_ip(&self, host: &str, ip: IpAddr) -> Result<(), Refused> {
        match classify(ip) {
            Class::Public => Ok(()),
            Class::Loopback if self.allow_loopback => Ok(()),
            Class::Loopback => Err(Refused(format!(
                "`{host}` is a loopback address ({ip}); webhooks go to other machines \
                 ([gateway.webhooks] development_allow_loopback allows it in development)"
            ))),
            Class::Private if self.is_internal(host) => Ok(()),
            Class::Private => Err(Refused(format!(
                "`{host}` resolves to a private address ({ip}); an internal receiver must be \
                 named in [gateway.webhooks] allowed_internal_hosts"
            ))),
            Class::Forbidden(kind) => Err(Refused(format!(
                "`{host}` resolves to a {kind} address ({ip}), which webhooks never go to"
            ))),
        }
    }

    /// Whether every address `host` resolved to may be sent to (and there is one).
    pub fn check_resolved(&self, host: &str, addresses: &[SocketAddr]) -> Result<(), Refused> {
        if addresses.is_empty() {
            return Err(Refused(format!("`{host}` resolves to no address")));
        }
        addresses
            .iter()
            .try_for_each(|address| self.check_ip(host, address.ip()))
    }

    /// Checks `text` as an endpoint URL (the parts of the rules that need no DNS; an IP
    /// literal is checked in full) and returns it parsed.
    pub fn check_url(&self, text: &str) -> Result<Url, Refused> {
        let text = text.trim();
        if text.chars().count() > MAX_URL_CHARS {
            return Err(Refused(format!(
                "a webhook URL may be at most {MAX_URL_CHARS} characters"
            )));
        }
        let url = Url::parse(text)
            .map_err(|e| Refused(format!("`{}` is not a URL: {e}", shorten(text))))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refused(
                "a webhook URL may not carry a user name or password (receivers check the signature)"
                    .to_owned(),
            ));
        }
        if url.fragment().is_some() {
            return Err(Refused("a webhook URL may not have a #fragment".to_owned()));
        }
        let loopback_host = match url.host() {
            Some(Host::Ipv4(ip)) => {
                self.check_ip(&ip.to_string(), IpAddr::V4(ip))?;
                ip.is_loopback()
            }
            Some(Host::Ipv6(ip)) => {
                self.check_ip(&ip.to_string(), IpAddr::V6(ip))?;
                ip.is_loopback()
            }
            Some(Host::Domain(domain)) => {
                let domain = normalise(domain);
                domain == "localhost" || domain.ends_with(".localhost")
            }
            None => return Err(Refused("a webhook URL needs a host".to_owned())),
        };
        match url.scheme() {
            "https" => Ok(url),
            "http" if loopback_host && self.allow_loopback => Ok(url),
            "http" => Err(Refused(
                "a webhook URL must be https:// (plain http:// only to loopback in development)"
                    .to_owned(),
            )),
            other => Err(Refused(format!(
                "a webhook URL must be https://, not {other}://"
            ))),
        }
    }

    /// [`AddressPolicy::check_url`], then the host resolved and every address checked: what
    /// creating or enabling an endpoint requires.
    pub async fn check_endpoint(&self, text: &str) -> Result<Url, Refused> {
        let url = self.check_url(text)?;
        let Some(Host::Domain(domain)) = url.host() else {
            return Ok(url);
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let lookup = tokio::net::lookup_host((domain, port));
        let addresses: Vec<SocketAddr> = tokio::time::timeout(RESOLVE_TIMEOUT, lookup)
            .await
            .map_err(|_| Refused(format!("`{domain}` did not resolve in time")))?
            .map_err(|e| Refused(format!("`{domain}` does not resolve: {e}")))?
            .collect();
        self.check_resolved(domain, &addresses)?;
        Ok(url)
    }
}

fn shorten(text: &str) -> String {
    text.chars().take(64).collect()
}

/// The HTTP client's resolver: resolves with the system's resolver, then refuses the whole
/// answer when one address is not allowed (see the module's documentation).
#[derive(Clone, Debug)]
pub struct CheckedResolver {
    policy: Arc<AddressPolicy>,
}

impl CheckedResolver {
    /// A resolver applying `policy`.
    pub fn new(policy: Arc<AddressPolicy>) -> Self {
        Self { policy }
    }
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            policy.check_resolved(&host, &addresses)?;
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn addresses_are_classified() {
        for (address, class) in [
            ("93.184.216.34", Class::Public),
            ("2606:2800:220:1:248:1893:25c8:1946", Class::Public),
            ("127.0.0.1", Class::Loopback),
            ("127.8.9.10", Class::Loopback),
            ("::1", Class::Loopback),
            ("::ffff:127.0.0.1", Class::Loopback),
            ("10.1.2.3", Class::Private),
            ("172.16.0.1", Class::Private),
            ("192.168.1.1", Class::Private),
            ("100.64.0.1", Class::Private),
            ("fd00::1", Class::Private),
            ("::ffff:10.0.0.1", Class::Private),
            ("64:ff9b::a00:1", Class::Private),
            ("2002:c0a8:101::1", Class::Private),
        ] {
            assert_eq!(classify(ip(address)), class, "{address}");
        }
        for address in [
            "169.254.169.254",
            "fe80::1",
            "fec0::1",
            "0.0.0.0",
            "0.1.2.3",
            "::",
            "224.0.0.1",
            "255.255.255.255",
            "ff02::1",
            "192.0.2.1",
            "198.18.0.1",
            "2001:db8::1",
            "240.0.0.1",
            "::ffff:169.254.169.254",
            "::10.0.0.1",
        ] {
            assert!(
                matches!(classify(ip(address)), Class::Forbidden(_)),
                "{address}"
            );
        }
    }

    #[test]
    fn private_addresses_need_a_named_host_and_loopback_the_development_switch() {
        let strict = AddressPolicy::new(&["hooks.corp.example.".into()], false)
            .unwrap_or_else(|h| panic!("{h}"));
        assert!(
            strict
                .check_ip("hooks.corp.example", ip("10.0.0.5"))
                .is_ok()
        );
        assert!(
            strict
                .check_ip("HOOKS.corp.example.", ip("10.0.0.5"))
                .is_ok()
        );
        assert!(strict.check_ip("other.example", ip("10.0.0.5")).is_err());
        assert!(
            strict
                .check_ip("hooks.corp.example", ip("127.0.0.1"))
                .is_err()
        );
        assert!(
            strict
                .check_ip("hooks.corp.example", ip("169.254.169.254"))
                .is_err()
        );
        let development = AddressPolicy::new(&[], true).unwrap_or_else(|h| panic!("{h}"));
        assert!(development.check_ip("localhost", ip("127.0.0.1")).is_ok());
        assert!(development.check_ip("x", ip("10.0.0.5")).is_err());
        let mixed = [
            SocketAddr::new(ip("93.184.216.34"), 443),
            SocketAddr::new(ip("10.0.0.5"), 443),
        ];
        assert!(strict.check_resolved("rebind.example", &mixed).is_err());
        assert!(strict.check_resolved("empty.example", &[]).is_err());
    }

    #[test]
    fn urls_are_https_without_credentials_and_literals_are_checked() {
        let strict = AddressPolicy::new(&[], false).unwrap_or_else(|h| panic!("{h}"));
        assert!(strict.check_url("https://hooks.example.com/in?x=1").is_ok());
        for (url, why) in [
            ("http://hooks.example.com/in", "https"),
            ("ftp://hooks.example.com/in", "https"),
            ("https://user:pw@hooks.example.com/", "password"),
            ("https://hooks.example.com/#x", "fragment"),
            ("https://10.0.0.1/in", "private"),
            ("https://[::1]/in", "loopback"),
            ("https://169.254.169.254/latest", "link-local"),
            ("http://127.0.0.1:9/in", "loopback"),
            ("not a url", "not a URL"),
        ] {
            let error = strict.check_url(url).err().map(|e| e.0).unwrap_or_default();
            assert!(error.contains(why), "{url}: {error}");
        }
        let long = format!("https://hooks.example.com/{}", "a".repeat(MAX_URL_CHARS));
        assert!(strict.check_url(&long).is_err());
        let development = AddressPolicy::new(&[], true).unwrap_or_else(|h| panic!("{h}"));
        assert!(development.check_url("http://127.0.0.1:9/in").is_ok());
        assert!(development.check_url("http://localhost:9/in").is_ok());
        assert!(
            development
                .check_url("http://hooks.example.com/in")
                .is_err()
        );
    }

    #[tokio::test]
    async fn endpoints_are_checked_by_what_their_host_resolves_to() {
        let strict = AddressPolicy::new(&[], false).unwrap_or_else(|h| panic!("{h}"));
        let error = strict
            .check_endpoint("https://localhost/in")
            .await
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(error.contains("loopback"), "{error}");
        let resolver = CheckedResolver::new(Arc::new(strict));
        let name: Name = "localhost".parse().unwrap_or_else(|_| panic!("a name"));
        assert!(resolver.resolve(name).await.is_err());
        let development = AddressPolicy::new(&[], true).unwrap_or_else(|h| panic!("{h}"));
        let resolver = CheckedResolver::new(Arc::new(development));
        let name: Name = "localhost".parse().unwrap_or_else(|_| panic!("a name"));
        let addresses: Vec<SocketAddr> = resolver
            .resolve(name)
            .await
            .map(|a| a.collect())
            .unwrap_or_default();
        assert!(!addresses.is_empty() && addresses.iter().all(|a| a.ip().is_loopback()));
    }
}
