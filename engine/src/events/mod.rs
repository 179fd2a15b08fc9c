//! The append-only event log, typed, and the wake-up call to every server.
//!
//! Every transition appends its events inside its own transaction, as
//! [`Event`] values: the variant is the `kind` column, its fields the
//! `detail` JSON. The metrics roller reads them back as the same type, so a
//! renamed field is a compile error, not a figure that silently counts zero.
//!
//! The wake-up (a NOTIFY on [`NOTIFY_CHANNEL`]) is sent only after the
//! transaction has committed, by one background sender per engine, many
//! notices to a statement: a NOTIFY inside a transaction holds PostgreSQL's
//! global notification lock through the commit's disk flush, which would
//! make every transition in every server wait in one line. Sending after the
//! commit means a server that dies between the two loses the wake-up (never
//! the state): the sweeper's once-a-second pass makes any missed offer, and
//! pages refresh on their own at least every 15 s. The notices always come
//! from the events the transaction wrote (for the SQL functions, the event
//! rows they return), never rebuilt by hand.
//!
//! Three parts: what happened (`schema`: the [`Event`] and how it is
//! stored), who is told (`wakeups`: the [`Notice`] and its sender), and
//! here the engine's handle and the transaction that writes events and
//! announces them after its commit.

use std::ops::{Deref, DerefMut};

use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use tokio::sync::mpsc;

use crate::error::AppError;
use crate::states::{AgentId, HelpSessionId, QueueId};

mod schema;
mod wakeups;
pub mod webhook;

pub use schema::*;
pub use wakeups::*;

/// The engine's handle: the pool, and the sender of wake-ups. Cheap to
/// clone.
#[derive(Clone)]
pub struct Engine {
    pool: PgPool,
    announcer: mpsc::UnboundedSender<Notice>,
}

impl Engine {
    /// Starts the background sender of wake-ups; needs a Tokio runtime. It
    /// ends when the last clone of the engine is dropped.
    pub fn new(pool: PgPool) -> Self {
        let (announcer, pending) = mpsc::unbounded_channel();
        tokio::spawn(send_notices(pool.clone(), pending));
        Self { pool, announcer }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A transaction whose events are announced when it commits.
    pub async fn begin(&self) -> Result<Tx, AppError> {
        Ok(Tx { inner: self.pool.begin().await?, notices: Vec::new() })
    }

    /// Wakes every server about changes that have committed.
    pub fn announce(&self, notices: impl IntoIterator<Item = Notice>) {
        for notice in notices {
            // Fails only once the sender task is gone, when the runtime is
            // shutting down: nobody is left to wake.
            let _ = self.announcer.send(notice);
        }
    }
}

/// A transition's transaction: its events are announced after the commit.
pub struct Tx {
    inner: Transaction<'static, Postgres>,
    notices: Vec<Notice>,
}

impl Tx {
    /// Wakes a representative's desk after the commit about a change that
    /// has no event about them.
    pub fn wake(&mut self, help_session: HelpSessionId, agent: AgentId) {
        self.notices.push(Notice { kind: Topic::Desk, help_session: Some(help_session), queue: None, agent: Some(agent) });
    }

    /// Tells every socket of `agent`'s about this conversation, after the
    /// commit, to check it may still be open (their part in it ended).
    pub fn revoke(&mut self, help_session: HelpSessionId, agent: AgentId) {
        self.notices.push(Notice { kind: Topic::Access, help_session: Some(help_session), queue: None, agent: Some(agent) });
    }

    /// Events the database wrote in this transaction (the rows a SQL
    /// function returned), to be announced with it.
    pub fn wrote(&mut self, events: &[Logged]) {
        self.notices.extend(events.iter().map(Notice::from));
    }

    pub async fn commit(self, engine: &Engine) -> Result<(), AppError> {
        self.inner.commit().await?;
        engine.announce(self.notices);
        Ok(())
    }
}

impl Deref for Tx {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.inner
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.inner
    }
}

/// Appends an event; every server hears of it once the transaction commits.
pub async fn log(tx: &mut Tx, about: About, event: Event) -> Result<(), AppError> {
    let (kind, detail) = event.columns();
    sqlx::query!(
        "INSERT INTO events (kind, help_session_id, queue_id, representative_id, detail) VALUES ($1, $2, $3, $4, $5)",
        kind,
        about.help_session.map(HelpSessionId::uuid),
        about.queue.map(QueueId::uuid),
        about.agent.map(AgentId::uuid),
        detail,
    )
    .execute(&mut *tx.inner)
    .await?;
    tx.notices.push(Notice::of(&event, about));
    Ok(())
}
