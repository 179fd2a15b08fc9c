//! The representatives an admin manages: list, add, change role, disable and
//! enable, reset a password. Supervisors may read the team list.

use leptos::prelude::*;
use uuid::Uuid;

use crate::error::AppError;
use crate::model::Person;

#[cfg(feature = "ssr")]
pub mod repo;

/// Everyone, admins first, then by name. Admins only.
#[server(prefix = "/api", endpoint = "people/list")]
pub async fn list_people() -> Result<Vec<Person>, AppError> {
    let (_, state) = crate::auth::require(crate::access::Area::Admin).await?;
    repo::list(&state.pool).await
}

/// Adds a representative who can sign in at once. 409 if the email is taken.
#[server(prefix = "/api", endpoint = "people/add")]
pub async fn add_person(email: String, display_name: String, role: String, password: String) -> Result<Person, AppError> {
    use crate::model::{DisplayName, Email, NewPassword};
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    let email = Email::parse(&email)?;
    let name = DisplayName::parse(&display_name)?;
    let role = crate::model::Role::parse(&role)?;
    let password = NewPassword::parse(&password)?;
    let person = repo::add(&state.pool, &email, &name, role, password).await?;
    tracing::info!(by = %me.id, representative = %person.id, role = %role, "representative added");
    Ok(person)
}

/// Gives someone another role; their open pages the new role does not
/// reach close. The last active admin cannot stop being one.
#[server(prefix = "/api", endpoint = "people/role")]
pub async fn change_role(id: Uuid, role: String) -> Result<Person, AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    let role = crate::model::Role::parse(&role)?;
    let person = repo::set_role(&state.pool, id, role).await?;
    crate::engine::agents::access_changed(&state.engine, id.into());
    tracing::info!(by = %me.id, representative = %id, role = %role, "role changed");
    Ok(person)
}

/// Disables (signs out everywhere, logs out of every queue with their
/// customers handed back, closes their open pages, refuses sign-in) or
/// enables someone. The last active admin cannot be disabled.
#[server(prefix = "/api", endpoint = "people/disabled")]
pub async fn set_disabled(id: Uuid, disabled: bool) -> Result<Person, AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    let person = repo::set_disabled(&state.pool, id, disabled).await?;
    if disabled {
        crate::engine::agents::revoke(&state.engine, id.into()).await?;
    }
    tracing::info!(by = %me.id, representative = %id, disabled, "access changed");
    Ok(person)
}

/// Sets a new password for someone; their open sessions end, as with
/// disabling.
#[server(prefix = "/api", endpoint = "people/password")]
pub async fn reset_password(id: Uuid, password: String) -> Result<Person, AppError> {
    use crate::model::NewPassword;
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    let password = NewPassword::parse(&password)?;
    let person = repo::set_password(&state.pool, id, password).await?;
    crate::engine::agents::revoke(&state.engine, id.into()).await?;
    tracing::info!(by = %me.id, representative = %id, "password reset");
    Ok(person)
}
