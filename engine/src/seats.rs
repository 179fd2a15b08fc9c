//! Seats from Rust: the functions of `seats.sql`, the one place an agent's
//! seats and their totals change. The caller holds the agent's row locked.

use sqlx::PgConnection;

use crate::error::AppError;
use crate::queue::Channel;
use crate::states::AgentId;

/// What happens to one seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    /// An offer is made: it takes a live place until answered.
    Offer,
    /// An offer or a conversation with media ends: both counts go down.
    FreeLive,
    /// A held conversation ends: only the sessions count goes down.
    FreeHeld,
    /// A conversation goes on hold: its live place is free.
    Hold,
    /// A held conversation is taken back: it needs a live place.
    Resume,
}

impl Change {
    fn deltas(self) -> (i32, i32) {
        match self {
            Change::Offer => (1, 1),
            Change::FreeLive => (-1, -1),
            Change::FreeHeld => (0, -1),
            Change::Hold => (-1, 0),
            Change::Resume => (1, 0),
        }
    }
}

/// Applies the change; false when it needs room the channel does not have.
pub(super) async fn change(conn: &mut PgConnection, agent: AgentId, channel: Channel, change: Change) -> Result<bool, AppError> {
    let (live, sessions) = change.deltas();
    let done = sqlx::query_scalar!(r#"SELECT seat($1, $2, $3, $4) AS "done!""#, agent.uuid(), channel.as_str(), live, sessions)
        .fetch_one(conn)
        .await?;
    Ok(done)
}

/// Every seat of the agent empty and switched off.
pub(super) async fn clear(conn: &mut PgConnection, agent: AgentId) -> Result<(), AppError> {
    sqlx::query!("SELECT clear_seats($1)", agent.uuid()).execute(conn).await?;
    Ok(())
}
