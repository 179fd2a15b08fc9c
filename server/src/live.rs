//! This server's live parts: its id among the servers, and the hub that
//! hears every server's wake-ups (LISTEN/NOTIFY) and hands them to this
//! server's open pages.

use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::broadcast;
use uuid::Uuid;

use app::engine::events::{Notice, NOTIFY_CHANNEL};

/// This server's live parts, shared by its WebSockets.
#[derive(Clone)]
pub struct Live {
    pub instance: Uuid,
    pub notices: broadcast::Sender<Notice>,
    pub grace: Duration,
}

impl Live {
    pub fn new(grace: Duration) -> Self {
        let (notices, _) = broadcast::channel(4096);
        Self { instance: Uuid::new_v4(), notices, grace }
    }

    /// Starts forwarding every server's wake-ups to this server's pages.
    pub fn start(&self, pool: PgPool) -> tokio::task::JoinHandle<()> {
        tokio::spawn(listen(pool, self.notices.clone()))
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
