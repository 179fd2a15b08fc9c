//! The WebRTC signaling relay's storage, and each page's peers. A
//! conversation's media is a mesh: one peer connection per pair of
//! participants whose pages connect (`roles.rs` says which: never the
//! customer and a supervisor who has not barged in). What one page
//! sends (offers, answers, ICE candidates) is addressed to one other
//! participant (`"to"`: `customer` or a representative's id) and relayed,
//! with its sender added (`"from"`), through whichever servers their pages
//! are on. Short-lived: a page reads what arrives while it is open, and the
//! sweeper deletes rows older than a minute.

use serde::Serialize;
use sqlx::PgPool;

use super::party::Side;
use super::roles::{Role, Sends};
use crate::engine::events::{Engine, Notice, Topic};
use crate::error::AppError;
use crate::states::{AgentId, HelpSessionId, HelpStatus};

/// Longest signaling message, in bytes (an SDP is a few kilobytes).
pub const SIGNAL_MAX_BYTES: usize = 65536;

/// Relays one signaling message to the participant it is addressed to, while
/// both take part in the live (or held) conversation and their pages hold
/// a connection (`Role::connects`). 400 for a message that is not a JSON
/// object with a `to`; 409, the same answer whether the addressee is absent
/// or a supervisor the sender may not reach (a customer learns nothing of
/// who listens), and when the conversation ended.
pub async fn send_signal(engine: &Engine, help_session: HelpSessionId, from: Side, body: &str) -> Result<(), AppError> {
    if body.len() > SIGNAL_MAX_BYTES {
        return Err(AppError::invalid("This signaling message is too long."));
    }
    let Ok(serde_json::Value::Object(mut message)) = serde_json::from_str::<serde_json::Value>(body) else {
        return Err(AppError::invalid("A signaling message is a JSON object."));
    };
    let to = message
        .get("to")
        .and_then(|to| to.as_str())
        .and_then(Side::from_key)
        .ok_or_else(|| AppError::invalid("A signaling message says whom it is for (\"to\")."))?;
    let absent = || AppError::Conflict("This participant is not in the conversation.".into());
    let (_, everyone) = present(engine.pool(), help_session).await?.ok_or_else(absent)?;
    let role = |side: Side| everyone.iter().find(|(present, _)| *present == side).map(|&(_, role)| role);
    match (role(from), role(to)) {
        (Some(mine), Some(theirs)) if from != to && mine.connects(theirs) => {}
        _ => return Err(absent()),
    }
    message.insert("from".into(), from.key().into());
    let body = serde_json::Value::Object(message).to_string();
    let sent = sqlx::query!(
        "INSERT INTO signals (help_session_id, from_party, to_party, body)
         SELECT id, $2, $3, $4 FROM help_sessions WHERE id = $1 AND status IN ('active', 'on_hold')",
        help_session.uuid(),
        from.key(),
        to.key(),
        body,
    )
    .execute(engine.pool())
    .await?;
    if sent.rows_affected() == 0 {
        return Err(absent());
    }
    engine.announce([Notice::about(Topic::Signal, Some(help_session))]);
    Ok(())
}

/// Signaling for one participant of a help session newer than `after`,
/// oldest first.
pub async fn signals_for(
    engine: &Engine,
    help_session: HelpSessionId,
    to: Side,
    after: i64,
) -> Result<Vec<(i64, String)>, AppError> {
    Ok(sqlx::query!(
        "SELECT id, body FROM signals WHERE help_session_id = $1 AND to_party = $2 AND id > $3 ORDER BY id",
        help_session.uuid(),
        to.key(),
        after
    )
    .fetch_all(engine.pool())
    .await?
    .into_iter()
    .map(|row| (row.id, row.body))
    .collect())
}

/// The newest signal id now: a page that opens reads only what comes after.
pub async fn last_signal(engine: &Engine) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(r#"SELECT coalesce(max(id), 0) AS "id!" FROM signals"#).fetch_one(engine.pool()).await?)
}

/// Deletes relayed signaling older than a minute (the sweeper).
pub async fn purge_signals(engine: &Engine) -> Result<u64, AppError> {
    Ok(sqlx::query!("DELETE FROM signals WHERE sent_at < now() - interval '1 minute'")
        .execute(engine.pool())
        .await?
        .rows_affected())
}

/// Another participant, as a page's call sees them. Neither names nor
/// roles are sent: a customer's page must not learn that a supervisor
/// listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Peer {
    /// Their signaling address.
    pub party: String,
    /// What the page sends them now.
    pub send: Sends,
    /// Whether they send anything to the page now.
    pub receive: bool,
    /// Whether the page shows them: they send to it when the customer is
    /// not on hold (a silent supervisor never does).
    pub shown: bool,
    /// Whether the page forwards the customer's media to them, on the
    /// pair's second set of tracks (the owner's page, to a supervisor who
    /// has not barged in).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub forward: bool,
    /// Whether they forward the customer's media to the page.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub forwarded: bool,
}

/// What a page's call is told about the conversation: who it is, and its
/// peers (the customer first, then the representatives as they joined).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename = "peers")]
pub struct Peers {
    pub me: String,
    pub peers: Vec<Peer>,
}

/// The participants of the conversation and their roles now (the
/// customer, the representatives as they joined, then the supervisors),
/// and whether it is on hold; `None` when it is over.
async fn present(pool: &PgPool, help_session: HelpSessionId) -> Result<Option<(bool, Vec<(Side, Role)>)>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT h.status AS "status: HelpStatus", t.agent AS "agent?: AgentId", t.role AS "role?: Role"
             FROM help_sessions h
             LEFT JOIN LATERAL (
                  SELECT p.representative_id AS agent, p.role, 0 AS part, p.joined_at FROM participants p
                   WHERE p.help_session_id = h.id AND p.left_at IS NULL
                  UNION ALL
                  SELECT s.supervisor_id, s.role, 1, s.joined_at FROM supervisions s
                   WHERE s.help_session_id = h.id AND s.left_at IS NULL) t ON true
            WHERE h.id = $1
            ORDER BY t.part, t.joined_at"#,
        help_session.uuid()
    )
    .fetch_all(pool)
    .await?;
    let Some(first) = rows.first() else { return Ok(None) };
    if !matches!(first.status, HelpStatus::Active | HelpStatus::OnHold) {
        return Ok(None);
    }
    let held = first.status == HelpStatus::OnHold;
    let mut everyone = vec![(Side::Customer, Role::Customer)];
    for row in rows {
        if let (Some(agent), Some(role)) = (row.agent, row.role) {
            everyone.push((Side::Agent(agent), role));
        }
    }
    Ok(Some((held, everyone)))
}

/// `me`'s peers now: everyone else in the conversation whom `me`'s page
/// connects to (`Role::connects`), with what flows each way
/// (`Role::sends`, `Role::forwards_customer`). Empty when the conversation
/// is over or `me` is not in it.
pub async fn peers(pool: &PgPool, help_session: HelpSessionId, me: Side) -> Result<Peers, AppError> {
    let mut peers = Vec::new();
    if let Some((held, everyone)) = present(pool, help_session).await? {
        if let Some(&(_, mine)) = everyone.iter().find(|(side, _)| *side == me) {
            for (side, role) in everyone {
                if side != me && mine.connects(role) {
                    peers.push(Peer {
                        party: side.key(),
                        send: mine.sends(role, held),
                        receive: role.sends_media(mine, held),
                        shown: role.sends_media(mine, false),
                        forward: mine.forwards_customer(role, held),
                        forwarded: role.forwards_customer(mine, held),
                    });
                }
            }
        }
    }
    Ok(Peers { me: me.key(), peers })
}
