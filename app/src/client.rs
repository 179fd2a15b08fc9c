//! Where a request comes from: the address limits and lock-outs count by.
//! Behind proxies, each appends the address it heard from to
//! `X-Forwarded-For`, so only the entries the trusted proxies wrote count,
//! read from the right; anything further left was written by the client.

use std::net::IpAddr;

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
            return Self(peer);
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
        let addr = entries.get(index).and_then(|entry| entry.parse().ok());
        Self(addr.unwrap_or(peer))
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
