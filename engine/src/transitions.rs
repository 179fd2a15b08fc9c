//! What every transition shares: the agent's lock taken first, and the
//! retry when the database gives a transaction up to a concurrent one.

use std::future::Future;
use std::time::Duration;

use sqlx::PgConnection;

use crate::error::AppError;
use crate::states::AgentId;

/// Locks the agent's state row: the first lock of every transition that
/// concerns one agent.
pub(crate) async fn lock_agent(conn: &mut PgConnection, agent: AgentId) -> Result<(), AppError> {
    sqlx::query!("SELECT representative_id FROM agent_states WHERE representative_id = $1 FOR UPDATE", agent.uuid())
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("No such representative.".into()))?;
    Ok(())
}

/// How many times a transition is tried when it keeps losing to deadlocks.
pub(crate) const ATTEMPTS: u32 = 3;

/// Runs a transition, again when the database gave it up to a deadlock or a
/// serialization conflict (its transaction rolled back, so nothing of it
/// happened), at most ATTEMPTS times in all, after a short pause that
/// grows each time.
pub(crate) async fn retrying<T, Fut>(mut transition: impl FnMut() -> Fut) -> Result<T, AppError>
where
    Fut: Future<Output = Result<T, AppError>>,
{
    let mut attempt = 1;
    loop {
        match transition().await {
            Err(AppError::Contention) if attempt < ATTEMPTS => {
                tracing::info!(attempt, "a transition lost to a concurrent one; trying again");
                let pause = 5 * u64::from(attempt) + u64::from(rand::random::<u8>() % 10);
                tokio::time::sleep(Duration::from_millis(pause)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_transition_that_loses_is_tried_again_a_bounded_number_of_times() {
        let tries = AtomicU32::new(0);
        let twice = retrying(|| async {
            let attempt = tries.fetch_add(1, Ordering::SeqCst) + 1;
            if attempt < 3 {
                Err(AppError::Contention)
            } else {
                Ok(attempt)
            }
        })
        .await;
        assert_eq!(twice, Ok(3));

        tries.store(0, Ordering::SeqCst);
        let always = retrying(|| async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(AppError::Contention)
        })
        .await;
        assert_eq!(always, Err(AppError::Contention));
        assert_eq!(tries.load(Ordering::SeqCst), ATTEMPTS);

        tries.store(0, Ordering::SeqCst);
        let refused = retrying(|| async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(AppError::invalid("no"))
        })
        .await;
        assert_eq!(refused, Err(AppError::invalid("no")));
        assert_eq!(tries.load(Ordering::SeqCst), 1, "other errors are not retried");
    }
}
