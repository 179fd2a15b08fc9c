//! Offer passes, one queue at a time per server. A pass offers waiting
//! customers of a push queue until the customers or the eligible agents run
//! out. Everything that may make an offer possible (a customer entering, an
//! agent going READY, a seat freed) asks for a pass; asks that come while a
//! pass runs are all answered by the one pass that starts after it, so a
//! burst of asks costs a couple of passes, not one each.
//!
//! Passes run in a task of their own: a caller who goes away (a closed page)
//! never leaves a queue without its pass. Servers do not coordinate their
//! passes; the claims in the database (SKIP LOCKED) keep them apart.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;
use uuid::Uuid;

/// Runs the whole pass for a queue (until nothing more can be offered).
pub(crate) type Pass = Box<dyn Fn(Uuid) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

#[derive(Clone)]
pub(crate) struct Passes {
    queues: Arc<Mutex<HashMap<Uuid, Slot>>>,
    pass: Arc<Pass>,
}

struct Slot {
    /// Asks so far, numbered.
    asked: u64,
    /// Whether a pass task is running for the queue.
    running: bool,
    /// The number of the last ask answered by a finished pass.
    answered: watch::Sender<u64>,
}

impl Passes {
    pub(crate) fn new(pass: Pass) -> Self {
        Self { queues: Arc::default(), pass: Arc::new(pass) }
    }

    /// Returns once a pass that started after this call has finished.
    pub(crate) async fn run(&self, queue: Uuid) {
        let (ask, mut answered) = {
            let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
            let slot = queues.entry(queue).or_insert_with(|| Slot { asked: 0, running: false, answered: watch::channel(0).0 });
            slot.asked += 1;
            if !slot.running {
                slot.running = true;
                tokio::spawn(passes(self.clone(), queue));
            }
            (slot.asked, slot.answered.subscribe())
        };
        // Ends early only when the pass task is gone, with the runtime.
        let _ = answered.wait_for(|done| *done >= ask).await;
    }
}

/// Passes for `queue` until no ask is left unanswered.
async fn passes(this: Passes, queue: Uuid) {
    loop {
        let asked = {
            let queues = this.queues.lock().unwrap_or_else(PoisonError::into_inner);
            queues.get(&queue).map_or(0, |slot| slot.asked)
        };
        // In a task of its own: should the pass panic, the asks are still
        // answered and the queue gets passes again.
        if let Err(error) = tokio::spawn((this.pass)(queue)).await {
            tracing::error!(%error, %queue, "an offer pass ended abnormally");
        }
        let mut queues = this.queues.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(slot) = queues.get_mut(&queue) else { return };
        slot.answered.send_replace(asked);
        if slot.asked == asked {
            slot.running = false;
            return;
        }
    }
}
