//! Representatives in PostgreSQL. Used by the admin pages, the setup page and
//! the command line alike.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::password;
use crate::error::AppError;
use crate::model::{DisplayName, Email, NewPassword, Person, Role};

struct Row {
    id: Uuid,
    email: String,
    display_name: String,
    role: String,
    disabled: bool,
    created_at: time::OffsetDateTime,
    last_sign_in_at: Option<time::OffsetDateTime>,
}

impl TryFrom<Row> for Person {
    type Error = AppError;

    fn try_from(row: Row) -> Result<Self, AppError> {
        Ok(Person {
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            role: Role::parse(&row.role)?,
            disabled: row.disabled,
            created_at: row.created_at,
            last_sign_in_at: row.last_sign_in_at,
        })
    }
}

fn not_found() -> AppError {
    AppError::NotFound("No such representative.".into())
}

pub async fn list(pool: &PgPool) -> Result<Vec<Person>, AppError> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT id, email, display_name, role, disabled, created_at, last_sign_in_at
             FROM representatives
            ORDER BY CASE role WHEN 'admin' THEN 0 WHEN 'supervisor' THEN 1 ELSE 2 END,
                     lower(display_name), lower(email)"#,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Person::try_from).collect()
}

pub async fn find_by_email(pool: &PgPool, email: &Email) -> Result<Option<Person>, AppError> {
    let row = sqlx::query_as!(
        Row,
        r#"SELECT id, email, display_name, role, disabled, created_at, last_sign_in_at
             FROM representatives WHERE lower(email) = $1"#,
        email.normalized(),
    )
    .fetch_optional(pool)
    .await?;
    row.map(Person::try_from).transpose()
}

/// Adds a representative, with their agent state, channels and the queues
/// everyone joins. A second account for one email (in any case) is a
/// 409, not a database error.
pub async fn add(
    pool: &PgPool,
    email: &Email,
    name: &DisplayName,
    role: Role,
    password: NewPassword,
) -> Result<Person, AppError> {
    let hash = password::hash(password).await?;
    let mut tx = pool.begin().await?;
    let person = insert(&mut tx, email, name, role, &hash).await?;
    tx.commit().await?;
    Ok(person)
}

pub async fn insert(
    conn: &mut PgConnection,
    email: &Email,
    name: &DisplayName,
    role: Role,
    password_hash: &str,
) -> Result<Person, AppError> {
    let result = sqlx::query_as!(
        Row,
        r#"INSERT INTO representatives (email, display_name, role, password_hash)
           VALUES ($1, $2, $3, $4)
           RETURNING id, email, display_name, role, disabled, created_at, last_sign_in_at"#,
        email.as_str(),
        name.as_str(),
        role.as_str(),
        password_hash,
    )
    .fetch_one(&mut *conn)
    .await;
    match result {
        Ok(row) => {
            crate::engine::agents::provision(conn, row.id.into()).await?;
            row.try_into()
        }
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            Err(AppError::Conflict(format!("{} already has an account.", email.as_str())))
        }
        Err(error) => Err(error.into()),
    }
}

/// A change to someone's access that could leave the service without an admin.
enum AccessChange {
    Role(Role),
    Disabled(bool),
}

/// Applies the change and refuses it if it would take away the last active
/// admin. Active admins' rows are locked first, so two admins demoting each
/// other at the same moment cannot both succeed.
async fn change_access(pool: &PgPool, id: Uuid, change: AccessChange) -> Result<Person, AppError> {
    let mut tx = pool.begin().await?;
    let admins_before = sqlx::query!("SELECT id FROM representatives WHERE role = 'admin' AND NOT disabled FOR UPDATE")
        .fetch_all(&mut *tx)
        .await?
        .len();
    let row = match change {
        AccessChange::Role(role) => {
            sqlx::query_as!(
                Row,
                r#"UPDATE representatives SET role = $2 WHERE id = $1
                   RETURNING id, email, display_name, role, disabled, created_at, last_sign_in_at"#,
                id,
                role.as_str(),
            )
            .fetch_optional(&mut *tx)
            .await?
        }
        // Disabling also moves the credentials generation on, which ends
        // every session the person has open.
        AccessChange::Disabled(disabled) => {
            sqlx::query_as!(
                Row,
                r#"UPDATE representatives
                      SET disabled = $2,
                          session_generation = session_generation + CASE WHEN $2 THEN 1 ELSE 0 END
                    WHERE id = $1
                RETURNING id, email, display_name, role, disabled, created_at, last_sign_in_at"#,
                id,
                disabled,
            )
            .fetch_optional(&mut *tx)
            .await?
        }
    }
    .ok_or_else(not_found)?;
    let admins_left =
        sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM representatives WHERE role = 'admin' AND NOT disabled"#)
            .fetch_one(&mut *tx)
            .await?;
    if admins_before > 0 && admins_left == 0 {
        return Err(AppError::Conflict("At least one active admin must remain: make someone else admin first.".into()));
    }
    tx.commit().await?;
    row.try_into()
}

pub async fn set_role(pool: &PgPool, id: Uuid, role: Role) -> Result<Person, AppError> {
    change_access(pool, id, AccessChange::Role(role)).await
}

pub async fn set_disabled(pool: &PgPool, id: Uuid, disabled: bool) -> Result<Person, AppError> {
    change_access(pool, id, AccessChange::Disabled(disabled)).await
}

/// A new password ends the person's open sessions.
pub async fn set_password(pool: &PgPool, id: Uuid, password: NewPassword) -> Result<Person, AppError> {
    let hash = password::hash(password).await?;
    let row = sqlx::query_as!(
        Row,
        r#"UPDATE representatives
              SET password_hash = $2, session_generation = session_generation + 1
            WHERE id = $1
        RETURNING id, email, display_name, role, disabled, created_at, last_sign_in_at"#,
        id,
        hash,
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(not_found)?;
    row.try_into()
}

pub async fn active_admin_exists(pool: &PgPool) -> Result<bool, AppError> {
    let exists = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM representatives WHERE role = 'admin' AND NOT disabled) AS "exists!""#
    )
    .fetch_one(pool)
    .await?;
    Ok(exists)
}
