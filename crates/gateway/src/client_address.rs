//! Who is on the other end: the client address that per-address limits count by.
//!
//! The TCP peer, unless it is one of `[gateway] trusted_proxies`: then the proxies in front
//! said who their client was in `X-Forwarded-For`, each appending the address it received the
//! request from. That header is read from the right (the hop nearest to us) and every address
//! that is itself a trusted proxy is skipped; the first one that is not is the client. What a
//! client writes into the header itself lies further left and is never reached, so a client
//! cannot choose its own address. Without trusted proxies (the default) the header is ignored.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The header proxies name their clients in.
const FORWARDED_FOR: &str = "x-forwarded-for";

/// `[gateway] trusted_proxies`, parsed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses addresses (`10.0.0.7`) and networks (`10.0.0.0/8`, `fd00::/8`); `Err` names the
    /// first entry that is neither.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| entry.to_owned())
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client of a request that came from `peer` with `headers` (see the module's
    /// documentation).
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        // Every X-Forwarded-For header, in order, as one list; the nearest hop last.
        let hops: Vec<&str> = headers
            .get_all(FORWARDED_FOR)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        for hop in hops.into_iter().rev() {
            // An entry that is not an address was not written by a proxy we trust: the last
            // address a trusted proxy vouched for is the client.
            let Ok(address) = hop.parse::<IpAddr>() else {
                return client;
            };
            client = canonical(address);
            if !self.trusts(client) {
                return client;
            }
        }
        client
    }
}

/// An IPv4 address written as IPv6 (`::ffff:10.0.0.1`, what a dual-stack socket reports) is
/// the IPv4 address, so that `10.0.0.0/8` matches it.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn forwarded(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(FORWARDED_FOR, HeaderValue::from_static(value));
        }
        headers
    }

    fn proxies(entries: &[&str]) -> TrustedProxies {
        let entries: Vec<String> = entries.iter().map(|e| (*e).to_owned()).collect();
        TrustedProxies::parse(&entries).unwrap_or_else(|bad| panic!("{bad}"))
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says() {
        let none = TrustedProxies::default();
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(
            none.client_address(ip("10.0.0.2"), &headers),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "192.0.2.1"]);
        // The client wrote a fake first entry; the load balancer appended the real address.
        let headers = forwarded(&["198.51.100.66, 203.0.113.9"]);
        assert_eq!(
            trusted.client_address(ip("10.0.0.2"), &headers),
            ip("203.0.113.9")
        );
        // Two proxies, two headers: the inner proxy's entry is skipped.
        let headers = forwarded(&["203.0.113.9", "192.0.2.1"]);
        assert_eq!(
            trusted.client_address(ip("::ffff:10.0.0.2"), &headers),
            ip("203.0.113.9")
        );
        // A peer that is not a proxy is the client, header or not.
        assert_eq!(
            trusted.client_address(ip("198.51.100.7"), &headers),
            ip("198.51.100.7")
        );
        // No header: the proxy itself (all its clients share its limits).
        assert_eq!(
            trusted.client_address(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2")
        );
        // Garbage left of a proxy's entry stops the walk at the last vouched-for address.
        let headers = forwarded(&["not-an-address, 192.0.2.1"]);
        assert_eq!(
            trusted.client_address(ip("10.0.0.2"), &headers),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn entries_are_addresses_or_networks() {
        let entries = ["10.0.0.0/8".to_owned(), "not a network".to_owned()];
        assert_eq!(
            TrustedProxies::parse(&entries).err().as_deref(),
            Some("not a network")
        );
        assert!(TrustedProxies::parse(&["::1".to_owned()]).is_ok());
    }
}
