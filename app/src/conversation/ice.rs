//! ICE servers for the browsers' peer connections (SPEC §6): STUN and TURN
//! from the configuration, with time-limited TURN credentials in coturn's
//! shared-secret scheme (`use-auth-secret`): the username is
//! `expiry:id`, the password base64(HMAC-SHA1(secret, username)).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::IceServer;

/// The configured ICE servers.
#[derive(Debug, Clone, Default)]
pub struct IceConfig {
    pub stun_urls: Vec<String>,
    pub turn_urls: Vec<String>,
    /// coturn's `static-auth-secret`; without it TURN is not offered.
    pub turn_secret: Option<String>,
    /// How long the TURN credentials handed out stay valid.
    pub turn_ttl_seconds: u64,
}

impl IceConfig {
    /// The servers for one page, with TURN credentials for `id` valid from
    /// `now` (unix seconds) for the configured time.
    pub fn servers_for(&self, id: &str, now: u64) -> Vec<IceServer> {
        let mut servers = Vec::new();
        if !self.stun_urls.is_empty() {
            servers.push(IceServer { urls: self.stun_urls.clone(), username: None, credential: None });
        }
        if let (false, Some(secret)) = (self.turn_urls.is_empty(), &self.turn_secret) {
            let username = format!("{}:{id}", now + self.turn_ttl_seconds);
            servers.push(IceServer {
                urls: self.turn_urls.clone(),
                credential: Some(turn_password(secret, &username)),
                username: Some(username),
            });
        }
        servers
    }
}

/// base64(HMAC-SHA1(secret, username)), as coturn checks it.
pub fn turn_password(secret: &str, username: &str) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_credentials_follow_the_coturn_scheme() {
        // Computed independently: printf '1700003600:alice' | openssl dgst -sha1 -hmac 'north' -binary | base64
        assert_eq!(turn_password("north", "1700003600:alice"), "wjwSXO2ch1B6VaLTLMy2Avn5O9o=");
        let config = IceConfig {
            stun_urls: vec!["stun:stun.example.com:3478".into()],
            turn_urls: vec!["turn:turn.example.com:3478?transport=udp".into()],
            turn_secret: Some("north".into()),
            turn_ttl_seconds: 3600,
        };
        let servers = config.servers_for("alice", 1_700_000_000);
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].username, None);
        assert_eq!(servers[1].username.as_deref(), Some("1700003600:alice"));
        assert_eq!(servers[1].credential.as_deref(), Some("wjwSXO2ch1B6VaLTLMy2Avn5O9o="));
    }

    #[test]
    fn no_secret_no_turn() {
        let config = IceConfig { turn_urls: vec!["turn:t.example.com".into()], ..Default::default() };
        assert!(config.servers_for("x", 0).is_empty());
    }
}
