//! Who is signed in on this browser. The session (in PostgreSQL through
//! tower-sessions) holds only the representative's id and the generation of
//! their credentials; the rest is read fresh on every request, so a role
//! change or a disabled account takes effect at once.

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tower_sessions::Session;
use uuid::Uuid;

use crate::error::AppError;
use crate::model::{Me, Role};

const KEY: &str = "representative";

#[derive(Serialize, Deserialize)]
struct SignedIn {
    id: Uuid,
    generation: i32,
}

fn store_error(error: tower_sessions::session::Error) -> AppError {
    tracing::error!(%error, "session store error");
    AppError::Internal
}

/// The representative signed in on this session, if any and still allowed.
pub async fn current(session: &Session, pool: &PgPool) -> Result<Option<Me>, AppError> {
    let Some(signed_in) = session.get::<SignedIn>(KEY).await.map_err(store_error)? else {
        return Ok(None);
    };
    let row = sqlx::query!(
        r#"SELECT id, email, display_name, role
             FROM representatives
            WHERE id = $1 AND NOT disabled AND session_generation = $2"#,
        signed_in.id,
        signed_in.generation,
    )
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => Ok(Some(Me { id: row.id, email: row.email, display_name: row.display_name, role: Role::parse(&row.role)? })),
        None => {
            // Disabled, password reset or deleted since: this session is over.
            session.flush().await.map_err(store_error)?;
            Ok(None)
        }
    }
}

/// The signed-in representative, if their role opens `area`: 401 when
/// nobody is signed in, 403 when the role does not reach.
pub async fn allowed(session: &Session, pool: &PgPool, area: crate::access::Area) -> Result<Me, AppError> {
    let me = current(session, pool).await?.ok_or_else(AppError::sign_in_needed)?;
    if !area.allows(me.role) {
        return Err(AppError::Forbidden);
    }
    Ok(me)
}

/// Signs a representative in on this session. The session id is renewed
/// first, so an id planted before sign-in (session fixation) is worthless.
pub async fn start(session: &Session, id: Uuid, generation: i32) -> Result<(), AppError> {
    session.cycle_id().await.map_err(store_error)?;
    session.insert(KEY, SignedIn { id, generation }).await.map_err(store_error)
}

/// Signs out: the session is deleted from the store and the cookie cleared.
pub async fn end(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(store_error)
}
