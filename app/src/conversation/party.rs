//! Who is asking about a help session: its customer (by their signed
//! token) or a representative or supervisor taking part in it now (by their
//! sign-in). Anybody else gets a 404, so a token for one session reaches no
//! other.

use sqlx::PgPool;
use tower_sessions::Session;

use crate::customer::token;
use crate::error::AppError;
use crate::states::{AgentId, HelpSessionId};

/// Which participant of a conversation a page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Customer,
    /// A representative (or a supervisor) taking part now.
    Agent(AgentId),
}

impl Side {
    /// How signaling addresses this participant: `customer`, or the
    /// representative's id.
    pub fn key(self) -> String {
        match self {
            Side::Customer => "customer".to_owned(),
            Side::Agent(agent) => agent.to_string(),
        }
    }

    /// The representative or supervisor this side is, if not the customer.
    pub fn agent(self) -> Option<AgentId> {
        match self {
            Side::Customer => None,
            Side::Agent(agent) => Some(agent),
        }
    }

    /// The participant a signaling address names.
    pub fn from_key(key: &str) -> Option<Side> {
        match key {
            "customer" => Some(Side::Customer),
            other => other.parse().ok().map(Side::Agent),
        }
    }
}

fn not_yours() -> AppError {
    AppError::NotFound("This conversation is not yours.".into())
}

/// The side of `help_session` this request speaks for.
pub async fn of(
    pool: &PgPool,
    session: &Session,
    headers: &axum::http::HeaderMap,
    bearer: Option<&str>,
    help_session: HelpSessionId,
) -> Result<Side, AppError> {
    let customer = bearer.map(str::to_owned).or_else(|| token::token_in(headers));
    if let Some(token) = customer {
        if token::session_of(pool, &token).await? == Some(help_session) {
            return Ok(Side::Customer);
        }
    }
    let Some(me) = crate::auth::session::current(session, pool).await? else {
        return Err(not_yours());
    };
    let assigned = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM participants
                            WHERE help_session_id = $1 AND representative_id = $2 AND left_at IS NULL)
               OR EXISTS (SELECT 1 FROM supervisions
                            WHERE help_session_id = $1 AND supervisor_id = $2 AND left_at IS NULL) AS "assigned!""#,
        help_session.uuid(),
        me.id
    )
    .fetch_one(pool)
    .await?;
    if assigned {
        Ok(Side::Agent(me.id.into()))
    } else {
        Err(not_yours())
    }
}
