//! Live positions at scale. This server reads each watched queue's whole
//! line in one query when something changed in it (gathered over WINDOW),
//! and hands the result to that queue's waiting pages, which each pick out
//! their own place; a page is re-read on its own only when something
//! happens to its customer. An agent's state change touches only the
//! queues they serve. When nothing changed, nothing is read or sent.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::{broadcast, watch};
use tokio::time::{interval, MissedTickBehavior};

use app::customer::view::{self, Line};
use app::engine::events::{EventKind, Notice};
use app::states::{AgentId, HelpSessionId, QueueId};

/// Changes within this window are read and pushed once.
const WINDOW: Duration = Duration::from_millis(300);
/// Every watched line is read again this often, in case a wake-up was
/// missed; pages hear of it only if something differs.
const REFRESH: Duration = Duration::from_secs(15);

/// The lines this server's waiting pages watch, and their customers.
#[derive(Clone, Default)]
pub struct Lines {
    inner: Arc<Mutex<Watched>>,
}

#[derive(Default)]
struct Watched {
    queues: HashMap<QueueId, Queue>,
    customers: HashMap<HelpSessionId, Customer>,
    /// Queues to read again at the end of the window.
    dirty: HashSet<QueueId>,
}

struct Queue {
    line: watch::Sender<Arc<Line>>,
    pages: usize,
}

struct Customer {
    /// Bumped when something happened to the customer.
    moved: watch::Sender<u64>,
    pages: usize,
}

/// One waiting page's subscription: its queue's line, and news of its
/// customer. Dropping it unsubscribes.
pub struct Watch {
    pub line: watch::Receiver<Arc<Line>>,
    pub moved: watch::Receiver<u64>,
    lines: Lines,
    queue: QueueId,
    help_session: HelpSessionId,
}

impl Watch {
    /// The queue whose line this watches.
    pub fn queue(&self) -> QueueId {
        self.queue
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let mut watched = self.lines.lock();
        if let Some(queue) = watched.queues.get_mut(&self.queue) {
            queue.pages -= 1;
            if queue.pages == 0 {
                watched.queues.remove(&self.queue);
            }
        }
        if let Some(customer) = watched.customers.get_mut(&self.help_session) {
            customer.pages -= 1;
            if customer.pages == 0 {
                watched.customers.remove(&self.help_session);
            }
        }
    }
}

impl Lines {
    fn lock(&self) -> MutexGuard<'_, Watched> {
        // A panic while holding the lock cannot leave the maps half-changed
        // in a way that matters: go on with them.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Subscribes a waiting page of `help_session` to `queue`'s line.
    pub fn watch(&self, queue: QueueId, help_session: HelpSessionId) -> Watch {
        let mut watched = self.lock();
        let new = !watched.queues.contains_key(&queue);
        let entry = watched.queues.entry(queue).or_insert_with(|| Queue { line: watch::channel(Arc::default()).0, pages: 0 });
        entry.pages += 1;
        let line = entry.line.subscribe();
        if new {
            watched.dirty.insert(queue);
        }
        let customer = watched.customers.entry(help_session).or_insert_with(|| Customer { moved: watch::channel(0).0, pages: 0 });
        customer.pages += 1;
        let moved = customer.moved.subscribe();
        Watch { line, moved, lines: self.clone(), queue, help_session }
    }

    /// Keeps the watched lines current from every server's wake-ups.
    pub fn start(&self, pool: PgPool, notices: &broadcast::Sender<Notice>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(keep(self.clone(), pool, notices.subscribe()))
    }

    /// Something happened to a customer: their pages look again.
    fn moved(&self, help_session: HelpSessionId) {
        if let Some(customer) = self.lock().customers.get(&help_session) {
            customer.moved.send_modify(|count| *count += 1);
        }
    }

    fn dirty(&self, queues: impl IntoIterator<Item = QueueId>) {
        let mut watched = self.lock();
        for queue in queues {
            if watched.queues.contains_key(&queue) {
                watched.dirty.insert(queue);
            }
        }
    }

    /// Everything may have changed (wake-ups were missed).
    fn all_dirty(&self) {
        let mut watched = self.lock();
        let queues: Vec<QueueId> = watched.queues.keys().copied().collect();
        watched.dirty.extend(queues);
        for customer in watched.customers.values() {
            customer.moved.send_modify(|count| *count += 1);
        }
    }

    async fn heard(&self, pool: &PgPool, notice: Notice) {
        if notice.kind.conversation_only() {
            return;
        }
        if let Some(help_session) = notice.help_session {
            self.moved(help_session);
        }
        if let Some(queue) = notice.queue {
            self.dirty([queue]);
        } else if let (true, Some(agent)) = (notice.is(EventKind::AgentState), notice.agent) {
            // Only the lines of the queues they serve, and only if watched.
            if !self.lock().queues.is_empty() {
                match queues_of(pool, agent).await {
                    Ok(queues) => self.dirty(queues),
                    Err(error) => {
                        tracing::warn!(%error, "cannot read an agent's queues; refreshing every line");
                        self.all_dirty();
                    }
                }
            }
        }
    }

    /// Reads every dirty watched line and hands it to its pages (who wake
    /// only if it differs from what they have).
    async fn publish(&self, pool: &PgPool) {
        let dirty: Vec<QueueId> = std::mem::take(&mut self.lock().dirty).into_iter().collect();
        for queue in dirty {
            match view::line(pool, queue).await {
                Ok(line) => {
                    if let Some(watched) = self.lock().queues.get(&queue) {
                        watched.line.send_if_modified(|current| {
                            let changed = **current != line;
                            if changed {
                                *current = Arc::new(line);
                            }
                            changed
                        });
                    }
                }
                Err(error) => {
                    tracing::warn!(?error, %queue, "cannot read a line; trying again");
                    self.lock().dirty.insert(queue);
                }
            }
        }
    }
}

async fn queues_of(pool: &PgPool, agent: AgentId) -> Result<Vec<QueueId>, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT queue_id AS "queue_id: QueueId" FROM queue_members WHERE representative_id = $1"#, agent.uuid())
        .fetch_all(pool)
        .await
}

/// The keeper: hears wake-ups, reads dirty lines once per window, and
/// everything watched once per REFRESH.
async fn keep(lines: Lines, pool: PgPool, mut notices: broadcast::Receiver<Notice>) {
    let mut window = interval(WINDOW);
    window.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut refresh = interval(REFRESH);
    refresh.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            notice = notices.recv() => match notice {
                Ok(notice) => lines.heard(&pool, notice).await,
                Err(broadcast::error::RecvError::Lagged(_)) => lines.all_dirty(),
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = window.tick() => lines.publish(&pool).await,
            _ = refresh.tick() => {
                let mut watched = lines.lock();
                let queues: Vec<QueueId> = watched.queues.keys().copied().collect();
                watched.dirty.extend(queues);
            }
        }
    }
}
