//! Supervisors in a live conversation (SPEC §8): joining as a silent
//! monitor, a whisper (coach) or a barge-in, switching between them without
//! reconnecting, and leaving. A supervisor's part (`supervisions`) takes no
//! seat, has no wrap-up and never owns the conversation; what their page
//! sends and receives follows from its role (`conversation/roles.rs`).
//!
//! The rules around it: the conversation ending (by the representative or
//! the customer) ends every supervisor's part; the last representative
//! leaving while a supervisor is barged in leaves the customer with the
//! supervisor, who is asked to take them over or to return them to the
//! front of the line (they are returned if nobody answers within
//! [`ASK_SECONDS`]); the customer going back to the line ends every part.

use super::events::{log, About, Engine, Event, Tx};
use super::offering;
use super::seats::{self, Change};
use super::steps;
use super::{lock_agent, retrying};
use crate::error::AppError;
use crate::queue::Channel;
use crate::roles::Role;
use crate::states::{AgentId, HelpSessionId, HelpStatus, QueueId};

/// How long a supervisor asked to take a customer over has to answer
/// before the customer is returned to the front of the line.
pub const ASK_SECONDS: i64 = 60;

pub use super::events::Stopped;

/// A live conversation as a supervisor joins it, locked.
struct Live {
    queue_id: QueueId,
    channel: Channel,
}

async fn live(tx: &mut Tx, help_session: HelpSessionId) -> Result<Live, AppError> {
    sqlx::query_as!(
        Live,
        r#"SELECT queue_id AS "queue_id: QueueId", channel AS "channel: Channel"
             FROM help_sessions WHERE id = $1 AND status IN ('active', 'on_hold') FOR UPDATE"#,
        help_session.uuid()
    )
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| AppError::Conflict("This conversation is not live any more.".into()))
}

/// `supervisor` joins the live conversation as `role` (monitor, whisper or barge),
/// or switches to it when already in: one transaction, SUPERVISE_START or
/// SUPERVISE_MODE. 403 unless its queue is one of `queues`, those they
/// supervise (the caller knows: every queue for an admin); 409 when another
/// supervisor already whispers or barged in and `role` is one of those, or
/// when `supervisor` serves the conversation.
pub async fn supervise(
    engine: &Engine,
    supervisor: AgentId,
    queues: &[QueueId],
    help_session: HelpSessionId,
    role: Role,
) -> Result<(), AppError> {
    if !role.supervising() {
        return Err(AppError::invalid("Join as monitor, whisper or barge."));
    }
    retrying(|| supervise_once(engine, supervisor, queues, help_session, role)).await
}

async fn supervise_once(
    engine: &Engine,
    supervisor: AgentId,
    queues: &[QueueId],
    help_session: HelpSessionId,
    role: Role,
) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    let conversation = live(&mut tx, help_session).await?;
    if !queues.contains(&conversation.queue_id) {
        return Err(AppError::Forbidden);
    }
    let serving = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM participants WHERE help_session_id = $1 AND representative_id = $2
                             AND left_at IS NULL) AS "serving!""#,
        help_session.uuid(),
        supervisor.uuid()
    )
    .fetch_one(&mut *tx)
    .await?;
    if serving {
        return Err(AppError::Conflict("You are serving this customer yourself.".into()));
    }
    let part = sqlx::query!(
        r#"SELECT role AS "role: Role", asked_at IS NOT NULL AS "asked!" FROM supervisions
            WHERE help_session_id = $1 AND supervisor_id = $2 AND left_at IS NULL FOR UPDATE"#,
        help_session.uuid(),
        supervisor.uuid()
    )
    .fetch_optional(&mut *tx)
    .await?;
    if part.as_ref().is_some_and(|part| part.asked) {
        return Err(AppError::Conflict("Nobody else serves this customer: take them over or return them to the line.".into()));
    }
    let before = part.map(|part| part.role);
    if before == Some(role) {
        return Ok(());
    }
    let written = match before {
        Some(_) => {
            sqlx::query!(
                "UPDATE supervisions SET role = $3 WHERE help_session_id = $1 AND supervisor_id = $2 AND left_at IS NULL",
                help_session.uuid(),
                supervisor.uuid(),
                role.as_str()
            )
            .execute(&mut *tx)
            .await
        }
        None => {
            sqlx::query!(
                "INSERT INTO supervisions (help_session_id, supervisor_id, role) VALUES ($1, $2, $3)",
                help_session.uuid(),
                supervisor.uuid(),
                role.as_str()
            )
            .execute(&mut *tx)
            .await
        }
    };
    match written {
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            return Err(AppError::Conflict("Another supervisor is already whispering or barged in; you can monitor.".into()));
        }
        other => {
            other?;
        }
    }
    let event = match before {
        Some(_) => Event::SuperviseMode { role },
        None => Event::SuperviseStart { role },
    };
    log(&mut tx, About::help_session(help_session, conversation.queue_id).by(supervisor), event).await?;
    wake_representatives(&mut tx, help_session).await?;
    tx.commit(engine).await
}

/// `supervisor` leaves the conversation. Asked to take the customer over,
/// leaving returns the customer to the front of the line.
pub async fn leave(engine: &Engine, supervisor: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    retrying(|| leave_once(engine, supervisor, help_session)).await
}

async fn leave_once(engine: &Engine, supervisor: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    let conversation = sqlx::query!(
        r#"SELECT h.queue_id AS "queue_id: QueueId", s.asked_at IS NOT NULL AS "asked!"
             FROM help_sessions h JOIN supervisions s ON s.help_session_id = h.id
            WHERE h.id = $1 AND s.supervisor_id = $2 AND s.left_at IS NULL
              FOR UPDATE OF h"#,
        help_session.uuid(),
        supervisor.uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::Conflict("You are not in this conversation any more.".into()))?;
    if conversation.asked {
        return_to_line(&mut tx, help_session, conversation.queue_id, supervisor).await?;
    } else {
        stop(&mut tx, help_session, conversation.queue_id, Some(supervisor), Stopped::Left).await?;
        wake_representatives(&mut tx, help_session).await?;
    }
    tx.commit(engine).await?;
    if conversation.asked {
        offering::dispatch(engine, conversation.queue_id).await;
    }
    Ok(())
}

/// Ends supervisors' parts in the conversation (`only`: one supervisor's;
/// none: everyone's), each with SUPERVISE_STOP.
pub(super) async fn stop(
    tx: &mut Tx,
    help_session: HelpSessionId,
    queue: QueueId,
    only: Option<AgentId>,
    why: Stopped,
) -> Result<(), AppError> {
    let stopped = sqlx::query_scalar!(
        r#"UPDATE supervisions SET left_at = now()
            WHERE help_session_id = $1 AND left_at IS NULL AND ($2::uuid IS NULL OR supervisor_id = $2)
        RETURNING supervisor_id AS "supervisor: AgentId""#,
        help_session.uuid(),
        only.map(AgentId::uuid)
    )
    .fetch_all(&mut **tx)
    .await?;
    for supervisor in stopped {
        log(tx, About::help_session(help_session, queue).by(supervisor), Event::SuperviseStop { why }).await?;
        // Their chat and signaling sockets close at once.
        tx.revoke(help_session, supervisor);
    }
    Ok(())
}

/// After a warm transfer into another queue: the parts of supervisors who
/// do not supervise that queue (admins supervise every queue) end.
pub(super) async fn keep_to_queue(tx: &mut Tx, help_session: HelpSessionId) -> Result<(), AppError> {
    let outside = sqlx::query!(
        r#"SELECT s.supervisor_id AS "supervisor: AgentId", h.queue_id AS "queue: QueueId"
             FROM supervisions s JOIN help_sessions h ON h.id = s.help_session_id
             JOIN representatives r ON r.id = s.supervisor_id
            WHERE s.help_session_id = $1 AND s.left_at IS NULL AND r.role <> 'admin'
              AND NOT EXISTS (SELECT 1 FROM queue_supervisors q
                               WHERE q.queue_id = h.queue_id AND q.representative_id = s.supervisor_id)"#,
        help_session.uuid()
    )
    .fetch_all(&mut **tx)
    .await?;
    for part in outside {
        stop(tx, help_session, part.queue, Some(part.supervisor), Stopped::Moved).await?;
    }
    Ok(())
}

/// Every supervisor's part ends with the conversation (or with the
/// customer's return to the line).
pub(super) async fn end_all(tx: &mut Tx, help_session: HelpSessionId, queue: QueueId) -> Result<(), AppError> {
    stop(tx, help_session, queue, None, Stopped::Ended).await
}

/// The last representative is leaving: a supervisor barged in is asked to
/// take the customer over (true), and the others' parts end. Without one,
/// false and nothing changes.
pub(super) async fn ask_to_take_over(tx: &mut Tx, help_session: HelpSessionId, queue: QueueId) -> Result<bool, AppError> {
    let asked = sqlx::query_scalar!(
        r#"UPDATE supervisions SET asked_at = now()
            WHERE help_session_id = $1 AND left_at IS NULL AND role = 'barge'
        RETURNING supervisor_id AS "supervisor: AgentId""#,
        help_session.uuid()
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(asked) = asked else { return Ok(false) };
    let listening = sqlx::query_scalar!(
        r#"UPDATE supervisions SET left_at = now()
            WHERE help_session_id = $1 AND left_at IS NULL AND supervisor_id <> $2
        RETURNING supervisor_id AS "supervisor: AgentId""#,
        help_session.uuid(),
        asked.uuid()
    )
    .fetch_all(&mut **tx)
    .await?;
    for supervisor in listening {
        let about = About::help_session(help_session, queue).by(supervisor);
        log(tx, about, Event::SuperviseStop { why: Stopped::RepresentativeLeft }).await?;
    }
    sqlx::query!("UPDATE help_sessions SET agent_id = NULL WHERE id = $1", help_session.uuid()).execute(&mut **tx).await?;
    Ok(true)
}

/// The supervisor asked to take the customer over does: they own the
/// conversation from now, in a seat of theirs (409 when they have no room
/// on its channel), and wrap it up on their desk.
pub async fn take_over(engine: &Engine, supervisor: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    retrying(|| take_over_once(engine, supervisor, help_session)).await
}

async fn take_over_once(engine: &Engine, supervisor: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    lock_agent(&mut tx, supervisor).await?;
    let conversation = live(&mut tx, help_session).await?;
    asked_of(&mut tx, help_session, supervisor).await?;
    if !seats::change(&mut tx, supervisor, conversation.channel, Change::Offer).await? {
        return Err(AppError::Conflict(format!(
            "You have no free place for another {} conversation; return the customer to the line or end one of yours.",
            conversation.channel.label().to_lowercase()
        )));
    }
    let held =
        sqlx::query_scalar!(r#"SELECT status AS "status: HelpStatus" FROM help_sessions WHERE id = $1"#, help_session.uuid())
            .fetch_one(&mut *tx)
            .await?
            == HelpStatus::OnHold;
    if held {
        seats::change(&mut tx, supervisor, conversation.channel, Change::Hold).await?;
    }
    stop(&mut tx, help_session, conversation.queue_id, Some(supervisor), Stopped::TookOver).await?;
    sqlx::query!(
        "INSERT INTO participants (help_session_id, representative_id, role, queue_id) VALUES ($1, $2, 'agent', $3)",
        help_session.uuid(),
        supervisor.uuid(),
        conversation.queue_id.uuid()
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE help_sessions SET agent_id = $2, parts = parts + 1 WHERE id = $1",
        help_session.uuid(),
        supervisor.uuid()
    )
    .execute(&mut *tx)
    .await?;
    let about = About::help_session(help_session, conversation.queue_id).by(supervisor);
    log(&mut tx, about, Event::ParticipantJoin { role: Role::Agent }).await?;
    tx.wake(help_session, supervisor);
    tx.commit(engine).await
}

/// The supervisor asked to take the customer over returns them to the
/// front of the line instead.
pub async fn give_back(engine: &Engine, supervisor: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    retrying(|| give_back_once(engine, supervisor, help_session)).await
}

async fn give_back_once(engine: &Engine, supervisor: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    let conversation = live(&mut tx, help_session).await?;
    asked_of(&mut tx, help_session, supervisor).await?;
    return_to_line(&mut tx, help_session, conversation.queue_id, supervisor).await?;
    tx.commit(engine).await?;
    offering::dispatch(engine, conversation.queue_id).await;
    Ok(())
}

/// 409 unless `supervisor` is the one asked to take this customer over.
async fn asked_of(tx: &mut Tx, help_session: HelpSessionId, supervisor: AgentId) -> Result<(), AppError> {
    let asked = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM supervisions WHERE help_session_id = $1 AND supervisor_id = $2
                             AND left_at IS NULL AND asked_at IS NOT NULL) AS "asked!""#,
        help_session.uuid(),
        supervisor.uuid()
    )
    .fetch_one(&mut **tx)
    .await?;
    if asked {
        Ok(())
    } else {
        Err(AppError::Conflict("Nobody asked you to take this customer over.".into()))
    }
}

/// The customer nobody serves any more waits at the front of the line (by
/// their first entry), and the supervisor's part ends.
async fn return_to_line(tx: &mut Tx, help_session: HelpSessionId, queue: QueueId, supervisor: AgentId) -> Result<(), AppError> {
    stop(tx, help_session, queue, None, Stopped::Returned).await?;
    steps::back_to_front(tx, help_session).await?;
    let back = Event::Requeue { reason: "The representative left".into(), talking: true };
    log(tx, About::help_session(help_session, queue).by(supervisor), back).await
}

/// The sweeper's part: customers whose supervisor did not answer in time
/// go back to the line, and supervisors' parts in conversations that are
/// not live any more end (a safety net: every transition that ends a
/// conversation ends them itself).
pub async fn sweep(engine: &Engine) -> Result<(), AppError> {
    let unanswered = sqlx::query!(
        r#"SELECT help_session_id AS "help_session: HelpSessionId", supervisor_id AS "supervisor: AgentId"
             FROM supervisions
            WHERE left_at IS NULL AND asked_at < now() - make_interval(secs => $1)"#,
        ASK_SECONDS as f64
    )
    .fetch_all(engine.pool())
    .await?;
    for part in unanswered {
        match give_back(engine, part.supervisor, part.help_session).await {
            Ok(()) | Err(AppError::Conflict(_)) => {}
            Err(error) => return Err(error),
        }
    }
    let stale = sqlx::query!(
        r#"SELECT DISTINCT s.help_session_id AS "help_session: HelpSessionId", h.queue_id AS "queue: QueueId"
             FROM supervisions s JOIN help_sessions h ON h.id = s.help_session_id
            WHERE s.left_at IS NULL AND h.status NOT IN ('active', 'on_hold')"#
    )
    .fetch_all(engine.pool())
    .await?;
    for part in stale {
        let mut tx = engine.begin().await?;
        end_all(&mut tx, part.help_session, part.queue).await?;
        tx.commit(engine).await?;
    }
    Ok(())
}

/// Wakes the desks of the representatives in the conversation (they show
/// whether a supervisor is listening).
async fn wake_representatives(tx: &mut Tx, help_session: HelpSessionId) -> Result<(), AppError> {
    let present = sqlx::query_scalar!(
        r#"SELECT representative_id AS "agent: AgentId" FROM participants WHERE help_session_id = $1 AND left_at IS NULL"#,
        help_session.uuid()
    )
    .fetch_all(&mut **tx)
    .await?;
    for agent in present {
        tx.wake(help_session, agent);
    }
    Ok(())
}
