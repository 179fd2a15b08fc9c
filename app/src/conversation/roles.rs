//! Who takes part in a conversation, and what follows from it: the one
//! place that says who sends media to whom. The customer is a participant
//! from the first answer to the end; each representative takes part with a
//! role (`participants.role`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A participant's role in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The customer who asked for help.
    Customer,
    /// The representative who owns the conversation (`help_sessions.agent_id`).
    Agent,
    /// A second representative, brought in as a full participant.
    Conference,
    /// A representative asked to take the customer over (a warm transfer):
    /// they talk with the owner while the customer waits on hold, and take
    /// part with the customer only once the transfer completes.
    Consult,
}

crate::states::text_enum!(Role {
    Customer = "customer",
    Agent = "agent",
    Conference = "conference",
    Consult = "consult",
});

impl Role {
    /// Whether this participant's media goes to `to`'s page. On hold, media
    /// stops on every pair that carries the customer; representatives go on
    /// talking among themselves.
    pub fn sends_media(self, to: Role, held: bool) -> bool {
        match (self, to) {
            (Role::Consult, Role::Customer) | (Role::Customer, Role::Consult) => false,
            (Role::Customer, _) | (_, Role::Customer) => !held,
            (Role::Agent | Role::Conference | Role::Consult, Role::Agent | Role::Conference | Role::Consult) => true,
        }
    }

    /// Whether two participants are connected at all (media either way).
    pub fn exchanges_media(self, other: Role, held: bool) -> bool {
        self.sends_media(other, held) || other.sends_media(self, held)
    }

    /// How the customer's page names this role.
    pub fn label(self) -> &'static str {
        match self {
            Role::Customer => "Customer",
            Role::Agent => "Representative",
            Role::Conference | Role::Consult => "Colleague",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_stops_every_pair_with_the_customer_and_no_other() {
        use Role::*;
        for (a, b) in [(Customer, Agent), (Agent, Customer), (Customer, Conference), (Conference, Customer)] {
            assert!(a.sends_media(b, false), "{a:?} → {b:?} while talking");
            assert!(!a.sends_media(b, true), "{a:?} → {b:?} on hold");
        }
        for held in [false, true] {
            assert!(Agent.sends_media(Conference, held) && Conference.sends_media(Agent, held));
            assert!(Agent.sends_media(Consult, held) && Consult.sends_media(Agent, held));
            assert!(!Consult.exchanges_media(Customer, held), "a consultation never reaches the customer");
        }
    }
}
