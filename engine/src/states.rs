//! The engine's vocabulary, shared by the server and the pages: the ids of
//! what it moves (distinct types, so a help session's id can never be passed
//! where an agent's is wanted), and the states of a help session and of an
//! agent. The database stores the states as text, checked by the schema;
//! these types are how Rust reads and writes them.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AppError;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "server", derive(sqlx::Type), sqlx(transparent))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// The plain uuid, for SQL parameters.
            pub fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }
    };
}

id_type!(
    /// One customer's request for help (a row of `help_sessions`).
    HelpSessionId
);
id_type!(
    /// A representative who takes customers ("agent" in the code).
    AgentId
);
id_type!(
    /// A queue.
    QueueId
);

/// Stores a C-like enum as its text name (the schema's CHECK lists the
/// names), so `sqlx` reads and binds the enum itself.
macro_rules! text_enum {
    ($name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name stored in the database and sent over the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(raw: &str) -> Result<Self, AppError> {
                match raw {
                    $($text => Ok($name::$variant),)+
                    other => Err(AppError::invalid(format!(concat!("Unknown ", stringify!($name), " \"{}\"."), other))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        $crate::states::sql_text!($name);
    };
}

/// Reads and binds a type as its text name (`as_str` and `parse`).
macro_rules! sql_text {
    ($name:ident) => {
        #[cfg(feature = "server")]
        impl sqlx::Type<sqlx::Postgres> for $name {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <String as sqlx::Type<sqlx::Postgres>>::type_info()
            }
            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <String as sqlx::Type<sqlx::Postgres>>::compatible(ty)
            }
        }

        #[cfg(feature = "server")]
        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $name {
            fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let raw = <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
                Ok($name::parse(raw)?)
            }
        }

        #[cfg(feature = "server")]
        impl sqlx::Encode<'_, sqlx::Postgres> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut sqlx::postgres::PgArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<sqlx::Postgres>>::encode(self.as_str(), buf)
            }
        }

        #[cfg(feature = "server")]
        impl sqlx::postgres::PgHasArrayType for $name {
            fn array_type_info() -> sqlx::postgres::PgTypeInfo {
                <String as sqlx::postgres::PgHasArrayType>::array_type_info()
            }
            fn array_compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <String as sqlx::postgres::PgHasArrayType>::array_compatible(ty)
            }
        }
    };
}
pub(crate) use sql_text;
pub(crate) use text_enum;

/// Where a help session stands (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HelpStatus {
    /// Made through the API, not in a queue yet.
    Created,
    /// In line.
    Waiting,
    /// In line, reserved for one agent until they answer.
    Offered,
    /// Talking with an agent.
    Active,
    /// Talking, on hold: media stops both ways.
    OnHold,
    /// Ended; the agent is recording how it went.
    WrapUp,
    /// Done, with its record.
    Completed,
    /// The customer left the line.
    Cancelled,
    /// The customer's page was gone past the grace period while waiting.
    Abandoned,
    /// Taken out of the line at the queue's maximum wait (or away at the
    /// front past the time it was kept for them).
    Expired,
    /// A callback not reached in the queue's number of attempts.
    Unreachable,
    /// A callback to a wrong number.
    Invalid,
}

text_enum!(HelpStatus {
    Created = "created",
    Waiting = "waiting",
    Offered = "offered",
    Active = "active",
    OnHold = "on_hold",
    WrapUp = "wrap_up",
    Completed = "completed",
    Cancelled = "cancelled",
    Abandoned = "abandoned",
    Expired = "expired",
    Unreachable = "unreachable",
    Invalid = "invalid",
});

impl HelpStatus {
    /// In line (waiting, or being offered).
    pub fn in_line(self) -> bool {
        matches!(self, HelpStatus::Waiting | HelpStatus::Offered)
    }

    /// In conversation with an agent (talking or on hold).
    pub fn talking(self) -> bool {
        matches!(self, HelpStatus::Active | HelpStatus::OnHold)
    }

    /// How the desk says it.
    pub fn label(self) -> &'static str {
        match self {
            HelpStatus::Created => "not in line yet",
            HelpStatus::Waiting => "waiting",
            HelpStatus::Offered => "being offered",
            HelpStatus::Active => "talking",
            HelpStatus::OnHold => "on hold",
            HelpStatus::WrapUp => "wrap-up",
            HelpStatus::Completed => "completed",
            HelpStatus::Cancelled => "left the line",
            HelpStatus::Abandoned => "gave up waiting",
            HelpStatus::Expired => "waited too long",
            HelpStatus::Unreachable => "not reached",
            HelpStatus::Invalid => "wrong number",
        }
    }
}

/// How one call back to a customer went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CallbackOutcome {
    Reached,
    NoAnswer,
    Busy,
    WrongNumber,
}

text_enum!(CallbackOutcome {
    Reached = "reached",
    NoAnswer = "no_answer",
    Busy = "busy",
    WrongNumber = "wrong_number",
});

impl CallbackOutcome {
    /// The button on the desk, and the customer's page's words.
    pub fn label(self) -> &'static str {
        match self {
            CallbackOutcome::Reached => "Reached",
            CallbackOutcome::NoAnswer => "No answer",
            CallbackOutcome::Busy => "Busy",
            CallbackOutcome::WrongNumber => "Wrong number",
        }
    }
}

/// An agent's state (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgentState {
    /// Available: offered customers on the channels switched on.
    Ready,
    /// Logged in, taking no new customers (with a reason).
    NotReady,
    /// Not at the desk: counts as nobody for the queues.
    LoggedOut,
}

text_enum!(AgentState {
    Ready = "READY",
    NotReady = "NOT_READY",
    LoggedOut = "LOGGED_OUT",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_back_what_they_write() {
        for status in HelpStatus::ALL {
            assert_eq!(HelpStatus::parse(status.as_str()).unwrap(), *status);
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        for state in AgentState::ALL {
            assert_eq!(AgentState::parse(state.as_str()).unwrap(), *state);
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
        }
        assert!(HelpStatus::parse("activ").is_err());
    }
}
