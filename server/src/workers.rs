//! The background work every server runs: the sweeper of timers and
//! presence, the mail outbox's sender, the metrics roller, and the cleanup of expired sign-in
//! sessions. Each is idempotent and locked row by row in the database, so
//! any number of servers may run them at once. A step that fails is logged
//! by name and tried again on the next tick; it never stops the others.

use std::future::Future;
use std::time::Duration;

use tokio::time::{interval, MissedTickBehavior};
use tower_sessions::ExpiredDeletion;
use tower_sessions_sqlx_store::PostgresStore;

use app::conversation::signaling;
use app::engine::events::{Notice, Topic};
use app::engine::presence;
use app::engine::{callback, control, line, offering, offers, supervise, Engine};
use app::error::AppError;

use crate::live::Live;

/// How often (rounds of a second) the sweeper forgets expired API token ids
/// and day-old idempotent answers.
const FORGET_EVERY: u32 = 60;

/// How often the sweeper reconciles presence with the sockets (it reads
/// every open session, so not every second).
const RECONCILE_EVERY: u32 = 10;
/// How often expired sign-in sessions are deleted.
const SESSION_CLEANUP: Duration = Duration::from_secs(600);

/// Starts every worker of this server: the hub of wake-ups and the keeper
/// of lines, the webhook sender, the sweeper, the roller and the session
/// cleanup. Abort the returned tasks to stop
/// them.
pub fn start(
    engine: &Engine,
    live: &Live,
    short_abandon_seconds: f64,
    mail: Option<app::mail::Mailer>,
    webhooks: crate::webhooks::Schedule,
    secrets: app::secrets::Secrets,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut workers = live.start(engine.pool().clone());
    workers.extend([
        tokio::spawn(crate::webhooks::send_forever(engine.pool().clone(), live.notices.clone(), webhooks, secrets)),
        tokio::spawn(sweep(engine.clone(), live.clone(), mail.is_some())),
        tokio::spawn(roll(engine.clone(), short_abandon_seconds)),
        tokio::spawn(clean_sessions(PostgresStore::new(engine.pool().clone()))),
    ]);
    if let Some(mailer) = mail {
        workers.push(tokio::spawn(send_mail(engine.pool().clone(), mailer)));
    }
    workers
}

/// Runs one step of a loop, logging it by name when it fails.
async fn step<T>(name: &'static str, work: impl Future<Output = Result<T, AppError>>) {
    if let Err(error) = work.await {
        tracing::error!(step = name, ?error, "background step failed");
    }
}

/// Once a second: beat, reap dead servers, expire offers, wrap-ups and long
/// waits, keep the first estimate each new customer is given, act on customers and agents lost past the grace period, and offer
/// anyone still waiting whom a missed wake-up left behind; every
/// RECONCILE_EVERY seconds, reconcile presence with the sockets; every
/// FORGET_EVERY, forget API token ids past their expiry.
async fn sweep(engine: Engine, live: Live, mail: bool) {
    let mut tick = interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let rules = live.presence;
    for round in 0u32.. {
        tick.tick().await;
        step("beat", presence::beat(&engine, live.instance)).await;
        step("reap dead servers", presence::reap_dead_instances(&engine, (rules.grace_seconds * 3.0).max(30.0))).await;
        if round % RECONCILE_EVERY == 0 {
            step("reconcile presence", presence::reconcile(&engine, live.instance, &live.held(), rules)).await;
        }
        step("expire offers", offers::expire_offers(&engine)).await;
        step("expire wrap-ups", control::expire_wrap_ups(&engine)).await;
        step("settle supervisors' parts", supervise::sweep(&engine)).await;
        step("places kept", callback::sweep_places(&engine)).await;
        if mail {
            step("your turn is near", app::customer::near::queue_emails(engine.pool())).await;
        }
        step("record first estimates", app::customer::view::record_first_estimates(engine.pool())).await;
        step("purge signals", signaling::purge_signals(&engine)).await;
        step("expire long waits", line::expire_long_waits(&engine)).await;
        step("act on the lost", presence::sweep_lost(&engine, rules.grace_seconds)).await;
        step("offer the waiting", offering::dispatch_waiting(&engine)).await;
        if round % FORGET_EVERY == 0 {
            step("forget API token ids and answers", app::integrations::clients::sweep(engine.pool())).await;
        }
    }
}

/// Once a second: send what the sweeper queued in the mail outbox. Its own
/// task, so a slow mail server holds up no timer.
async fn send_mail(pool: sqlx::PgPool, mailer: app::mail::Mailer) {
    let mut tick = interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        step("send mail", app::mail::send_outbox(&pool, &mailer)).await;
    }
}

/// Once a second: roll the event log up into the metrics' buckets, and tell
/// every server's admin pages when figures changed. Every server runs it;
/// one at a time rolls (the others skip while it does).
async fn roll(engine: Engine, short_abandon_seconds: f64) {
    let mut tick = interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match app::metrics::roll::roll(engine.pool(), short_abandon_seconds).await {
            Ok(0) => {}
            Ok(_) => engine.announce([Notice::about(Topic::Metrics, None)]),
            Err(error) => tracing::error!(?error, "metrics roll-up failed"),
        }
    }
}

/// Deletes expired sign-in sessions now and then.
async fn clean_sessions(store: PostgresStore) {
    let mut tick = interval(SESSION_CLEANUP);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(error) = store.delete_expired().await {
            tracing::error!(%error, "cannot delete expired sign-in sessions");
        }
    }
}
