//! The engine (SPEC §3–4): every transition of a help session and of an
//! agent, as one transaction that also appends its events; the wake-ups to
//! every server follow the commit. Read it from the bottom up:
//!
//! - `events`: the typed event log, the engine handle, transactions whose
//!   events are announced after they commit.
//! - `seats` (+ `seats.sql`): an agent's capacity per channel, the one
//!   place seats are taken and freed.
//! - `line`: entering the line (admission) and leaving it (cancel, abandon,
//!   maximum wait).
//! - `offers` (+ `offers.sql`): push: offers, accept, decline and RONA.
//! - `pull` (+ `pull.sql`): "Next customer".
//! - `control`: the conversation's course: hold, resume, end, wrap-up (of
//!   each representative's part) and the customer's rating.
//! - `transfer`: a customer handed to another queue or a colleague.
//! - `conference`: a colleague asked to join, joining and leaving.
//! - `agents`: an agent's state and channels, logging in and out (handing
//!   customers back).
//! - `presence`: which pages are open, and what happens to whoever stays
//!   away past the grace period.
//! - `definitions`: applies the `.sql` files above at start-up.
//!
//! Ownership: the three transitions that match (offer, accept, "Next
//! customer") are SQL functions that do every write of their transition and
//! return the events they wrote; every other transition is Rust with plain
//! statements. Either way the notices come from the events written.
//!
//! Lock order, everywhere: the agent's state row, then queue entries, then
//! offers, then help sessions, then the agent's channel rows. Offers take
//! agents and customers with SKIP LOCKED and so never wait for them. Should
//! two transactions deadlock all the same, PostgreSQL ends one, which has
//! changed nothing: every public transition runs itself again through
//! `retrying` (each commits its effect in one transaction; what follows
//! the commit, offering, only logs its failures), and answers 503 if it
//! keeps losing.

pub mod agents;
pub mod callback;
pub mod conference;
pub mod control;
pub mod definitions;
pub mod events;
pub mod line;
pub mod offers;
pub mod presence;
pub mod pull;
pub mod supervise;
mod seats;
pub mod transfer;

use std::future::Future;
use std::time::Duration;

use sqlx::PgConnection;

use crate::error::AppError;
use crate::states::AgentId;
pub use events::Engine;

/// Locks the agent's state row: the first lock of every transition that
/// concerns one agent.
async fn lock_agent(conn: &mut PgConnection, agent: AgentId) -> Result<(), AppError> {
    sqlx::query!("SELECT representative_id FROM agent_states WHERE representative_id = $1 FOR UPDATE", agent.uuid())
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("No such representative.".into()))?;
    Ok(())
}

/// How many times a transition is tried when it keeps losing to deadlocks.
const ATTEMPTS: u32 = 3;

/// Runs a transition, again when the database gave it up to a deadlock or a
/// serialization conflict (its transaction rolled back, so nothing of it
/// happened), at most ATTEMPTS times in all, after a short pause that
/// grows each time.
async fn retrying<T, Fut>(mut transition: impl FnMut() -> Fut) -> Result<T, AppError>
where
    Fut: Future<Output = Result<T, AppError>>,
{
    let mut attempt = 1;
    loop {
        match transition().await {
            Err(AppError::Contention) if attempt < ATTEMPTS => {
                tracing::info!(attempt, "a transition lost to a concurrent one; trying again");
                let pause = 5 * u64::from(attempt) + u64::from(rand::random::<u8>() % 10);
                tokio::time::sleep(Duration::from_millis(pause)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_transition_that_loses_is_tried_again_a_bounded_number_of_times() {
        let tries = AtomicU32::new(0);
        let twice = retrying(|| async {
            let attempt = tries.fetch_add(1, Ordering::SeqCst) + 1;
            if attempt < 3 { Err(AppError::Contention) } else { Ok(attempt) }
        })
        .await;
        assert_eq!(twice, Ok(3));

        tries.store(0, Ordering::SeqCst);
        let always = retrying(|| async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(AppError::Contention)
        })
        .await;
        assert_eq!(always, Err(AppError::Contention));
        assert_eq!(tries.load(Ordering::SeqCst), ATTEMPTS);

        tries.store(0, Ordering::SeqCst);
        let refused = retrying(|| async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(AppError::invalid("no"))
        })
        .await;
        assert_eq!(refused, Err(AppError::invalid("no")));
        assert_eq!(tries.load(Ordering::SeqCst), 1, "other errors are not retried");
    }
}
