//! Sending webhooks. Every server runs a sender: woken by the engine's
//! notices (an event was appended) and once a second, it claims deliveries
//! that are due with `FOR UPDATE SKIP LOCKED` (so servers never send one
//! twice at once), posts each to its endpoint signed per Standard Webhooks,
//! records the attempt, and schedules a retry (with jitter) after a timeout,
//! a connection error, 429 (no sooner than its `Retry-After`) or 5xx. A 410
//! disables the endpoint; so does failing for five days. Each endpoint has
//! at most 4 deliveries in flight from a server (1 after a failure), so a
//! receiver that answers slowly or never holds up no other. A claim is a lease:
//! a server that dies mid-send leaves the delivery to be tried again once
//! the lease lapses.
//!
//! Receivers are reached only on public addresses unless the admin allows
//! private ones; link-local and cloud metadata addresses never. Redirects
//! are not followed, an attempt takes at most the timeout, and at most 4 KiB
//! of an answer is read.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::sync::broadcast;
use uuid::Uuid;

use app::engine::events::Notice;
use app::error::AppError;
use app::integrations::webhooks::{allow_private, signature};
use app::secrets::{Column, Secrets};

/// At most this much of a receiver's answer is read (and kept).
const ANSWER_BYTES: usize = 4096;
/// An endpoint failing this long without a success is disabled.
const GIVE_UP_AFTER: time::Duration = time::Duration::days(5);

/// When to try again and how long to wait for an answer.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// After the n-th failed attempt, wait `retries[n - 1]` (give or take a
    /// tenth); past the last, the delivery has failed.
    pub retries: Vec<Duration>,
    pub timeout: Duration,
}

impl Default for Schedule {
    /// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h: ten attempts
    /// over about three days.
    fn default() -> Self {
        let hours = |h: u64| Duration::from_secs(h * 3600);
        Self {
            retries: vec![
                Duration::from_secs(5),
                Duration::from_secs(300),
                Duration::from_secs(1800),
                hours(2),
                hours(5),
                hours(10),
                hours(14),
                hours(20),
                hours(24),
            ],
            timeout: Duration::from_secs(15),
        }
    }
}

impl Schedule {
    /// A claim lapses after two timeouts: long past any attempt's end.
    fn lease(&self) -> Duration {
        self.timeout * 2
    }
}

/// Deliveries one server has in flight to one endpoint, at most. After a
/// failed attempt the endpoint gets one at a time, until an attempt
/// succeeds: a slow or failing receiver holds at most these, and every
/// other receiver's deliveries go on.
const PER_ENDPOINT: usize = 4;
/// Deliveries one server has in flight, at most.
const IN_FLIGHT: usize = 64;

/// This server's deliveries in flight by endpoint, and how many each may have.
#[derive(Default)]
struct Slots {
    busy: HashMap<Uuid, usize>,
    limit: HashMap<Uuid, usize>,
}

impl Slots {
    /// The endpoints this server knows of and how many more each may take
    /// now (an endpoint not listed: [`PER_ENDPOINT`]).
    fn free(&self) -> (Vec<Uuid>, Vec<i32>) {
        let known: std::collections::HashSet<&Uuid> = self.busy.keys().chain(self.limit.keys()).collect();
        known
            .into_iter()
            .map(|endpoint| {
                let limit = self.limit.get(endpoint).copied().unwrap_or(PER_ENDPOINT);
                let busy = self.busy.get(endpoint).copied().unwrap_or(0);
                (*endpoint, limit.saturating_sub(busy) as i32)
            })
            .unzip()
    }

    fn taken(&mut self, endpoint: Uuid) {
        *self.busy.entry(endpoint).or_default() += 1;
    }

    /// A slot is back; a failure narrows the endpoint to one, a success
    /// widens it again.
    fn finished(&mut self, endpoint: Uuid, succeeded: bool) {
        if let Some(busy) = self.busy.get_mut(&endpoint) {
            *busy = busy.saturating_sub(1);
            if *busy == 0 {
                self.busy.remove(&endpoint);
            }
        }
        let limit = self.limit.entry(endpoint).or_insert(PER_ENDPOINT);
        *limit = if succeeded { (*limit + 1).min(PER_ENDPOINT) } else { 1 };
        if *limit == PER_ENDPOINT {
            self.limit.remove(&endpoint);
        }
    }
}

/// The sender: runs until aborted. It claims what is due as slots allow,
/// and claims again each time a delivery finishes (its slot refilled at
/// once), on every notice and once a second.
pub async fn send_forever(pool: PgPool, notices: broadcast::Sender<Notice>, schedule: Schedule, secrets: Secrets) {
    let mut woken = notices.subscribe();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut slots = Slots::default();
    let mut flying = tokio::task::JoinSet::new();
    loop {
        match claim(&pool, &schedule, &slots, IN_FLIGHT - flying.len()).await {
            Ok(None) => {}
            Ok(Some((claimed, client, allow_private))) => {
                for (body, delivery) in claimed {
                    slots.taken(delivery.endpoint_id);
                    let (pool, schedule, client, secrets) = (pool.clone(), schedule.clone(), client.clone(), secrets.clone());
                    flying.spawn(async move {
                        let outcome = attempt(&client, &delivery, body, allow_private, &secrets).await;
                        let succeeded = outcome.status.is_some_and(|status| (200..300).contains(&status));
                        if let Err(error) = record(&pool, &schedule, &delivery, outcome).await {
                            tracing::warn!(%error, delivery = %delivery.id, "recording a webhook attempt");
                        }
                        (delivery.endpoint_id, succeeded)
                    });
                }
            }
            Err(error) => tracing::warn!(%error, "sending webhooks"),
        }
        tokio::select! {
            _ = tick.tick() => {}
            notice = woken.recv() => {
                if let Err(broadcast::error::RecvError::Closed) = notice {
                    return;
                }
            }
            Some(done) = flying.join_next() => {
                if let Ok((endpoint, succeeded)) = done {
                    slots.finished(endpoint, succeeded);
                }
            }
        }
    }
}

/// A delivery claimed for an attempt.
struct Claimed {
    id: Uuid,
    endpoint_id: Uuid,
    url: String,
    /// As stored: sealed.
    secret: String,
    attempts: i32,
}

/// Claims what is due, at most `room` and no more per endpoint than its
/// free slots, oldest first, each with its body; with the client to send
/// them (`None`: nothing to send).
async fn claim(
    pool: &PgPool,
    schedule: &Schedule,
    slots: &Slots,
    room: usize,
) -> Result<Option<(Vec<(Option<String>, Claimed)>, reqwest::Client, bool)>, AppError> {
    if room == 0 {
        return Ok(None);
    }
    let (endpoints, free) = slots.free();
    let claimed = sqlx::query_as!(
        Claimed,
        r#"WITH slots AS (SELECT * FROM unnest($3::uuid[], $4::int[]) AS s(endpoint_id, free)),
                ranked AS (
                    SELECT d.id, d.endpoint_id, d.next_attempt_at,
                           row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_attempt_at, d.id) AS n
                      FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
                     WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND e.enabled),
                wanted AS (
                    SELECT r.id FROM ranked r LEFT JOIN slots s ON s.endpoint_id = r.endpoint_id
                     WHERE r.n <= coalesce(s.free, $5)
                     ORDER BY r.next_attempt_at LIMIT $1),
                -- Locked, and looked at again once locked: another server
                -- may have claimed it meanwhile.
                due AS (
                    SELECT d.id FROM webhook_deliveries d
                     WHERE d.id IN (SELECT id FROM wanted) AND d.status = 'pending' AND d.next_attempt_at <= now()
                       FOR UPDATE SKIP LOCKED)
           UPDATE webhook_deliveries d
              SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
             FROM due, webhook_endpoints e
            WHERE d.id = due.id AND e.id = d.endpoint_id
           RETURNING d.id, d.endpoint_id, e.url, e.secret, d.attempts"#,
        room as i64,
        schedule.lease().as_secs_f64(),
        &endpoints,
        &free,
        PER_ENDPOINT as i64
    )
    .fetch_all(pool)
    .await?;
    if claimed.is_empty() {
        return Ok(None);
    }
    let ids: Vec<Uuid> = claimed.iter().map(|delivery| delivery.id).collect();
    let mut bodies = app::integrations::webhooks::bodies(pool, &ids).await?;
    let claimed = claimed.into_iter().map(|delivery| (bodies.remove(&delivery.id), delivery)).collect();
    // Read only when there is something to send: this runs every second
    // and after every delivery.
    let allow_private = allow_private(pool).await?;
    let client = client(allow_private, schedule.timeout)?;
    Ok(Some((claimed, client, allow_private)))
}

/// How one attempt went.
struct Outcome {
    status: Option<u16>,
    retry_after: Option<Duration>,
    error: Option<String>,
    took: Duration,
}

async fn attempt(
    client: &reqwest::Client,
    delivery: &Claimed,
    body: Option<String>,
    allow_private: bool,
    secrets: &Secrets,
) -> Outcome {
    let started = Instant::now();
    let failed = |error: String| Outcome { status: None, retry_after: None, error: Some(error), took: started.elapsed() };
    let Some(body) = body else {
        return failed("its event does not render as a payload (logged)".into());
    };
    if let Err(refused) = check_literal_address(&delivery.url, allow_private) {
        return failed(refused);
    }
    let id = format!("msg_{}", delivery.id.simple());
    let timestamp = OffsetDateTime::now_utc().unix_timestamp();
    let Ok(secret) = secrets.open(Column::WebhookSecret, &delivery.secret) else {
        return failed("the endpoint's secret does not open with this server's SWITCHBOARD_SECRET_KEY".into());
    };
    let signed = match signature(&secret, &id, timestamp, body.as_bytes()) {
        Ok(signed) => signed,
        Err(_) => return failed("the endpoint's secret is not a whsec_ base64 key".into()),
    };
    let sent = client
        .post(&delivery.url)
        .header("content-type", "application/json")
        .header("user-agent", "Switchboard-Webhooks/1")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signed)
        .body(body)
        .send()
        .await;
    let mut response = match sent {
        Ok(response) => response,
        Err(error) => return failed(describe(&error)),
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    // Keep the start of the answer, for the admin to read.
    let mut answer = Vec::new();
    while answer.len() < ANSWER_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => answer.extend_from_slice(&chunk[..chunk.len().min(ANSWER_BYTES - answer.len())]),
            _ => break,
        }
    }
    let error = (!(200..300).contains(&status))
        .then(|| String::from_utf8_lossy(&answer).trim().to_owned())
        .filter(|text| !text.is_empty());
    Outcome { status: Some(status), retry_after, error, took: started.elapsed() }
}

/// A transport error, said plainly (with the refusal of a private address
/// the resolver gave).
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() { "timed out".to_owned() } else { error.to_string() };
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}

/// Writes the attempt and what follows from it, in one transaction.
async fn record(pool: &PgPool, schedule: &Schedule, delivery: &Claimed, outcome: Outcome) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "INSERT INTO webhook_attempts (delivery_id, status_code, error, duration_ms) VALUES ($1, $2, $3, $4)",
        delivery.id,
        outcome.status.map(|status| status as i16),
        outcome.error.as_deref().or(outcome.status.is_none().then_some("no answer")),
        i32::try_from(outcome.took.as_millis()).unwrap_or(i32::MAX)
    )
    .execute(&mut *tx)
    .await?;
    let status = outcome.status.unwrap_or(0);
    if (200..300).contains(&status) {
        sqlx::query!("UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now() WHERE id = $1", delivery.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query!("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1", delivery.endpoint_id)
            .execute(&mut *tx)
            .await?;
        return Ok(tx.commit().await?);
    }
    if status == 410 {
        sqlx::query!(
            "UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'The receiver answered 410 Gone on ' || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC.'
              WHERE id = $1",
            delivery.endpoint_id
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!("UPDATE webhook_deliveries SET status = 'failed' WHERE id = $1", delivery.id).execute(&mut *tx).await?;
        return Ok(tx.commit().await?);
    }
    // Timeouts, refused connections, 429 and 5xx are worth another try;
    // another 4xx says the request itself is refused.
    let retryable = status == 0 || status == 429 || status >= 500;
    let next = schedule.retries.get(delivery.attempts.max(1) as usize - 1).filter(|_| retryable).map(|delay| {
        let jittered = delay.mul_f64(rand::thread_rng().gen_range(0.9..1.1));
        jittered.max(outcome.retry_after.unwrap_or_default())
    });
    match next {
        Some(delay) => {
            sqlx::query!(
                "UPDATE webhook_deliveries SET next_attempt_at = now() + make_interval(secs => $2) WHERE id = $1",
                delivery.id,
                delay.as_secs_f64()
            )
            .execute(&mut *tx)
            .await?;
        }
        None => {
            sqlx::query!("UPDATE webhook_deliveries SET status = 'failed' WHERE id = $1", delivery.id).execute(&mut *tx).await?;
        }
    }
    sqlx::query!(
        "UPDATE webhook_endpoints
            SET failing_since = coalesce(failing_since, now()),
                enabled = enabled AND coalesce(failing_since, now()) > now() - make_interval(secs => $2),
                disabled_reason = CASE WHEN coalesce(failing_since, now()) > now() - make_interval(secs => $2) THEN disabled_reason
                                       ELSE 'Every delivery failed for 5 days, since ' || to_char(failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC.' END
          WHERE id = $1",
        delivery.endpoint_id,
        GIVE_UP_AFTER.as_seconds_f64()
    )
    .execute(&mut *tx)
    .await?;
    Ok(tx.commit().await?)
}

/// The client for a batch: no proxy, no redirects, the timeout, and a
/// resolver that refuses addresses receivers may not be on.
fn client(allow_private: bool, timeout: Duration) -> Result<reqwest::Client, AppError> {
    reqwest::Client::builder()
        // Straight to the receiver: a proxy from the environment would
        // resolve names itself, past the guard.
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .dns_resolver(Arc::new(Guarded { allow_private }))
        .build()
        .map_err(|error| {
            tracing::error!(%error, "building the webhook client");
            AppError::Internal
        })
}

/// Refuses a URL whose host is an IP address receivers may not be on.
fn check_literal_address(url: &str, allow_private: bool) -> Result<(), String> {
    let Ok(parsed) = reqwest::Url::parse(url) else { return Err("the URL does not parse".into()) };
    let host = parsed.host_str().unwrap_or_default();
    let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() else { return Ok(()) };
    refusal(ip, allow_private).map_or(Ok(()), |why| Err(format!("refused {ip}: {why}")))
}

/// The IPv4 address an IPv6 address carries, when it carries one: mapped
/// (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`)
/// or 6to4 (`2002::/16`). A receiver is judged by it.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let low = u128::from(v6) as u32;
    if let Some(v4) = v6.to_ipv4_mapped() {
        Some(v4)
    } else if (s[..6] == [0; 6] && !(s[6] == 0 && s[7] <= 1)) || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        Some(Ipv4Addr::from(low))
    } else if s[0] == 0x2002 {
        Some(Ipv4Addr::from((u32::from(s[1]) << 16) | u32::from(s[2])))
    } else {
        None
    }
}

/// Why a receiver may not be at `ip`, if it may not.
pub fn refusal(ip: IpAddr, allow_private: bool) -> Option<&'static str> {
    let ip = match ip {
        IpAddr::V6(v6) => embedded_v4(v6).map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    let (never, private) = match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            (
                v4.is_link_local()
                    || v4.is_unspecified()
                    || v4.is_multicast()
                    || v4.is_broadcast()
                    || a == 0
                    // Alibaba Cloud's metadata service.
                    || v4.octets() == [100, 100, 100, 200]
                    // Benchmarking (198.18.0.0/15) and reserved (240.0.0.0/4).
                    || (a == 198 && (18..20).contains(&b))
                    || a >= 240,
                v4.is_loopback() || v4.is_private() || (a == 100 && (64..128).contains(&b)),
            )
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            // fd00:ec2::254 is the cloud metadata service's IPv6 address.
            let metadata = v6.segments()[..2] == [0xfd00, 0x0ec2];
            (
                (first & 0xffc0) == 0xfe80 || v6.is_unspecified() || v6.is_multicast() || metadata,
                v6.is_loopback() || (first & 0xfe00) == 0xfc00,
            )
        }
    };
    if never {
        Some("link-local, metadata and unspecified addresses are never receivers")
    } else if private && !allow_private {
        Some("a private address (an admin may allow private receivers)")
    } else {
        None
    }
}

/// A resolver that drops the addresses receivers may not be on, and fails
/// when none is left.
struct Guarded {
    allow_private: bool,
}

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> =
                found.iter().copied().filter(|addr| refusal(addr.ip(), allow_private).is_none()).collect();
            if allowed.is_empty() {
                let why = found.first().and_then(|addr| refusal(addr.ip(), allow_private)).unwrap_or("no address");
                return Err(format!("refused {host}: {why}").into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receivers_are_kept_off_addresses_they_may_not_be_on() {
        let ip = |raw: &str| raw.parse::<IpAddr>().unwrap();
        for public in ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"] {
            assert_eq!(refusal(ip(public), false), None, "{public}");
        }
        for private in ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "100.64.0.1", "::1", "fd12::1", "::ffff:10.0.0.1"] {
            assert!(refusal(ip(private), false).is_some_and(|why| why.contains("private")), "{private}");
            assert_eq!(refusal(ip(private), true), None, "{private} when allowed");
        }
        for never in [
            "169.254.169.254",
            "0.0.0.0",
            "fe80::1",
            "fd00:ec2::254",
            "224.0.0.1",
            "::ffff:169.254.169.254",
            "100.100.100.200",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "::169.254.169.254",
            "198.18.0.1",
            "198.19.255.254",
            "240.0.0.1",
        ] {
            assert!(refusal(ip(never), true).is_some_and(|why| why.contains("never")), "{never}");
        }
        // A private IPv4 address inside NAT64, 6to4 or IPv4-compatible form.
        for private in ["64:ff9b::a00:1", "2002:a00:1::1", "::10.0.0.1"] {
            assert!(refusal(ip(private), false).is_some_and(|why| why.contains("private")), "{private}");
        }
        assert!(check_literal_address("http://[::1]:8080/hooks", false).is_err());
        assert!(check_literal_address("http://receiver.example/hooks", false).is_ok(), "names are checked when resolved");
    }

    #[test]
    fn the_default_schedule_spans_three_days() {
        let total: Duration = Schedule::default().retries.iter().sum();
        assert!(total > Duration::from_secs(3 * 86_400) && total < Duration::from_secs(4 * 86_400), "{total:?}");
    }
}
