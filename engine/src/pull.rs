//! Pull routing (SPEC §4): "Next customer" takes the head of the pull
//! queues the agent serves, on a channel where they have room, and assigns
//! it at once: the SQL function `take_next_customer` of `pull.sql`.

use super::events::{Engine, EventRow, Logged};
use super::retrying;
use crate::error::AppError;
use crate::queue::Channel;
use crate::states::{AgentId, HelpSessionId, QueueId};

/// A pull-mode customer handed to an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub help_session_id: HelpSessionId,
    pub queue_id: QueueId,
    pub customer_name: String,
    pub reason: String,
    pub channel: Channel,
    pub phone: Option<String>,
}

/// A row of `take_next_customer`.
struct Press {
    outcome: String,
    taken_name: Option<String>,
    taken_reason: Option<String>,
    taken_phone: Option<String>,
    taken_channel: Option<String>,
    event_id: Option<i64>,
    event_at: Option<time::OffsetDateTime>,
    event_kind: Option<String>,
    event_session: Option<uuid::Uuid>,
    event_queue: Option<uuid::Uuid>,
    event_agent: Option<uuid::Uuid>,
    event_detail: Option<serde_json::Value>,
}

/// What a press came to: the function's outcome codes, read in this one
/// place.
#[expect(clippy::large_enum_variant, reason = "one per press, matched at once and never stored")]
enum Outcome {
    Taken(Taken, Logged),
    Empty,
    NoAgent,
    LoggedOut,
    WrapUp,
}

impl TryFrom<Press> for Outcome {
    type Error = AppError;

    fn try_from(press: Press) -> Result<Self, AppError> {
        Ok(match press.outcome.as_str() {
            "empty" => Outcome::Empty,
            "no_agent" => Outcome::NoAgent,
            "logged_out" => Outcome::LoggedOut,
            "wrap_up" => Outcome::WrapUp,
            "taken" => {
                let (Some(name), Some(reason), Some(channel), Some(id), Some(at), Some(kind), Some(detail)) = (
                    press.taken_name,
                    press.taken_reason,
                    press.taken_channel,
                    press.event_id,
                    press.event_at,
                    press.event_kind,
                    press.event_detail,
                ) else {
                    tracing::error!("take_next_customer took a customer without telling who");
                    return Err(AppError::Internal);
                };
                let logged = Logged::try_from(EventRow {
                    id,
                    at,
                    kind,
                    help_session_id: press.event_session,
                    queue_id: press.event_queue,
                    representative_id: press.event_agent,
                    detail,
                })?;
                let (Some(help_session_id), Some(queue_id)) = (logged.about.help_session, logged.about.queue) else {
                    tracing::error!("take_next_customer logged a CONNECT without its customer");
                    return Err(AppError::Internal);
                };
                let taken = Taken {
                    help_session_id,
                    queue_id,
                    customer_name: name,
                    reason,
                    channel: Channel::parse(&channel)?,
                    phone: press.taken_phone,
                };
                Outcome::Taken(taken, logged)
            }
            other => {
                tracing::error!(outcome = other, "take_next_customer answered an unknown outcome");
                return Err(AppError::Internal);
            }
        })
    }
}

/// "Next customer". `None` when nobody is waiting.
pub async fn next_customer(engine: &Engine, agent: AgentId) -> Result<Option<Taken>, AppError> {
    retrying(|| next_customer_once(engine, agent)).await
}

/// One try of [`next_customer`].
#[tracing::instrument(skip(engine))]
async fn next_customer_once(engine: &Engine, agent: AgentId) -> Result<Option<Taken>, AppError> {
    let press = sqlx::query_as!(
        Press,
        r#"SELECT outcome AS "outcome!", taken_name, taken_reason, taken_phone, taken_channel, event_id, event_at,
                  event_kind, event_session, event_queue, event_agent, event_detail
             FROM take_next_customer($1)"#,
        agent.uuid()
    )
    .fetch_one(engine.pool())
    .await?;
    match Outcome::try_from(press)? {
        Outcome::Taken(taken, connected) => {
            engine.announce([(&connected).into()]);
            Ok(Some(taken))
        }
        Outcome::Empty => Ok(None),
        Outcome::NoAgent => Err(AppError::NotFound("No such representative.".into())),
        Outcome::LoggedOut => Err(AppError::Conflict("Open your desk first: you are logged out.".into())),
        Outcome::WrapUp => Err(AppError::Conflict("Finish your wrap-up first.".into())),
    }
}
