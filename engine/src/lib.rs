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

//!
//! The crate also holds the engine's vocabulary, which the pages use in the
//! browser too (without the `server` feature): the ids and states
//! (`states`), the participants' roles (`roles`), a queue's channels,
//! routing and hours (`queue`), who a website says its customer is
//! (`identity`), the rules for text people type (`text`) and the one error
//! type (`error`). It depends on nothing of the app: features and pages sit
//! above it.

pub mod error;
pub mod identity;
pub mod queue;
pub mod roles;
pub mod states;
pub mod text;
pub mod webhook_type;

#[cfg(feature = "server")]
pub mod agents;
#[cfg(feature = "server")]
pub mod callback;
#[cfg(feature = "server")]
pub mod conference;
#[cfg(feature = "server")]
pub mod control;
#[cfg(feature = "server")]
pub mod definitions;
#[cfg(feature = "server")]
pub mod events;
#[cfg(feature = "server")]
pub mod line;
#[cfg(feature = "server")]
pub mod offers;
#[cfg(feature = "server")]
pub mod presence;
#[cfg(feature = "server")]
pub mod pull;
#[cfg(feature = "server")]
mod seats;
#[cfg(feature = "server")]
pub mod supervise;
#[cfg(feature = "server")]
pub mod transfer;

#[cfg(feature = "server")]
pub use events::Engine;
#[cfg(feature = "server")]
mod transitions;
#[cfg(feature = "server")]
use transitions::{lock_agent, retrying};
