//! Cold transfers (SPEC §4): the representative talking with a customer
//! hands them to another queue, or to a colleague by name. Their part ends
//! (wrap-up follows) in the same transaction that puts the customer back in
//! a line, by their FIRST entry time and priority, so they keep their age.
//! A colleague named is offered the customer alone, with the queue's RONA;
//! if they decline, miss it or leave, the offer is released as any other
//! (`offers::release`), which logs the transfer as failed: the customer
//! waits for anyone in the session's queue and the asker's desk says so.

use super::events::{log, About, Engine, Event, Notice, Topic, TransferStage};
use super::offering;
use super::retrying;
use super::seats::{self, Change};
use super::steps;
use crate::error::AppError;
use crate::queue::Channel;
use crate::states::{AgentId, AgentState, HelpSessionId, HelpStatus, QueueId};

/// Longest note for the next representative, in characters.
pub const NOTE_MAX_CHARS: usize = 500;

/// Where a customer is transferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The back of nobody: the customer waits in this queue by their first
    /// entry time.
    Queue(QueueId),
    /// This colleague alone is offered the customer; the session's queue
    /// is the fallback.
    Agent(AgentId),
}

impl Target {
    /// The one target a desk's form names: a queue or a colleague.
    pub fn chosen(queue: Option<QueueId>, agent: Option<AgentId>) -> Result<Target, AppError> {
        match (queue, agent) {
            (Some(queue), None) => Ok(Target::Queue(queue)),
            (None, Some(agent)) => Ok(Target::Agent(agent)),
            _ => Err(AppError::invalid("Choose one queue or one colleague.")),
        }
    }
}

/// A transfer asked for at the desk.
#[derive(Debug, Clone)]
pub struct Transfer {
    pub help_session: HelpSessionId,
    pub to: Target,
    /// For the next representative ("" for none).
    pub note: String,
    /// The most transfers one customer may have.
    pub max_transfers: i32,
}

/// Transfers the customer `agent` is talking with (or holding). Refused
/// with the reason (409) when the target cannot take them now.
pub async fn transfer(engine: &Engine, agent: AgentId, request: &Transfer) -> Result<(), AppError> {
    let note = request.note.trim();
    if note.chars().count() > NOTE_MAX_CHARS {
        return Err(AppError::invalid(format!("The note must be at most {NOTE_MAX_CHARS} characters.")));
    }
    crate::text::check("The note", note, crate::text::Shape::Lines)?;
    if request.to == Target::Agent(agent) {
        return Err(AppError::invalid("You cannot transfer a customer to yourself."));
    }
    retrying(|| transfer_once(engine, agent, request, note)).await
}

/// One try of [`transfer`].
async fn transfer_once(engine: &Engine, agent: AgentId, request: &Transfer, note: &str) -> Result<(), AppError> {
    let help_session = request.help_session;
    let mut tx = engine.begin().await?;
    // Both representatives' rows, in one order everywhere (a transfer each
    // way at once must not deadlock).
    let mut agents = vec![agent];
    if let Target::Agent(other) = request.to {
        agents.push(other);
    }
    steps::lock_all(&mut tx, agents).await?;
    let talking = sqlx::query!(
        r#"SELECT status AS "status: HelpStatus", channel AS "channel: Channel", queue_id AS "queue_id: QueueId",
                  transfers,
                  EXISTS (SELECT 1 FROM participants p WHERE p.help_session_id = h.id AND p.left_at IS NULL
                             AND p.representative_id <> h.agent_id) AS "others!",
                  EXISTS (SELECT 1 FROM offers o WHERE o.help_session_id = h.id) AS "asking!"
             FROM help_sessions h WHERE id = $1 AND agent_id = $2 AND status IN ('active', 'on_hold')
              FOR UPDATE"#,
        help_session.uuid(),
        agent.uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::Conflict("You are not talking with this customer any more.".into()))?;
    if talking.others || talking.asking {
        return Err(AppError::Conflict(
            "A colleague is in this conversation or being asked to join: transfer once it is yours alone.".into(),
        ));
    }
    if talking.transfers >= request.max_transfers {
        return Err(AppError::Conflict(format!(
            "This customer has been transferred as often as allowed ({} times).",
            request.max_transfers
        )));
    }
    let (queue, named) = match request.to {
        Target::Queue(queue) => {
            queue_can_take(&mut tx, queue, talking.channel).await?;
            (queue, None)
        }
        Target::Agent(other) => {
            agent_can_take(&mut tx, other, talking.channel).await?;
            (talking.queue_id, Some(other))
        }
    };

    // The asker's part ends: wrap-up for it, their seat free.
    let held = talking.status == HelpStatus::OnHold;
    steps::end_part(&mut tx, agent, help_session, talking.channel, held, true).await?;
    super::supervise::end_all(&mut tx, help_session, talking.queue_id).await?;

    // The customer waits again, by their first entry; offered to the
    // colleague named, if one is.
    let status = if named.is_some() { HelpStatus::Offered } else { HelpStatus::Waiting };
    sqlx::query!(
        "UPDATE help_sessions
            SET status = $2, queue_id = $3, agent_id = NULL, transfers = transfers + 1,
                transfer_note = NULLIF($4, ''), transferred_by = $5
          WHERE id = $1",
        help_session.uuid(),
        status.as_str(),
        queue.uuid(),
        note,
        agent.uuid()
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO queue_entries (help_session_id, queue_id, channel, priority, enqueued_at, offered_to)
         SELECT id, queue_id, channel, priority, entered_at, $2 FROM help_sessions WHERE id = $1",
        help_session.uuid(),
        named.map(AgentId::uuid)
    )
    .execute(&mut *tx)
    .await?;
    let requested =
        Event::Transfer { stage: TransferStage::Requested, warm: false, to_queue: queue, to_agent: named, reason: None };
    log(&mut tx, About::help_session(help_session, queue).by(agent), requested).await?;
    if let Some(other) = named {
        sqlx::query!(
            "INSERT INTO offers (help_session_id, representative_id, queue_id, channel, expires_at, transfer_from)
             SELECT $1, $2, q.id, $4, now() + make_interval(secs => q.rona_seconds), $5 FROM queues q WHERE q.id = $3",
            help_session.uuid(),
            other.uuid(),
            queue.uuid(),
            talking.channel.as_str(),
            agent.uuid()
        )
        .execute(&mut *tx)
        .await?;
        if !seats::change(&mut tx, other, talking.channel, Change::Offer).await? {
            return Err(AppError::Internal);
        }
        log(&mut tx, About::help_session(help_session, queue).by(other), Event::Offer {}).await?;
    }
    tx.commit(engine).await?;
    // The asker's chat and call close: the conversation is no longer theirs.
    engine.announce([Notice { kind: Topic::Access, help_session: Some(help_session), queue: None, agent: Some(agent) }]);
    if named.is_none() {
        offering::dispatch(engine, queue).await;
    }
    Ok(())
}

/// 409 with the reason unless `queue` can take a customer on `channel` now:
/// it offers the channel, somebody is logged in to serve it (whatever it
/// does for new customers with nobody there), and its line has room.
async fn queue_can_take(tx: &mut sqlx::PgConnection, queue: QueueId, channel: Channel) -> Result<(), AppError> {
    let target = super::line::room(tx, queue).await?;
    if !target.channels.contains(&channel) {
        return Err(AppError::Conflict(format!("{} does not take {} customers.", target.name, channel.as_str())));
    }
    if !target.staffed {
        return Err(AppError::Conflict(format!("Nobody is logged in to {} right now.", target.name)));
    }
    if target.full {
        return Err(AppError::Conflict(format!("{}'s line is full right now.", target.name)));
    }
    Ok(())
}

/// 409 with the reason unless the colleague can be offered a customer on
/// `channel` now: logged in, a member of a queue that takes the channel,
/// and with a free place on it. Their row is locked.
pub(super) async fn agent_can_take(tx: &mut sqlx::PgConnection, other: AgentId, channel: Channel) -> Result<(), AppError> {
    let colleague = sqlx::query!(
        r#"SELECT r.display_name, s.state AS "state: AgentState", c.live < c.max_live AND c.sessions < c.max_sessions AS "room!",
                  EXISTS (SELECT 1 FROM queue_members m JOIN queues q ON q.id = m.queue_id
                           WHERE m.representative_id = r.id AND $2 = ANY (q.channels)) AS "serves!"
             FROM representatives r
             JOIN agent_states s ON s.representative_id = r.id
             JOIN agent_channels c ON c.representative_id = r.id AND c.channel = $2
            WHERE r.id = $1 AND NOT r.disabled"#,
        other.uuid(),
        channel.as_str()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No such representative.".into()))?;
    let name = colleague.display_name;
    if colleague.state == AgentState::LoggedOut {
        return Err(AppError::Conflict(format!("{name} is logged out.")));
    }
    if !colleague.serves {
        return Err(AppError::Conflict(format!("{name} serves no queue that takes {} customers.", channel.as_str())));
    }
    if !colleague.room {
        return Err(AppError::Conflict(format!("{name} has no free place for {} right now.", channel.as_str())));
    }
    Ok(())
}
