//! Requests of one kind that arrive at the same moment ("Next customer"
//! presses, accepts) run as one statement: one round trip and one commit
//! for the lot instead of one each. Under light load every request runs
//! alone, as soon as it comes; under heavy load a few lanes each take all
//! that has gathered while they were busy.
//!
//! The lot runs in one transaction, in the order of its requests, which are
//! sorted (by agent) so that two lots take agents' locks in the same order.
//! When the lot's statement fails as a whole (a deadlock with another
//! transition, a broken invariant in one request), nothing of it was
//! committed, and each request is run again alone, so it gets its own answer.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Mutex};

use crate::error::AppError;

/// Lots running at once, each on a connection of its own.
const LANES: usize = 2;
/// At most this many requests in one lot.
const MOST: usize = 64;

/// A lot's answers, in the order of its requests, one each.
pub(crate) type Lot<A> = Pin<Box<dyn Future<Output = Result<Vec<A>, AppError>> + Send>>;

/// Runs a lot.
pub(crate) type Run<Q, A> = fn(PgPool, Vec<Q>) -> Lot<A>;

type Reply<A> = oneshot::Sender<Result<A, AppError>>;
/// Requests waiting for a lane, shared by the lanes.
type Waiting<Q, A> = Arc<Mutex<mpsc::UnboundedReceiver<(Q, Reply<A>)>>>;

pub(crate) struct Gather<Q, A> {
    requests: mpsc::UnboundedSender<(Q, Reply<A>)>,
}

impl<Q, A> Clone for Gather<Q, A> {
    fn clone(&self) -> Self {
        Self { requests: self.requests.clone() }
    }
}

impl<Q, A> Gather<Q, A>
where
    Q: Ord + Copy + Send + 'static,
    A: Send + 'static,
{
    /// Starts the lanes; needs a Tokio runtime. They end when the last
    /// clone is dropped.
    pub(crate) fn start(pool: PgPool, run: Run<Q, A>) -> Self {
        let (requests, waiting) = mpsc::unbounded_channel();
        let waiting = Arc::new(Mutex::new(waiting));
        for _ in 0..LANES {
            tokio::spawn(lane(pool.clone(), waiting.clone(), run));
        }
        Self { requests }
    }

    pub(crate) async fn ask(&self, request: Q) -> Result<A, AppError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send((request, reply))
            .map_err(|_| AppError::Unavailable("The server is shutting down.".into()))?;
        // The lane always replies; a dropped reply means the runtime is
        // going away.
        answer.await.map_err(|_| AppError::Unavailable("The server is shutting down.".into()))?
    }
}

async fn lane<Q, A>(pool: PgPool, waiting: Waiting<Q, A>, run: Run<Q, A>)
where
    Q: Ord + Copy + Send + 'static,
    A: Send + 'static,
{
    loop {
        // One lane at a time waits for the next request, then takes along
        // everything queued behind it.
        let mut lot = {
            let mut waiting = waiting.lock().await;
            let Some(first) = waiting.recv().await else { return };
            let mut lot = vec![first];
            while lot.len() < MOST {
                match waiting.try_recv() {
                    Ok(next) => lot.push(next),
                    Err(_) => break,
                }
            }
            lot
        };
        lot.sort_by_key(|(request, _)| *request);
        let (requests, replies): (Vec<Q>, Vec<Reply<A>>) = lot.into_iter().unzip();
        let alone = requests.len() == 1;
        match run(pool.clone(), requests.clone()).await {
            Ok(answers) if answers.len() == replies.len() => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    // The asker may have gone (a closed page): the work is
                    // done and recorded all the same.
                    let _ = reply.send(Ok(answer));
                }
            }
            Ok(answers) => {
                tracing::error!(asked = replies.len(), answered = answers.len(), "a lot answered the wrong number of requests");
                for reply in replies {
                    let _ = reply.send(Err(AppError::Internal));
                }
            }
            Err(error) if alone => {
                if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(Err(error));
                }
            }
            Err(error) => {
                tracing::info!(%error, requests = requests.len(), "a lot failed as a whole; running its requests one by one");
                for (request, reply) in requests.into_iter().zip(replies) {
                    let answer = run(pool.clone(), vec![request]).await.and_then(|answers| {
                        answers.into_iter().next().ok_or(AppError::Internal)
                    });
                    let _ = reply.send(answer);
                }
            }
        }
    }
}
