//! The background work every server runs: the sweeper of timers and
//! presence, and the metrics roller. Each is idempotent and locked row by
//! row in the database, so any number of servers may run them at once.

use std::time::Duration;

use tokio::time::{interval, MissedTickBehavior};

use app::conversation::signaling;
use app::engine::events::{Notice, Topic};
use app::engine::presence;
use app::engine::{control, line, offers, Engine};

use crate::live::Live;

/// Starts every worker of this server: the hub of wake-ups, the sweeper and
/// the roller. Abort the returned tasks to stop them.
pub fn start(engine: &Engine, live: &Live, short_abandon_seconds: f64) -> Vec<tokio::task::JoinHandle<()>> {
    vec![
        live.start(engine.pool().clone()),
        tokio::spawn(sweep(engine.clone(), live.instance, live.grace)),
        tokio::spawn(roll(engine.clone(), short_abandon_seconds)),
    ]
}

/// Once a second: beat, reap dead servers, expire offers, wrap-ups and long
/// waits, act on customers and agents lost past the grace period, and offer
/// anyone still waiting whom a missed wake-up left behind. Every
/// server runs it; the work is idempotent and locked row by row.
async fn sweep(engine: Engine, instance: uuid::Uuid, grace: Duration) {
    let mut tick = interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let grace = grace.as_secs_f64();
    loop {
        tick.tick().await;
        let result = async {
            presence::beat(&engine, instance).await?;
            presence::reap_dead_instances(&engine, (grace * 3.0).max(30.0)).await?;
            offers::expire_offers(&engine).await?;
            control::expire_wrap_ups(&engine).await?;
            signaling::purge_signals(&engine).await?;
            line::expire_long_waits(&engine).await?;
            presence::sweep_lost(&engine, grace).await?;
            offers::dispatch_waiting(&engine).await
        }
        .await;
        if let Err(error) = result {
            tracing::error!(?error, "sweep failed");
        }
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
