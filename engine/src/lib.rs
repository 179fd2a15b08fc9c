//! The engine (SPEC §3–4): every transition of a help session and of an
//! agent, as one transaction that also appends its events; the wake-ups to
//! every server follow the commit. Read it from the bottom up:
//!
//! - `events`: the typed event log, the engine handle, transactions whose
//!   events are announced after they commit.
//! - `seats` (+ `seats.sql`): an agent's capacity per channel, the one
//!   place seats are taken and freed.
//! - `offering` (+ `offers.sql`): push: making offers, the pass every
//!   transition runs after its commit.
//! - `steps`: what transitions of several kinds do inside their
//!   transaction (back to the front of the line, hold and resume a part,
//!   end a part, a transfer failed, not ready): below every transition.
//! - `line`: entering the line (admission) and leaving it (cancel, abandon,
//!   maximum wait).
//! - `supervise`: supervisors joining, switching mode, leaving.
//! - `transfer`: a customer handed to another queue or a colleague.
//! - `conference`: a colleague asked to join, joining, warm transfers.
//! - `control`: the conversation's course: hold, resume, leave, end,
//!   wrap-up (of each representative's part) and the customer's rating.
//! - `offers`: push: accept, decline and RONA.
//! - `agents`: an agent's state and channels, logging in and out (handing
//!   customers back).
//! - `pull` (+ `pull.sql`), `callback`: "Next customer", callbacks.
//! - `presence`: which pages are open, and what happens to whoever stays
//!   away past the grace period.
//! - `definitions`: applies the `.sql` files above at start-up.
//!
//! Each transition's file imports only files listed above it.
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
pub mod language;
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
pub mod offering;
#[cfg(feature = "server")]
pub mod offers;
#[cfg(feature = "server")]
pub mod presence;
#[cfg(feature = "server")]
pub mod pull;
#[cfg(feature = "server")]
mod seats;
#[cfg(feature = "server")]
mod steps;
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
