//! Where a request comes from: the address limits and lock-outs count by.
//! Behind proxies, each appends the address it heard from to
//! `X-Forwarded-For`, so only the entries the trusted proxies wrote count,
//! read from the right; anything further left was written by the client.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::http::HeaderMap;

/// The client's address, worked out once per request by the server's
/// outermost layer and kept in the request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The address `trusted_proxies` hops from us: the peer itself with none
    /// trusted, else the entry the outermost trusted proxy appended.
    pub fn of(headers: &HeaderMap, peer: IpAddr, trusted_proxies: usize) -> Self {
        if trusted_proxies == 0 {
            return Self(counted(peer));
        }
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        // Fewer entries than proxies: every entry is a trusted proxy's.
        let index = entries.len().saturating_sub(trusted_proxies);
        let addr = entries.get(index).and_then(|entry| parse_entry(entry));
        Self(counted(addr.unwrap_or(peer)))
    }
}

/// An `X-Forwarded-For` entry: an address, with or without a port
/// (`203.0.113.7:4711`, `[2001:db8::1]:443`, `[2001:db8::1]`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
        .or_else(|| entry.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

/// One client as limits and lock-outs count them: an IPv4 address, or an
/// IPv6 /64 (its network address), since one household or phone is handed
/// a whole /64 and can pick any address in it. An IPv4-mapped IPv6 address
/// counts as its IPv4 one.
fn counted(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        },
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme's
/// name in any case, as RFC 9110 has it).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl std::fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn only_the_trusted_hops_count_from_the_right() {
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        // The client claims 1.1.1.1; our proxy appended what it saw.
        let headers = forwarded(&["1.1.1.1, 203.0.113.7"]);
        assert_eq!(ClientAddr::of(&headers, peer, 0).0, peer);
        assert_eq!(ClientAddr::of(&headers, peer, 1).to_string(), "203.0.113.7");
        assert_eq!(ClientAddr::of(&headers, peer, 2).to_string(), "1.1.1.1");
        // Two headers are one list.
        let split = forwarded(&["1.1.1.1", "203.0.113.7"]);
        assert_eq!(ClientAddr::of(&split, peer, 1).to_string(), "203.0.113.7");
        // Missing or garbage: the peer.
        assert_eq!(ClientAddr::of(&HeaderMap::new(), peer, 1).0, peer);
        assert_eq!(ClientAddr::of(&forwarded(&["nonsense"]), peer, 1).0, peer);
    }

    #[test]
    fn ports_are_stripped_and_an_ipv6_64_is_one_client() {
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let of = |entry: &str| ClientAddr::of(&forwarded(&[entry]), peer, 1).to_string();
        assert_eq!(of("203.0.113.7:4711"), "203.0.113.7");
        assert_eq!(of("[2001:db8:1:2:aaaa::1]:443"), "2001:db8:1:2::");
        assert_eq!(of("[2001:db8:1:2::5]"), "2001:db8:1:2::");
        // Two addresses of one /64 are one client; the next /64 is another.
        assert_eq!(of("2001:db8:1:2:ffff:1:2:3"), of("2001:db8:1:2::9"));
        assert_ne!(of("2001:db8:1:2::9"), of("2001:db8:1:3::9"));
        assert_eq!(of("::ffff:203.0.113.7"), "203.0.113.7");
        // Without proxies, the peer is counted the same way.
        assert_eq!(ClientAddr::of(&HeaderMap::new(), "2001:db8::7".parse().unwrap(), 0).to_string(), "2001:db8::");
    }

    #[test]
    fn the_bearer_scheme_is_any_case() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("authorization", value.parse().unwrap());
            bearer(&headers).map(str::to_owned)
        };
        assert_eq!(with("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(with("bearer  abc ").as_deref(), Some("abc"));
        assert_eq!(with("BEARER abc").as_deref(), Some("abc"));
        assert_eq!(with("Basic abc"), None);
        assert_eq!(with("Bearer "), None);
    }
}
