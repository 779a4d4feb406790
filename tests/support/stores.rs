//! The suite runs on both stores: SQLite (the default) and PostgreSQL when
//! `NUDGE_TEST_STORE=postgres` (`scripts/test` runs it both ways). A test asks here for a fresh
//! store, or for the `[store]` lines of a config, and gets the backend of the run; each test on
//! PostgreSQL has a database of its own on the binary's shared server.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use nudge::config::{PostgresStore, StoreConfig};
use nudge::store::Store;

use super::Postgres;

/// The backend this run tests, from `NUDGE_TEST_STORE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn backend() -> Backend {
    match std::env::var("NUDGE_TEST_STORE").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Ok("") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("NUDGE_TEST_STORE={other:?}: use sqlite or postgres"),
    }
}

/// A new, empty database on the shared server, and its URL.
pub fn fresh_database() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "t_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    Postgres::shared().create_database(&name)
}

/// The store config of a fresh store for a test: a file in `dir`, or a new database.
pub fn fresh_config(dir: &Path) -> StoreConfig {
    let path = dir.join("nudge.db");
    match backend() {
        Backend::Sqlite => StoreConfig {
            path,
            postgres: None,
        },
        Backend::Postgres => StoreConfig {
            path,
            postgres: Some(PostgresStore {
                url: fresh_database().into(),
                schema: "nudge_test".into(),
            }),
        },
    }
}

/// A fresh, open store of the run's backend.
pub async fn fresh(dir: &Path) -> Store {
    let store = Store::connect(&fresh_config(dir))
        .await
        .expect("the store opens");
    let postgres = store.backend() == nudge::store::Backend::Postgres;
    assert_eq!(
        postgres,
        backend() == Backend::Postgres,
        "the run's backend"
    );
    store
}

/// The ids of the messages a pass has still to apply, in the order it applies them.
pub async fn unprocessed_ids(store: &Store) -> Vec<i64> {
    let messages = store.unprocessed_messages().await.expect("read");
    messages.iter().map(|m| m.id).collect()
}

/// The `[store]` lines of a scenario's config: the file at `path`, and on PostgreSQL a new
/// database (the account's schema is nudge's default for the seller).
pub fn section(path: &Path) -> String {
    section_on(path, backend())
}

/// The `[store]` lines of a config on `backend`, whatever the run tests: for the tests of one
/// backend's own mechanism (SQLite's WAL sync).
pub fn section_on(path: &Path, backend: Backend) -> String {
    match backend {
        Backend::Sqlite => format!("[store]\npath = \"{}\"\n", path.display()),
        Backend::Postgres => format!(
            "[store]\npath = \"{}\"\nurl = \"{}\"\n",
            path.display(),
            fresh_database()
        ),
    }
}

/// A pool of plain connections to the store `config` names, for tests that read rows
/// themselves (on PostgreSQL, in the account's schema).
pub async fn raw(config: &StoreConfig) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let options = sqlx::any::AnyPoolOptions::new().max_connections(1);
    match &config.postgres {
        None => options
            .connect(&format!("sqlite://{}", config.path.display()))
            .await
            .expect("the store opens"),
        Some(postgres) => {
            let set = format!("SET search_path TO \"{}\"", postgres.schema);
            options
                .after_connect(move |connection, _| {
                    let set = set.clone();
                    Box::pin(async move {
                        use sqlx::Executor;
                        connection
                            .execute(sqlx::raw_sql(sqlx::AssertSqlSafe(set)))
                            .await?;
                        Ok(())
                    })
                })
                .connect(postgres.url.expose())
                .await
                .expect("the store opens")
        }
    }
}
