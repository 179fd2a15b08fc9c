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
//! - `control`: the conversation's course: hold, resume, end, wrap-up and
//!   the customer's rating.
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
//! two transactions deadlock all the same, PostgreSQL ends one, which
//! answers 500 and has changed nothing.

pub mod agents;
pub mod control;
pub mod definitions;
pub mod events;
pub mod line;
pub mod offers;
pub mod presence;
pub mod pull;
mod seats;

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
