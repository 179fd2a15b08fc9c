//! The append-only event log, and the wake-up call to every server.
//!
//! Each transition appends its event inside its own transaction. The wake-up
//! (a NOTIFY on [`NOTIFY_CHANNEL`]) is sent only after that transaction has
//! committed, by one background sender per engine, many notices to a
//! statement: a NOTIFY inside a transaction holds PostgreSQL's global
//! notification lock through the commit's disk flush, which would make every
//! transition in every server wait in one line. Sending after the commit
//! means a server that dies between the two loses the wake-up (never the
//! state): the sweeper's once-a-second pass makes any missed offer, and pages
//! refresh on their own at least every 30 s.

use std::ops::{Deref, DerefMut};

use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::gather::Gather;
use super::passes::Passes;
use super::{Accepted, Press};
use crate::error::AppError;

/// The channel servers LISTEN on.
pub const NOTIFY_CHANNEL: &str = "switchboard";

/// At most this many notices go in one NOTIFY statement.
const BATCH: usize = 500;

/// What a NOTIFY says: which event, about whom. Servers use it to decide
/// which of their open pages to update.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, PartialEq, Eq)]
pub struct Notice {
    pub kind: String,
    pub session: Option<Uuid>,
    pub queue: Option<Uuid>,
    pub agent: Option<Uuid>,
}

impl Notice {
    pub fn new(kind: &str, session: Option<Uuid>, queue: Option<Uuid>, agent: Option<Uuid>) -> Self {
        Self { kind: kind.to_owned(), session, queue, agent }
    }
}

/// The routing engine's handle: the pool, the sender of wake-ups, and the
/// lanes that run agents' presses and accepts together. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pool: PgPool,
    announcer: Announcer,
    pub(super) passes: Passes,
    pub(super) presses: Gather<Uuid, Press>,
    pub(super) accepts: Gather<(Uuid, Uuid), Accepted>,
}

impl Engine {
    /// Starts the background sender and lanes; needs a Tokio runtime. They
    /// end when the last clone of the engine is dropped.
    pub fn new(pool: PgPool) -> Self {
        let (notices, pending) = mpsc::unbounded_channel();
        tokio::spawn(send_notices(pool.clone(), pending));
        let announcer = Announcer(notices);
        Self {
            passes: Passes::new(super::offer_pass(pool.clone(), announcer.clone())),
            presses: Gather::start(pool.clone(), super::take_lot),
            accepts: Gather::start(pool.clone(), super::accept_lot),
            pool,
            announcer,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A transaction whose events are announced when it commits.
    pub async fn begin(&self) -> Result<Tx, AppError> {
        Ok(Tx { inner: self.pool.begin().await?, notices: Vec::new() })
    }

    /// Wakes every server about transitions that have committed.
    pub fn announce(&self, notices: impl IntoIterator<Item = Notice>) {
        self.announcer.announce(notices);
    }
}

/// The way to the background sender of wake-ups.
#[derive(Clone)]
pub(crate) struct Announcer(mpsc::UnboundedSender<Notice>);

impl Announcer {
    pub(crate) fn announce(&self, notices: impl IntoIterator<Item = Notice>) {
        for notice in notices {
            // Fails only once the sender task is gone, when the runtime is
            // shutting down: nobody is left to wake.
            let _ = self.0.send(notice);
        }
    }
}

/// A transition's transaction: its events are announced after the commit.
pub struct Tx {
    inner: Transaction<'static, Postgres>,
    notices: Vec<Notice>,
}

impl Tx {
    /// An event written by SQL of its own (the match functions) that is to
    /// be announced with this transaction.
    pub fn notice(&mut self, notice: Notice) {
        self.notices.push(notice);
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
pub async fn log(
    tx: &mut Tx,
    kind: &str,
    help_session: Option<Uuid>,
    queue: Option<Uuid>,
    agent: Option<Uuid>,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    sqlx::query!(
        "INSERT INTO events (kind, help_session_id, queue_id, representative_id, detail) VALUES ($1, $2, $3, $4, $5)",
        kind,
        help_session,
        queue,
        agent,
        detail,
    )
    .execute(&mut *tx.inner)
    .await?;
    tx.notices.push(Notice::new(kind, help_session, queue, agent));
    Ok(())
}

/// Sends waiting notices, as many as have gathered, in one statement on a
/// connection of its own. A wake-up needs no disk flush (losing one in a
/// crash is covered by the sweeper), so that connection commits
/// asynchronously and holds the notification lock only for a moment.
async fn send_notices(pool: PgPool, mut pending: mpsc::UnboundedReceiver<Notice>) {
    let options = pool.connect_options();
    let mut connection: Option<PgConnection> = None;
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = pending.recv().await {
        batch.push(first);
        while batch.len() < BATCH {
            match pending.try_recv() {
                Ok(notice) => batch.push(notice),
                Err(_) => break,
            }
        }
        let payloads: Vec<String> = batch
            .drain(..)
            .filter_map(|notice| serde_json::to_string(&notice).ok())
            .collect();
        if connection.is_none() {
            connection = match connect(&options).await {
                Ok(opened) => Some(opened),
                Err(error) => {
                    tracing::warn!(%error, lost = payloads.len(), "cannot connect to send wake-ups");
                    continue;
                }
            };
        }
        let Some(conn) = connection.as_mut() else { continue };
        let sent = sqlx::query("SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload")
            .bind(NOTIFY_CHANNEL)
            .bind(&payloads)
            .execute(&mut *conn)
            .await;
        if let Err(error) = sent {
            tracing::warn!(%error, lost = payloads.len(), "sending wake-ups failed; reconnecting");
            connection = None;
        }
    }
}

async fn connect(options: &sqlx::postgres::PgConnectOptions) -> Result<PgConnection, sqlx::Error> {
    let mut conn = PgConnection::connect_with(options).await?;
    sqlx::query("SET synchronous_commit TO off").execute(&mut conn).await?;
    Ok(conn)
}
