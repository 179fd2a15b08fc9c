//! Domain types shared by the server and the browser. Values that come from
//! people are parsed once at the boundary into these types; a value of the
//! type is valid by construction.

use crate::error::AppError;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// What a representative may do. Ordered: each role can do what the ones
/// before it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Agent,
    Supervisor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Agent, Role::Supervisor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Agent => "Representative",
            Role::Supervisor => "Supervisor",
            Role::Admin => "Admin",
        }
    }

    pub fn parse(s: &str) -> Result<Self, AppError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "agent" => Ok(Role::Agent),
            "supervisor" => Ok(Role::Supervisor),
            "admin" => Ok(Role::Admin),
            other => Err(AppError::invalid(format!("Role must be agent, supervisor or admin, not \"{other}\"."))),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The signed-in representative, as pages see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
}

/// One row of the people list an admin manages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_sign_in_at: Option<time::OffsetDateTime>,
}

/// An email address: trimmed, at most 254 characters, with a domain that has
/// a dot in it (a missing ".com" is far more often a typo than an intranet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(AppError::invalid("Email is required."));
        }
        if trimmed.len() > 254 {
            return Err(AppError::invalid("Email must be at most 254 characters."));
        }
        crate::text::check("Email", trimmed, crate::text::Shape::Line)?;
        let parsed =
            email_address::EmailAddress::parse_with_options(trimmed, email_address::Options::default().without_display_text())
                .map_err(|_| AppError::invalid(format!("\"{trimmed}\" is not a valid email address.")))?;
        if !parsed.domain().contains('.') {
            return Err(AppError::invalid(format!("\"{trimmed}\" is not a valid email address: the domain needs a dot.")));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used to compare addresses: two spellings that differ only in
    /// case are one address.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// How a representative is shown to colleagues and customers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(AppError::invalid("Name is required."));
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(AppError::invalid(format!("Name must be at most {} characters.", Self::MAX_CHARS)));
        }
        crate::text::check("Name", trimmed, crate::text::Shape::Line)?;
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password someone is choosing. Long enough to resist guessing, short
/// enough that hashing it cannot be used to tie up the server.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let count = raw.chars().count();
        if count < Self::MIN_CHARS {
            return Err(AppError::invalid(format!("Password must be at least {} characters.", Self::MIN_CHARS)));
        }
        if count > Self::MAX_CHARS {
            return Err(AppError::invalid(format!("Password must be at most {} characters.", Self::MAX_CHARS)));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

// Never print a password, not even in a debug log.
impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_compared_without_case() {
        let email = Email::parse("  Ann.Lee@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "Ann.Lee@Example.COM");
        assert_eq!(email.normalized(), "ann.lee@example.com");
    }

    #[test]
    fn bad_emails_are_refused_with_a_message() {
        for raw in ["", "   ", "ann", "ann@", "@example.com", "ann@example", "a b@example.com"] {
            let error = Email::parse(raw).unwrap_err();
            assert!(matches!(error, AppError::Invalid(_)), "{raw:?} gave {error:?}");
        }
    }

    #[test]
    fn passwords_have_bounds() {
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse(&"x".repeat(129)).is_err());
        assert!(NewPassword::parse("long enough pass").is_ok());
        assert_eq!(format!("{:?}", NewPassword::parse("long enough pass").unwrap()), "NewPassword(..)");
    }

    #[test]
    fn names_are_bounded() {
        assert!(DisplayName::parse("  ").is_err());
        assert!(DisplayName::parse(&"n".repeat(101)).is_err());
        assert_eq!(DisplayName::parse(" Ann ").unwrap().as_str(), "Ann");
    }

    #[test]
    fn roles_parse_from_their_names() {
        assert_eq!(Role::parse("Admin").unwrap(), Role::Admin);
        assert!(Role::parse("root").is_err());
    }
}
