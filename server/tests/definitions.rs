//! The engine's SQL has one current definition in the repository: every
//! function and trigger the database holds is one of the `.sql` files
//! beside the Rust that calls it, with the body those files give, and every
//! index those files declare is there. Applying the files again (every
//! server start does) changes nothing and fails nothing.

mod common;

use app::engine::definitions::definitions;
use sqlx::PgPool;

/// The file that defines `function`, by its `CREATE OR REPLACE FUNCTION`.
fn file_defining(function: &str) -> Option<(&'static str, String)> {
    definitions().into_iter().find(|(_, sql)| sql.contains(&format!("CREATE OR REPLACE FUNCTION {function}(")))
}

/// Every name declared in the files after `keyword`, up to `(` or a space.
fn declared(keyword: &str) -> Vec<String> {
    let mut names: Vec<String> = definitions()
        .iter()
        .flat_map(|(_, sql)| {
            sql.match_indices(keyword).filter_map(|(at, _)| sql[at + keyword.len()..].split(['(', ' ']).next().map(str::to_owned))
        })
        .collect();
    names.sort();
    names
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn the_database_holds_exactly_the_functions_of_the_definition_files(pool: PgPool) {
    common::define(&pool).await;
    // A second start applies them again.
    common::define(&pool).await;

    let functions: Vec<(String, String)> = sqlx::query_as(
        "SELECT p.proname::text, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = 'public' ORDER BY p.proname",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(!functions.is_empty());
    for (name, body) in &functions {
        let (file, sql) =
            file_defining(name).unwrap_or_else(|| panic!("the database has a function {name} that no definition file declares"));
        assert!(sql.contains(body.as_str()), "{name}: the database's body differs from {file}");
    }
    let mut held: Vec<String> = functions.into_iter().map(|(name, _)| name).collect();
    held.dedup();
    assert_eq!(held, declared("CREATE OR REPLACE FUNCTION "), "every declared function is in the database, once");

    let triggers: Vec<String> = sqlx::query_scalar(
        "SELECT t.tgname::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND NOT t.tgisinternal ORDER BY t.tgname",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(triggers, declared("CREATE OR REPLACE TRIGGER "), "triggers only from the definition files");

    let indexes: Vec<String> =
        sqlx::query_scalar("SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public'").fetch_all(&pool).await.unwrap();
    let wanted = declared("CREATE INDEX IF NOT EXISTS ");
    assert!(!wanted.is_empty());
    for index in wanted {
        assert!(indexes.contains(&index), "the index {index} of the definition files is missing");
    }
}

/// The text the database records as applied.
async fn applied(pool: &PgPool) -> String {
    sqlx::query_scalar("SELECT applied FROM engine_definitions").fetch_one(pool).await.unwrap()
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_server_starting_while_another_writes_waits_for_nothing(pool: PgPool) {
    common::define(&pool).await;
    // Another server, in the middle of a transition that writes agents.
    let mut working = pool.begin().await.unwrap();
    sqlx::raw_sql("LOCK TABLE agent_states, agent_channels IN ROW EXCLUSIVE MODE").execute(&mut *working).await.unwrap();

    let start = tokio::time::timeout(std::time::Duration::from_secs(5), common::define(&pool)).await;
    assert!(start.is_ok(), "a start with unchanged definitions waited for another server's transaction");
    working.commit().await.unwrap();
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn changed_definitions_are_applied_even_through_a_deadlock_with_a_working_server(pool: PgPool) {
    common::define(&pool).await;
    let files = applied(&pool).await;
    sqlx::query("UPDATE engine_definitions SET applied = 'an older version'").execute(&pool).await.unwrap();

    // Another server writes agent states, then agent channels; the new
    // definitions lock the channels' table, then the states' (their
    // indexes): each side waits for the other.
    let mut working = pool.begin().await.unwrap();
    sqlx::raw_sql("LOCK TABLE agent_states IN ROW EXCLUSIVE MODE").execute(&mut *working).await.unwrap();
    let other_server = async {
        let waiting = "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted AND relation = 'agent_states'::regclass)";
        while !sqlx::query_scalar::<_, bool>(waiting).fetch_one(&pool).await.unwrap() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        // Whichever side PostgreSQL gives up, the server starts.
        let _ = sqlx::raw_sql("LOCK TABLE agent_channels IN ROW EXCLUSIVE MODE").execute(&mut *working).await;
        let _ = working.commit().await;
    };
    let (started, ()) = tokio::join!(app::engine::definitions::apply(&pool), other_server);

    started.expect("the new definitions were applied");
    assert_eq!(applied(&pool).await, files);
}
