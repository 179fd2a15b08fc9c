//! This server's live parts: its id among the servers, the hub that hears
//! every server's wake-ups (LISTEN/NOTIFY) and hands them to this server's
//! open pages, the lines its waiting pages watch, and the presence rows its
//! sockets hold.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::broadcast;
use uuid::Uuid;

use app::engine::events::{Notice, NOTIFY_CHANNEL};
use app::engine::presence::Rules;

use crate::lines::Lines;

/// This server's live parts, shared by its WebSockets.
#[derive(Clone)]
pub struct Live {
    pub instance: Uuid,
    pub notices: broadcast::Sender<Notice>,
    pub presence: Rules,
    /// The presence rows (`connections`) this server's sockets hold now.
    held: Arc<Mutex<HashSet<Uuid>>>,
    /// The lines this server's waiting pages watch.
    pub lines: Lines,
}

/// A presence row held by an open socket; let go when dropped, so even a
/// socket whose close never reached the database lets go of it, and the
/// sweeper's reconciliation removes the row.
pub struct Held {
    live: Live,
    connection: Uuid,
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Ok(mut held) = self.live.held.lock() {
            held.remove(&self.connection);
        }
    }
}

impl Live {
    pub fn new(presence: Rules) -> Self {
        let (notices, _) = broadcast::channel(4096);
        Self { instance: Uuid::new_v4(), notices, presence, held: Arc::default(), lines: Lines::default() }
    }

    /// Marks a presence row as held by one of this server's sockets.
    pub fn hold(&self, connection: Uuid) -> Held {
        if let Ok(mut held) = self.held.lock() {
            held.insert(connection);
        }
        Held { live: self.clone(), connection }
    }

    /// The presence rows held now.
    pub fn held(&self) -> Vec<Uuid> {
        self.held.lock().map(|held| held.iter().copied().collect()).unwrap_or_default()
    }

    /// Starts forwarding every server's wake-ups to this server's pages,
    /// and keeping the lines they watch current.
    pub fn start(&self, pool: PgPool) -> Vec<tokio::task::JoinHandle<()>> {
        vec![self.lines.start(pool.clone(), &self.notices), tokio::spawn(listen(pool, self.notices.clone()))]
    }
}

/// Forwards every NOTIFY to this server's pages; reconnects if the
/// connection drops.
async fn listen(pool: PgPool, notices: broadcast::Sender<Notice>) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::error!(%error, "cannot LISTEN; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(error) = listener.listen(NOTIFY_CHANNEL).await {
            tracing::error!(%error, "cannot LISTEN; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        loop {
            match listener.recv().await {
                Ok(notification) => match serde_json::from_str::<Notice>(notification.payload()) {
                    Ok(notice) => {
                        let _ = notices.send(notice);
                    }
                    Err(error) => tracing::warn!(%error, "unreadable notification"),
                },
                Err(error) => {
                    tracing::warn!(%error, "LISTEN connection lost; reconnecting");
                    // Pages refresh on the next notice or tick; nothing is lost
                    // because every state is in the database.
                    break;
                }
            }
        }
    }
}
