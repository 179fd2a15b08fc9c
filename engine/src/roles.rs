//! Who takes part in a conversation, and what follows from it: the one
//! place that says who sends media to whom. The customer is a participant
//! from the first answer to the end; each representative takes part with a
//! role (`participants.role`), and each supervisor who joins with theirs
//! (`supervisions.role`: monitor, whisper or barge).

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
    /// A supervisor listening in silence: receives everything, sends
    /// nothing, and the customer is never told.
    Monitor,
    /// A supervisor coaching: their voice and messages reach the
    /// representatives only.
    Whisper,
    /// A supervisor who barged in: a full participant the customer sees.
    Barge,
}

crate::states::text_enum!(Role {
    Customer = "customer",
    Agent = "agent",
    Conference = "conference",
    Consult = "consult",
    Monitor = "monitor",
    Whisper = "whisper",
    Barge = "barge",
});

/// What one participant's page sends to another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sends {
    Nothing,
    /// The microphone only (a whispering supervisor's voice).
    Voice,
    /// Everything the page has: microphone, and camera on a video call.
    Everything,
}

impl Role {
    /// Whether this participant's media goes to `to`'s page. On hold, media
    /// stops on every pair that carries the customer; representatives go on
    /// talking among themselves.
    /// A silent monitor sends nothing; a whisper reaches representatives
    /// and other supervisors, never the customer; a supervisor hears the
    /// customer only while the customer is not on hold (and, unless barged
    /// in, only through the owner's page: `forwards_customer`).
    pub fn sends_media(self, to: Role, held: bool) -> bool {
        self.sends(to, held) != Sends::Nothing
    }

    /// What this participant's page sends to `to`'s page now.
    pub fn sends(self, to: Role, held: bool) -> Sends {
        let flows = match (self, to) {
            _ if !self.connects(to) => false,
            (Role::Monitor, _) => false,
            (Role::Consult | Role::Whisper, Role::Customer) | (Role::Customer, Role::Consult) => false,
            (Role::Customer, _) | (_, Role::Customer) => !held,
            _ => true,
        };
        match (flows, self) {
            (false, _) => Sends::Nothing,
            (true, Role::Whisper) => Sends::Voice,
            (true, _) => Sends::Everything,
        }
    }

    /// Whether the two participants' pages hold a peer connection. A
    /// customer's page never connects to a supervisor who has not barged
    /// in: it must not learn that anyone listens. Such a supervisor hears
    /// the customer through the representative's page
    /// (`forwards_customer`).
    pub fn connects(self, other: Role) -> bool {
        !matches!(
            (self, other),
            (Role::Customer, Role::Monitor | Role::Whisper) | (Role::Monitor | Role::Whisper, Role::Customer)
        )
    }

    /// Whether this participant's page forwards the customer's media, as it
    /// receives it, to `to`'s page: the owner's page does, to each
    /// monitoring or whispering supervisor, while the customer is not on
    /// hold.
    pub fn forwards_customer(self, to: Role, held: bool) -> bool {
        self == Role::Agent && matches!(to, Role::Monitor | Role::Whisper) && !held
    }

    /// Whether two participants exchange media now (either way).
    pub fn exchanges_media(self, other: Role, held: bool) -> bool {
        self.sends_media(other, held) || other.sends_media(self, held)
    }

    /// A supervisor's role (their part takes no seat and has no wrap-up).
    pub fn supervising(self) -> bool {
        matches!(self, Role::Monitor | Role::Whisper | Role::Barge)
    }

    /// Whether what this participant writes in the chat reaches the
    /// customer (a whisper never does).
    pub fn customer_reads(self) -> bool {
        self != Role::Whisper
    }

    /// How the customer's page names this role.
    pub fn label(self) -> &'static str {
        match self {
            Role::Customer => "Customer",
            Role::Agent => "Representative",
            Role::Conference | Role::Consult => "Colleague",
            Role::Monitor | Role::Whisper | Role::Barge => "Supervisor",
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

    #[test]
    fn each_supervising_mode_carries_exactly_what_it_allows() {
        use Role::*;
        for held in [false, true] {
            for to in [Customer, Agent, Conference, Whisper, Barge, Monitor] {
                assert_eq!(Monitor.sends(to, held), Sends::Nothing, "a monitor sends nothing to {to:?}");
            }
            assert_eq!(Whisper.sends(Customer, held), Sends::Nothing, "a whisper never reaches the customer");
            assert_eq!(Whisper.sends(Agent, held), Sends::Voice);
            assert_eq!(Whisper.sends(Conference, held), Sends::Voice);
            assert_eq!(Agent.sends(Monitor, held), Sends::Everything, "the representative is heard on hold too");
            assert_eq!(Agent.sends(Whisper, held), Sends::Everything);
            assert_eq!(Barge.sends(Agent, held), Sends::Everything);
        }
        for to in [Monitor, Whisper] {
            assert!(!Customer.connects(to) && !to.connects(Customer), "the customer never connects to a {to:?}");
            assert_eq!(Customer.sends(to, false), Sends::Nothing);
            assert!(Agent.forwards_customer(to, false), "the owner forwards the customer to a {to:?}");
            assert!(!Agent.forwards_customer(to, true), "on hold the supervisor hears only the representative");
            assert!(!Conference.forwards_customer(to, false), "one page forwards, the owner's");
        }
        assert!(Customer.connects(Barge) && !Agent.forwards_customer(Barge, false), "a barged-in supervisor connects");
        assert_eq!(Customer.sends(Barge, false), Sends::Everything);
        assert_eq!(Customer.sends(Barge, true), Sends::Nothing);
        assert_eq!(Barge.sends(Customer, false), Sends::Everything);
        assert_eq!(Barge.sends(Customer, true), Sends::Nothing);
    }
}
