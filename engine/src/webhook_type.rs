//! The webhook types a receiver subscribes to (issue 20): each payload's
//! `type`. Which event kinds each stands for, and the payloads, are the
//! engine's (`events::webhook`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::states::text_enum;

/// What a receiver subscribes to, and each payload's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub enum WebhookType {
    #[serde(rename = "help_session.entered")]
    HelpSessionEntered,
    #[serde(rename = "help_session.offered")]
    HelpSessionOffered,
    #[serde(rename = "help_session.answered")]
    HelpSessionAnswered,
    #[serde(rename = "help_session.ended")]
    HelpSessionEnded,
    #[serde(rename = "help_session.wrapped_up")]
    HelpSessionWrappedUp,
    #[serde(rename = "help_session.cancelled")]
    HelpSessionCancelled,
    #[serde(rename = "help_session.abandoned")]
    HelpSessionAbandoned,
    #[serde(rename = "help_session.expired")]
    HelpSessionExpired,
    #[serde(rename = "help_session.requeued")]
    HelpSessionRequeued,
    #[serde(rename = "help_session.transferred")]
    HelpSessionTransferred,
    #[serde(rename = "callback.requested")]
    CallbackRequested,
    #[serde(rename = "callback.attempted")]
    CallbackAttempted,
    #[serde(rename = "agent.state_changed")]
    AgentStateChanged,
    #[serde(rename = "rating.given")]
    RatingGiven,
}

text_enum!(WebhookType {
    HelpSessionEntered = "help_session.entered",
    HelpSessionOffered = "help_session.offered",
    HelpSessionAnswered = "help_session.answered",
    HelpSessionEnded = "help_session.ended",
    HelpSessionWrappedUp = "help_session.wrapped_up",
    HelpSessionCancelled = "help_session.cancelled",
    HelpSessionAbandoned = "help_session.abandoned",
    HelpSessionExpired = "help_session.expired",
    HelpSessionRequeued = "help_session.requeued",
    HelpSessionTransferred = "help_session.transferred",
    CallbackRequested = "callback.requested",
    CallbackAttempted = "callback.attempted",
    AgentStateChanged = "agent.state_changed",
    RatingGiven = "rating.given",
});

impl WebhookType {
    /// What happened, in a sentence.
    pub fn meaning(self) -> &'static str {
        match self {
            WebhookType::HelpSessionEntered => "A customer joined a queue's line (or was put in it through the API).",
            WebhookType::HelpSessionOffered => "The customer was offered to a representative.",
            WebhookType::HelpSessionAnswered => "A representative took the customer.",
            WebhookType::HelpSessionEnded => "The conversation ended (either side).",
            WebhookType::HelpSessionWrappedUp => "The representative finished their wrap-up.",
            WebhookType::HelpSessionCancelled => "The customer left the line.",
            WebhookType::HelpSessionAbandoned => "The customer's page was gone past the grace period while in line.",
            WebhookType::HelpSessionExpired => "Taken out of the line at the queue's maximum wait.",
            WebhookType::HelpSessionRequeued => "Back at the front of the line: their representative was lost.",
            WebhookType::HelpSessionTransferred => "A step of a transfer to another queue or a colleague.",
            WebhookType::CallbackRequested => "The customer asked to be called back.",
            WebhookType::CallbackAttempted => "A representative called the customer back.",
            WebhookType::AgentStateChanged => "A representative's state changed.",
            WebhookType::RatingGiven => "The customer rated the conversation.",
        }
    }
}
