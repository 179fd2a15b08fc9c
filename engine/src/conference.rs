//! Conferences (SPEC §3, CONFERENCE): the owner of a conversation asks a
//! colleague to join it, by name or as the next available member of a
//! queue. The colleague is offered the conversation (an offer with `joins`,
//! and the queue's RONA; declined, missed or withdrawn, the asker is told)
//! and on accepting takes part as a full participant: three-way media and
//! chat, a seat of the channel taken. Anyone may leave; when the owner
//! leaves, the colleague who joined first becomes the owner; when the last
//! representative leaves, the conversation ends. Ending it (either side)
//! ends it for everyone, each representative to their own wrap-up.
//!
//! A warm transfer rides on the same offer: the customer goes on hold, the
//! colleague joins to consult (no media with the customer), and the asker
//! completes (the colleague becomes the owner and the customer is resumed
//! with them) or cancels (the colleague leaves, the customer is resumed
//! with the asker).

use super::events::{log, About, Engine, Event, Notice, Topic, TransferStage, Tx};
use super::offering;
use super::retrying;
use super::seats::{self, Change};
use super::steps;
use super::transfer::{agent_can_take, Target};
use crate::error::AppError;
use crate::queue::Channel;
use crate::roles::Role;
use crate::states::{AgentId, HelpSessionId, HelpStatus, QueueId};

/// Representatives at most in one conversation (with the customer, four
/// participants).
pub const MAX_REPRESENTATIVES: i64 = 3;

/// How a colleague is asked to join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joining {
    /// As a full participant ("Add a colleague").
    Conference,
    /// To take the customer over (a warm transfer): the customer goes on
    /// hold, the colleague consults with the asker, then the asker
    /// completes or cancels. Counts against the transfer cap.
    WarmTransfer { max_transfers: i32 },
}

impl Joining {
    fn role(self) -> Role {
        match self {
            Joining::Conference => Role::Conference,
            Joining::WarmTransfer { .. } => Role::Consult,
        }
    }
}

/// Offers the conversation `agent` owns to a colleague (named, or the
/// queue's next available member), to join as `how` says.
pub async fn invite(
    engine: &Engine,
    agent: AgentId,
    help_session: HelpSessionId,
    target: Target,
    how: Joining,
) -> Result<(), AppError> {
    if target == Target::Agent(agent) {
        return Err(AppError::invalid("You are in this conversation already."));
    }
    retrying(|| invite_once(engine, agent, help_session, target, how)).await
}

/// One try of [`invite`].
async fn invite_once(
    engine: &Engine,
    agent: AgentId,
    help_session: HelpSessionId,
    target: Target,
    how: Joining,
) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    let mut agents = vec![agent];
    if let Target::Agent(other) = target {
        agents.push(other);
    }
    steps::lock_all(&mut tx, agents).await?;
    let owned = sqlx::query!(
        r#"SELECT channel AS "channel: Channel", queue_id AS "queue_id: QueueId", status AS "status: HelpStatus", transfers,
                  (SELECT count(*) FROM participants p WHERE p.help_session_id = h.id AND p.left_at IS NULL) AS "present!",
                  EXISTS (SELECT 1 FROM offers o WHERE o.help_session_id = h.id) AS "asking!"
             FROM help_sessions h WHERE h.id = $1 AND h.agent_id = $2 AND h.status IN ('active', 'on_hold')
              FOR UPDATE"#,
        help_session.uuid(),
        agent.uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::Conflict("Only the representative who owns a live conversation can add a colleague.".into()))?;
    if owned.asking {
        return Err(AppError::Conflict("A colleague is being asked to join already: wait for their answer.".into()));
    }
    if let Joining::WarmTransfer { max_transfers } = how {
        if owned.present > 1 {
            return Err(AppError::Conflict("A colleague is in this conversation: transfer once it is yours alone.".into()));
        }
        if owned.transfers >= max_transfers {
            return Err(AppError::Conflict(format!(
                "This customer has been transferred as often as allowed ({max_transfers} times)."
            )));
        }
    }
    if owned.present >= MAX_REPRESENTATIVES {
        return Err(AppError::Conflict(format!("A conversation can have at most {MAX_REPRESENTATIVES} representatives.")));
    }
    let (colleague, queue) = match target {
        Target::Agent(other) => {
            let present = sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM participants WHERE help_session_id = $1 AND representative_id = $2
                                     AND left_at IS NULL) AS "present!""#,
                help_session.uuid(),
                other.uuid()
            )
            .fetch_one(&mut *tx)
            .await?;
            if present {
                return Err(AppError::Conflict("This colleague is in the conversation already.".into()));
            }
            agent_can_take(&mut tx, other, owned.channel).await?;
            (other, owned.queue_id)
        }
        Target::Queue(queue) => (pick(&mut tx, help_session, queue, owned.channel).await?, queue),
    };
    sqlx::query!(
        "INSERT INTO offers (help_session_id, representative_id, queue_id, channel, expires_at, transfer_from, joins)
         SELECT $1, $2, q.id, $4, now() + make_interval(secs => q.rona_seconds), $5, $6 FROM queues q WHERE q.id = $3",
        help_session.uuid(),
        colleague.uuid(),
        queue.uuid(),
        owned.channel.as_str(),
        agent.uuid(),
        how.role().as_str()
    )
    .execute(&mut *tx)
    .await?;
    if !seats::change(&mut tx, colleague, owned.channel, Change::Offer).await? {
        return Err(AppError::Conflict("This colleague has no free place for it right now.".into()));
    }
    sqlx::query!(
        "UPDATE participants SET asked = true WHERE help_session_id = $1 AND representative_id = $2 AND left_at IS NULL",
        help_session.uuid(),
        agent.uuid()
    )
    .execute(&mut *tx)
    .await?;
    let to_queue = matches!(target, Target::Queue(_)).then_some(queue);
    let about = About::help_session(help_session, owned.queue_id);
    let asked = match how {
        Joining::Conference => Event::Conference { stage: TransferStage::Requested, to_agent: colleague, to_queue, reason: None },
        Joining::WarmTransfer { .. } => {
            // The customer waits on hold while the two talk.
            if owned.status == HelpStatus::Active {
                steps::hold_in(&mut tx, agent, help_session).await?;
            }
            Event::Transfer {
                stage: TransferStage::Requested,
                warm: true,
                to_queue: queue,
                to_agent: Some(colleague),
                reason: None,
            }
        }
    };
    log(&mut tx, about.by(agent), asked).await?;
    log(&mut tx, About::help_session(help_session, queue).by(colleague), Event::Offer {}).await?;
    tx.commit(engine).await
}

/// The member of `queue` its strategy picks now to join (READY, a free
/// place on the channel, not in the conversation): their row is locked.
/// 409 when nobody can.
async fn pick(tx: &mut Tx, help_session: HelpSessionId, queue: QueueId, channel: Channel) -> Result<AgentId, AppError> {
    let picked = sqlx::query!(
        r#"SELECT q.name,
                  pick_agent(q.id, q.strategy, $2,
                             ARRAY(SELECT representative_id FROM participants
                                    WHERE help_session_id = $3 AND left_at IS NULL)) AS "agent: AgentId"
             FROM queues q WHERE q.id = $1"#,
        queue.uuid(),
        channel.as_str(),
        help_session.uuid()
    )
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No such queue.".into()))?;
    picked.agent.ok_or_else(|| AppError::Conflict(format!("Nobody in {} can join right now.", picked.name)))
}

/// The colleague accepts: they take part from now.
pub(super) async fn join(tx: &mut Tx, agent: AgentId, help_session: HelpSessionId) -> Result<bool, AppError> {
    let Some(offer) = sqlx::query!(
        r#"DELETE FROM offers WHERE help_session_id = $1 AND representative_id = $2 AND joins IS NOT NULL
           RETURNING queue_id AS "queue_id: QueueId", transfer_from AS "asked: AgentId", joins AS "joins!: Role""#,
        help_session.uuid(),
        agent.uuid()
    )
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(false);
    };
    sqlx::query!(
        "INSERT INTO participants (help_session_id, representative_id, role, queue_id) VALUES ($1, $2, $3, $4)",
        help_session.uuid(),
        agent.uuid(),
        offer.joins.as_str(),
        offer.queue_id.uuid()
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!("UPDATE help_sessions SET parts = parts + 1 WHERE id = $1", help_session.uuid()).execute(&mut **tx).await?;
    let about = About::help_session(help_session, offer.queue_id);
    // A supervisor of this conversation who joins it as a colleague stops
    // supervising it.
    super::supervise::stop(tx, help_session, offer.queue_id, Some(agent), super::supervise::Stopped::Joined).await?;
    log(tx, about.by(agent), Event::ParticipantJoin { role: offer.joins }).await?;
    if let Some(asked) = offer.asked {
        log(tx, about.by(asked), answer(offer.joins, TransferStage::Accepted, agent, offer.queue_id, None)).await?;
    }
    Ok(true)
}

/// Takes back an offer to join (declined, missed, the colleague gone, the
/// conversation over): the colleague's seat is free and the asker is told.
/// Returns the offer's queue, or `None` when there was none.
pub(super) async fn withdraw(
    tx: &mut Tx,
    agent: AgentId,
    help_session: HelpSessionId,
    reason: &str,
) -> Result<Option<QueueId>, AppError> {
    let Some(offer) = sqlx::query!(
        r#"DELETE FROM offers WHERE help_session_id = $1 AND representative_id = $2 AND joins IS NOT NULL
           RETURNING queue_id AS "queue_id: QueueId", channel AS "channel: Channel", transfer_from AS "asked: AgentId",
                     joins AS "joins!: Role""#,
        help_session.uuid(),
        agent.uuid()
    )
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    seats::change(tx, agent, offer.channel, Change::FreeLive).await?;
    tx.wake(help_session, agent);
    if let Some(asked) = offer.asked {
        let failed = answer(offer.joins, TransferStage::Failed, agent, offer.queue_id, Some(reason.to_owned()));
        log(tx, About::help_session(help_session, offer.queue_id).by(asked), failed).await?;
    }
    Ok(Some(offer.queue_id))
}

/// The event that answers a request to join with `role`: CONFERENCE, or
/// TRANSFER for a warm transfer.
fn answer(role: Role, stage: TransferStage, colleague: AgentId, queue: QueueId, reason: Option<String>) -> Event {
    match role {
        Role::Consult => Event::Transfer { stage, warm: true, to_queue: queue, to_agent: Some(colleague), reason },
        _ => Event::Conference { stage, to_agent: colleague, to_queue: None, reason },
    }
}

/// The colleague who joined first becomes the owner (their seat held if
/// the customer is). Returns them, or `None` when nobody is left.
pub(super) async fn promote(
    tx: &mut Tx,
    help_session: HelpSessionId,
    about: About,
    channel: Channel,
    held: bool,
) -> Result<Option<AgentId>, AppError> {
    let Some(next) = sqlx::query_scalar!(
        r#"SELECT representative_id AS "agent: AgentId" FROM participants
            WHERE help_session_id = $1 AND left_at IS NULL
            ORDER BY joined_at, id LIMIT 1"#,
        help_session.uuid()
    )
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    take_over(tx, help_session, next).await?;
    if held {
        seats::change(tx, next, channel, Change::Hold).await?;
    }
    log(tx, about.by(next), Event::ParticipantJoin { role: Role::Agent }).await?;
    Ok(Some(next))
}

/// `owner` (a colleague taking part) owns the conversation now: their part
/// becomes the owner's, and the conversation is the queue's they joined it
/// from (a warm transfer to Billing leaves the customer Billing's: theirs
/// to requeue to if that desk is lost).
async fn take_over(tx: &mut Tx, help_session: HelpSessionId, owner: AgentId) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE participants SET role = 'agent' WHERE help_session_id = $1 AND representative_id = $2 AND left_at IS NULL",
        help_session.uuid(),
        owner.uuid()
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "UPDATE help_sessions h SET agent_id = $2, queue_id = p.queue_id
           FROM participants p
          WHERE h.id = $1 AND p.help_session_id = $1 AND p.representative_id = $2 AND p.left_at IS NULL",
        help_session.uuid(),
        owner.uuid()
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The representatives in the conversation now, with their roles (read
/// before locking them).
pub(super) async fn present(engine: &Engine, help_session: HelpSessionId) -> Result<Vec<(AgentId, Role)>, AppError> {
    Ok(sqlx::query!(
        r#"SELECT representative_id AS "agent: AgentId", role AS "role: Role" FROM participants
            WHERE help_session_id = $1 AND left_at IS NULL ORDER BY joined_at"#,
        help_session.uuid()
    )
    .fetch_all(engine.pool())
    .await?
    .into_iter()
    .map(|row| (row.agent, row.role))
    .collect())
}

/// Completes a warm transfer: the asker's part ends (wrap-up follows), the
/// consulting colleague owns the conversation, and the customer is resumed
/// with them.
pub async fn complete(engine: &Engine, agent: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    retrying(|| complete_once(engine, agent, help_session)).await
}

/// One try of [`complete`].
async fn complete_once(engine: &Engine, agent: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    let others = present(engine, help_session).await?;
    let consult = others
        .iter()
        .find(|(_, role)| *role == Role::Consult)
        .map(|(colleague, _)| *colleague)
        .ok_or_else(|| AppError::Conflict("Nobody has joined to take the customer over yet.".into()))?;
    let mut tx = engine.begin().await?;
    steps::lock_all(&mut tx, others.iter().map(|(present, _)| *present).collect()).await?;
    let conversation = owned_by(&mut tx, agent, help_session).await?;
    let held = conversation.status == HelpStatus::OnHold;
    let about = About::help_session(help_session, conversation.queue_id);
    // The asker's part ends.
    steps::end_part(&mut tx, agent, help_session, conversation.channel, held, true).await?;
    log(&mut tx, about.by(agent), Event::ParticipantLeave { role: Role::Agent, lost: false }).await?;
    // The colleague owns it, and takes the customer back from hold.
    take_over(&mut tx, help_session, consult).await?;
    sqlx::query!(
        "UPDATE help_sessions SET transfers = transfers + 1, transferred_by = $2, transfer_note = NULL WHERE id = $1",
        help_session.uuid(),
        agent.uuid()
    )
    .execute(&mut *tx)
    .await?;
    log(&mut tx, about.by(consult), Event::ParticipantJoin { role: Role::Agent }).await?;
    if held {
        seats::change(&mut tx, consult, conversation.channel, Change::Hold).await?;
        steps::resume_in(&mut tx, consult, help_session).await?;
    }
    let completed = answer(Role::Consult, TransferStage::Completed, consult, conversation.queue_id, None);
    log(&mut tx, about.by(agent), completed).await?;
    // Into another queue: its supervisors only.
    super::supervise::keep_to_queue(&mut tx, help_session).await?;
    tx.commit(engine).await?;
    engine.announce([Notice { kind: Topic::Access, help_session: Some(help_session), queue: None, agent: Some(agent) }]);
    Ok(())
}

/// Cancels a warm transfer: the colleague leaves (or is no longer asked)
/// and the customer is resumed with the asker.
pub async fn cancel(engine: &Engine, agent: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    retrying(|| cancel_once(engine, agent, help_session)).await
}

/// One try of [`cancel`].
async fn cancel_once(engine: &Engine, agent: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    let others = present(engine, help_session).await?;
    let asked = sqlx::query_scalar!(
        r#"SELECT representative_id AS "agent: AgentId" FROM offers WHERE help_session_id = $1 AND joins = 'consult'"#,
        help_session.uuid()
    )
    .fetch_optional(engine.pool())
    .await?;
    let consult = others.iter().find(|(_, role)| *role == Role::Consult).map(|(colleague, _)| *colleague);
    let Some(colleague) = consult.or(asked) else {
        return Err(AppError::Conflict("There is no transfer to cancel.".into()));
    };
    let mut tx = engine.begin().await?;
    let mut agents: Vec<AgentId> = others.iter().map(|(present, _)| *present).collect();
    agents.push(colleague);
    steps::lock_all(&mut tx, agents).await?;
    let conversation = owned_by(&mut tx, agent, help_session).await?;
    let about = About::help_session(help_session, conversation.queue_id);
    if consult.is_some() {
        // They spoke only with the asker: no wrap-up.
        sqlx::query!(
            "UPDATE participants SET left_at = now(), wrapped_at = now()
              WHERE help_session_id = $1 AND representative_id = $2 AND left_at IS NULL",
            help_session.uuid(),
            colleague.uuid()
        )
        .execute(&mut *tx)
        .await?;
        seats::change(&mut tx, colleague, conversation.channel, Change::FreeLive).await?;
        log(&mut tx, about.by(colleague), Event::ParticipantLeave { role: Role::Consult, lost: false }).await?;
    } else {
        withdraw(&mut tx, colleague, help_session, "cancelled").await?;
    }
    if conversation.status == HelpStatus::OnHold {
        steps::resume_in(&mut tx, agent, help_session).await?;
    }
    log(&mut tx, about.by(agent), answer(Role::Consult, TransferStage::Cancelled, colleague, conversation.queue_id, None))
        .await?;
    tx.commit(engine).await?;
    engine.announce([Notice { kind: Topic::Access, help_session: Some(help_session), queue: None, agent: Some(colleague) }]);
    offering::dispatch_for_agent(engine, colleague).await;
    Ok(())
}

/// The live conversation `agent` owns, locked.
struct Owned {
    status: HelpStatus,
    channel: Channel,
    queue_id: QueueId,
}

async fn owned_by(tx: &mut Tx, agent: AgentId, help_session: HelpSessionId) -> Result<Owned, AppError> {
    sqlx::query_as!(
        Owned,
        r#"SELECT status AS "status: HelpStatus", channel AS "channel: Channel", queue_id AS "queue_id: QueueId"
             FROM help_sessions WHERE id = $1 AND agent_id = $2 AND status IN ('active', 'on_hold') FOR UPDATE"#,
        help_session.uuid(),
        agent.uuid()
    )
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| AppError::Conflict("Only the representative who owns this live conversation can do that.".into()))
}

/// The owner ended while the colleague asked to take the customer over had
/// not joined yet: the request is withdrawn, the owner's part ends, and the
/// customer waits at the front of the line (by their first entry).
pub(super) async fn give_up(engine: &Engine, agent: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    let asked = sqlx::query_scalar!(
        r#"SELECT representative_id AS "agent: AgentId" FROM offers WHERE help_session_id = $1 AND joins = 'consult'"#,
        help_session.uuid()
    )
    .fetch_optional(engine.pool())
    .await?;
    let mut tx = engine.begin().await?;
    steps::lock_all(&mut tx, [agent].into_iter().chain(asked).collect()).await?;
    let conversation = owned_by(&mut tx, agent, help_session).await?;
    if let Some(asked) = asked {
        withdraw(&mut tx, asked, help_session, "the asker ended").await?;
    }
    let held = conversation.status == HelpStatus::OnHold;
    steps::end_part(&mut tx, agent, help_session, conversation.channel, held, false).await?;
    super::supervise::end_all(&mut tx, help_session, conversation.queue_id).await?;
    steps::back_to_front(&mut tx, help_session).await?;
    let back = Event::Requeue { reason: "The transfer was not completed".into(), talking: true };
    log(&mut tx, About::help_session(help_session, conversation.queue_id).by(agent), back).await?;
    tx.commit(engine).await?;
    engine.announce([Notice { kind: Topic::Access, help_session: Some(help_session), queue: None, agent: Some(agent) }]);
    offering::dispatch(engine, conversation.queue_id).await;
    Ok(())
}
