//! Limits for the anonymous, kept in this server's memory: how fast help
//! requests may come from one address and overall, how many sockets one
//! customer or representative may hold, and how fast a conversation may
//! chat and signal. With several servers each counts its own share (a
//! client spread over `n` servers gets `n` times the rate).

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, NotUntil, Quota, RateLimiter};

use crate::client::ClientAddr;
use crate::engine::presence::Subject;
use crate::error::AppError;
use crate::states::HelpSessionId;

/// The configurable limits.
#[derive(Debug, Clone)]
pub struct LimitSettings {
    /// New help sessions (and callbacks) per minute from one address.
    pub help_per_address_per_minute: u32,
    /// New help sessions per minute from everyone, per server.
    pub help_per_minute: u32,
    /// Open sockets per customer (their waiting page's and their
    /// conversation's, both sides) or representative, per server.
    pub sockets_per_subject: usize,
    /// Requests per minute from one API client, per server.
    pub api_per_client_per_minute: u32,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self { help_per_address_per_minute: 20, help_per_minute: 600, sockets_per_subject: 16, api_per_client_per_minute: 600 }
    }
}

/// One IPv6 /48 (a site: it holds 65,536 /64s, each counted as one
/// address) gets at most this fraction of everyone's help requests, so it
/// cannot drain the overall bucket alone.
const PREFIX_SHARE: u32 = 4;

/// The /48 an IPv6 client is in; an IPv4 client is its own.
fn prefix(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & !((1u128 << 80) - 1))),
        v4 => v4,
    }
}

/// Chat messages: a burst of 10, then one every half second, per conversation.
const CHAT_BURST: u32 = 10;
const CHAT_PER_SECOND: u32 = 2;
/// Signaling (offers, answers, ICE candidates): a burst of 200, then 50 a
/// second, per conversation.
const SIGNAL_BURST: u32 = 200;
const SIGNAL_PER_SECOND: u32 = 50;
/// Keyed limiters forget idle keys once they hold this many.
const KEYS_KEPT: usize = 10_000;

#[derive(Clone)]
pub struct Limits(Arc<Inner>);

struct Inner {
    settings: LimitSettings,
    help_by_address: DefaultKeyedRateLimiter<IpAddr>,
    help_by_prefix: DefaultKeyedRateLimiter<IpAddr>,
    help_overall: DefaultDirectRateLimiter,
    chat: DefaultKeyedRateLimiter<HelpSessionId>,
    signals: DefaultKeyedRateLimiter<HelpSessionId>,
    api: DefaultKeyedRateLimiter<uuid::Uuid>,
    sockets: Mutex<HashMap<Subject, usize>>,
}

fn nonzero(value: u32) -> NonZeroU32 {
    NonZeroU32::new(value).unwrap_or(NonZeroU32::MIN)
}

fn too_many(message: &str, not_until: NotUntil<governor::clock::QuantaInstant>) -> AppError {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    AppError::TooManyRequests {
        message: format!("{message} Please try again in {seconds} s."),
        retry_after_seconds: seconds.max(1),
    }
}

fn keyed<K: std::hash::Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Result<(), NotUntil<governor::clock::QuantaInstant>> {
    if limiter.len() > KEYS_KEPT {
        limiter.retain_recent();
    }
    limiter.check_key(key)
}

impl Limits {
    pub fn new(settings: LimitSettings) -> Self {
        let per_minute = |n: u32| Quota::per_minute(nonzero(n)).allow_burst(nonzero(n));
        Self(Arc::new(Inner {
            help_by_address: RateLimiter::keyed(per_minute(settings.help_per_address_per_minute)),
            help_by_prefix: RateLimiter::keyed(per_minute(
                (settings.help_per_minute / PREFIX_SHARE).max(settings.help_per_address_per_minute),
            )),
            help_overall: RateLimiter::direct(per_minute(settings.help_per_minute)),
            chat: RateLimiter::keyed(Quota::per_second(nonzero(CHAT_PER_SECOND)).allow_burst(nonzero(CHAT_BURST))),
            signals: RateLimiter::keyed(Quota::per_second(nonzero(SIGNAL_PER_SECOND)).allow_burst(nonzero(SIGNAL_BURST))),
            api: RateLimiter::keyed(per_minute(settings.api_per_client_per_minute)),
            sockets: Mutex::new(HashMap::new()),
            settings,
        }))
    }

    /// A new help session (or callback) from `from`: 429 past its
    /// address's, its IPv6 /48's (a quarter of everyone's) or everyone's
    /// rate.
    pub fn help_request(&self, from: ClientAddr) -> Result<(), AppError> {
        keyed(&self.0.help_by_address, &from.0)
            .map_err(|wait| too_many("Too many requests for help from your network.", wait))?;
        keyed(&self.0.help_by_prefix, &prefix(from.0))
            .map_err(|wait| too_many("Too many requests for help from your network.", wait))?;
        self.0.help_overall.check().map_err(|wait| too_many("We are receiving too many requests for help right now.", wait))
    }

    /// A request from the API client `client`: 429 past its rate.
    pub fn api_request(&self, client: uuid::Uuid) -> Result<(), AppError> {
        keyed(&self.0.api, &client).map_err(|wait| too_many("This API client is sending too many requests.", wait))
    }

    /// A chat message in `help_session`'s conversation: 429 when it comes
    /// too fast.
    pub fn chat(&self, help_session: HelpSessionId) -> Result<(), AppError> {
        keyed(&self.0.chat, &help_session).map_err(|wait| too_many("You are sending messages too fast.", wait))
    }

    /// A signaling message in `help_session`'s conversation: dropped when
    /// it comes too fast.
    pub fn signal(&self, help_session: HelpSessionId) -> bool {
        keyed(&self.0.signals, &help_session).is_ok()
    }

    /// A socket for `subject`, held while it is open: 429 when they already
    /// hold the most allowed.
    pub fn socket(&self, subject: Subject) -> Result<SocketSlot, AppError> {
        let mut sockets = self.0.sockets.lock().map_err(|_| AppError::Internal)?;
        let open = sockets.entry(subject).or_insert(0);
        if *open >= self.0.settings.sockets_per_subject {
            return Err(AppError::TooManyRequests {
                message: "Too many open pages for this conversation. Close one and try again.".into(),
                retry_after_seconds: 5,
            });
        }
        *open += 1;
        Ok(SocketSlot { limits: self.clone(), subject })
    }
}

/// One open socket, counted until dropped.
pub struct SocketSlot {
    limits: Limits,
    subject: Subject,
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        if let Ok(mut sockets) = self.limits.0.sockets.lock() {
            if let Some(open) = sockets.get_mut(&self.subject) {
                *open -= 1;
                if *open == 0 {
                    sockets.remove(&self.subject);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_requests_are_limited_per_address_and_overall() {
        let limits = Limits::new(LimitSettings {
            help_per_address_per_minute: 3,
            help_per_minute: 5,
            sockets_per_subject: 2,
            ..LimitSettings::default()
        });
        let one = ClientAddr("192.0.2.1".parse().unwrap());
        let two = ClientAddr("192.0.2.2".parse().unwrap());
        for _ in 0..3 {
            limits.help_request(one).unwrap();
        }
        let refused = limits.help_request(one).unwrap_err();
        assert_eq!(refused.status_code(), 429);
        assert!(refused.retry_after().unwrap() >= 1);
        limits.help_request(two).unwrap();
        limits.help_request(two).unwrap();
        // Everyone's share is used up now, even for a new address.
        let three = ClientAddr("192.0.2.3".parse().unwrap());
        assert_eq!(limits.help_request(three).unwrap_err().status_code(), 429);
    }

    #[test]
    fn one_ipv6_48_cannot_drain_everyones_share() {
        let limits =
            Limits::new(LimitSettings { help_per_address_per_minute: 2, help_per_minute: 40, ..LimitSettings::default() });
        // Twenty /64s of one /48 (each its own address): a quarter of the
        // overall rate, then refused; another site still gets in.
        let taken = (0..20u16)
            .filter(|n| limits.help_request(ClientAddr(format!("2001:db8:1:{n:x}::").parse().unwrap())).is_ok())
            .count();
        assert_eq!(taken, 10);
        limits.help_request(ClientAddr("2001:db8:2::".parse().unwrap())).unwrap();
    }

    #[test]
    fn sockets_per_subject_are_capped_and_freed() {
        let limits = Limits::new(LimitSettings { sockets_per_subject: 2, ..LimitSettings::default() });
        let subject = Subject::Customer(HelpSessionId::from(uuid::Uuid::nil()));
        let a = limits.socket(subject).unwrap();
        let _b = limits.socket(subject).unwrap();
        assert!(limits.socket(subject).is_err());
        drop(a);
        assert!(limits.socket(subject).is_ok());
    }
}
