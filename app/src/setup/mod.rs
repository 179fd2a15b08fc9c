//! Creating the first admin. On a start with no active admin the server logs
//! a one-time link; whoever opens it chooses the admin's email, name and
//! password. The link dies when used, and the page is gone once an admin
//! exists.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[cfg(feature = "ssr")]
pub mod token;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetupState {
    /// No admin yet and this token may create one.
    Open,
    /// No admin yet, but this token is wrong, used or expired.
    BadToken,
    /// An admin exists: there is nothing to set up.
    Done,
}

#[server(prefix = "/api", endpoint = "setup/status")]
pub async fn setup_status(token: String) -> Result<SetupState, AppError> {
    let state = crate::state::app_state()?;
    token::status(&state.pool, &token).await
}

/// Creates the first admin with a valid setup token. 404 once an admin
/// exists or when the token is not (or no longer) valid.
#[server(prefix = "/api", endpoint = "setup/admin")]
pub async fn create_first_admin(
    token: String,
    email: String,
    display_name: String,
    password: String,
    password_again: String,
) -> Result<(), AppError> {
    use crate::model::{DisplayName, Email, NewPassword};
    let state = crate::state::app_state()?;
    let email = Email::parse(&email)?;
    let name = DisplayName::parse(&display_name)?;
    let password = NewPassword::parse(&password)?;
    if password.expose() != password_again {
        return Err(AppError::invalid("The two passwords differ."));
    }
    token::create_admin(&state.pool, &token, &email, &name, password).await?;
    Ok(())
}
