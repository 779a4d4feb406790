//! The store: the record of truth for what nudge knows and did. One SQLite file for a seller,
//! or a schema per account on a PostgreSQL server a team shares; the same SQL for both.
//!
//! WAL mode (the CLI can read while the daemon writes), a busy timeout, the file created 0600
//! in a 0700 folder, and forward-only migrations embedded from `migrations/`. Only this module
//! knows sqlx; the rest of nudge sees domain types.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use sqlx::{AssertSqlSafe, Executor};

use chrono::{DateTime, Utc};

use crate::config::{PostgresStore, StoreConfig};
use crate::error::{Error, Result};

mod batch;
mod conversations;
mod drafts;
mod mapping;
mod messages;
mod summaries;
mod suppressions;
mod team;
pub use crate::rules::Effect;
pub(crate) use conversations::Pending;
pub use conversations::{Planned, ToPlan};
pub use drafts::{Draft, DraftCopy, DraftState};
pub use messages::{
    Cursor, FolderState, MessageText, NewMessage, Quarantined, SellerReach, TextCandidate,
};

/// A stored message, as the engine reads it back.
pub type StoredMessage = crate::model::Message;
pub use summaries::{SummaryAttempt, SummaryRecord};
pub use suppressions::Suppression;
pub use team::TeamSuppression;

/// A write transaction on the store, for the engine to hold across a chunk of work.
pub type WriteTx = sqlx::Transaction<'static, sqlx::Any>;

/// How long a writer waits for another (the CLI beside the daemon) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Which database holds the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One file on this machine: a single seller.
    Sqlite,
    /// A server a team shares; each account's rows in its own schema.
    Postgres,
}

/// Where the store is.
#[derive(Debug, Clone)]
enum Location {
    Sqlite(PathBuf),
    Postgres(PostgresStore),
}

/// An open store.
#[derive(Clone, Debug)]
pub struct Store {
    /// The connection pool; SQLite serializes writers, WAL lets readers go on.
    pool: AnyPool,
    /// What the store is called in messages: the file, or the server's URL without password.
    path: PathBuf,
    location: Location,
    /// The team this store's seller belongs to, once joined ([`Store::join_team`]).
    member: Option<team::Member>,
    /// The connection of this store's advisory locks on PostgreSQL.
    locks: LockConnection,
}

/// The SQLite migrations that commit their own work, because they switch foreign keys off to
/// rebuild a table and a transaction cannot, each with a query that counts what it left
/// behind (more than zero: its work committed). The migrator records such a migration only
/// after it ran: a process killed between the two leaves the work done and unrecorded, and
/// running it again would fail for good ("duplicate column").
const SELF_COMMITTING: &[(i64, &str)] = &[(
    7,
    "SELECT COUNT(*) FROM pragma_table_info('messages') WHERE name = 'heard'",
)];

/// Moves the rows of `thread_ids` (stores made before migration 15) into `thread_keys`, each
/// Message-ID as its key ([`messages::thread_key`]), and drops `thread_ids`: all in one
/// transaction, so that a process stopped in the middle leaves `thread_ids` whole and the
/// next start moves it again. Nothing to do in a store that has no `thread_ids`.
async fn move_thread_ids(pool: &AnyPool) -> std::result::Result<(), sqlx::Error> {
    let exists = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'thread_ids'";
    if sqlx::query_scalar::<_, i64>(exists).fetch_one(pool).await? == 0 {
        return Ok(());
    }
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    // Another process may have moved it while this one waited for the write lock.
    if sqlx::query_scalar::<_, i64>(exists)
        .fetch_one(&mut *tx)
        .await?
        == 0
    {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let mut after = 0_i64;
    let mut moved = 0_usize;
    loop {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT rowid, message_id, thread_id FROM thread_ids WHERE rowid > ?
             ORDER BY rowid LIMIT 5000",
        )
        .bind(after)
        .fetch_all(&mut *tx)
        .await?;
        let Some(last) = rows.last() else { break };
        after = last.0;
        moved += rows.len();
        let keys: Vec<(i64, i64)> = rows
            .iter()
            .map(|(_, id, thread)| (messages::thread_key(id), *thread))
            .collect();
        batch::insert_thread_keys(&mut tx, &keys).await?;
    }
    sqlx::query("DROP TABLE thread_ids")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(
        ids = moved,
        ms = started.elapsed().as_millis() as u64,
        "threading by key: moved the store's Message-IDs"
    );
    Ok(())
}

/// Records the self-committing migrations whose work committed but whose record was lost to a
/// kill, as the migrator would have, so that the migrator goes on with the next one.
async fn record_self_committed(
    pool: &AnyPool,
    migrator: &sqlx::migrate::Migrator,
) -> std::result::Result<(), sqlx::Error> {
    let has_table: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(pool)
    .await?;
    if has_table == 0 {
        return Ok(());
    }
    for (version, probe) in SELF_COMMITTING {
        let Some(migration) = migrator.iter().find(|m| m.version == *version) else {
            continue;
        };
        let recorded: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE version = ?")
                .bind(version)
                .fetch_one(pool)
                .await?;
        let left: i64 = sqlx::query_scalar(*probe).fetch_one(pool).await?;
        if recorded == 0 && left > 0 {
            tracing::warn!(
                version,
                "migration {version} committed but was not recorded (a process was stopped \
                 in between); recording it"
            );
            sqlx::query(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
                 execution_time) VALUES (?, ?, TRUE, ?, -1)",
            )
            .bind(version)
            .bind(migration.description.to_string())
            .bind(migration.checksum.to_vec())
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}

impl Store {
    /// Opens the store `config` names (SQLite or PostgreSQL), creating it and bringing its
    /// schema up to date.
    pub async fn connect(config: &StoreConfig) -> Result<Store> {
        match &config.postgres {
            Some(postgres) => {
                // The folder beside the path still keeps this host's lock files.
                prepare_folder(&config.path).map_err(|e| store_error(&config.path, e))?;
                Store::open_postgres(postgres).await
            }
            None => Store::open(&config.path).await,
        }
    }

    /// Opens the store of `config`'s account and, when it names a team, joins it.
    pub async fn for_config(config: &crate::config::Config) -> Result<Store> {
        let mut store = Store::connect(&config.store).await?;
        if let Some(team) = &config.team {
            if let Err(e) = store.join_team(team, &config.account).await {
                store.close().await;
                return Err(e);
            }
        }
        Ok(store)
    }

    /// Opens (creating if needed) the SQLite store at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Store> {
        sqlx::any::install_default_drivers();
        prepare_file(path).map_err(|e| store_error(path, e))?;
        // SQLite opens its side files by name and would follow a link planted there.
        for suffix in ["-wal", "-shm", "-journal"] {
            let side = PathBuf::from(format!("{}{suffix}", path.display()));
            refuse_symlink(&side).map_err(|e| store_error(&side, e))?;
        }
        let url = format!("sqlite://{}?mode=rwc", url_path(path));
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(BUSY_TIMEOUT * 2)
            .after_connect(|connection, _| {
                Box::pin(async move {
                    // WAL: the CLI reads while the daemon writes; NORMAL is durable at each
                    // checkpoint and safe against corruption in WAL mode. temp_store: the
                    // statement journal of a many-row INSERT or UPDATE (the copy of the
                    // pages it changed, kept to undo it alone) stays in memory, a few pages,
                    // instead of a temporary file written and read back (about 0.8 s of
                    // system time less in a first sync of 100,000 messages). cache_size:
                    // each connection keeps 512 KiB of pages (2 MiB by default); the
                    // system's page cache holds the file, and the pool's connections hold
                    // 6 MiB less at the peak of a first sync of 100,000 messages, no slower.
                    connection
                        .execute(sqlx::raw_sql(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                             PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;
                             PRAGMA temp_store = MEMORY; PRAGMA cache_size = -512;",
                        ))
                        .await?;
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|e| store_error(path, e))?;
        let migrator = sqlx::migrate!("./migrations");
        record_self_committed(&pool, &migrator)
            .await
            .map_err(|e| store_error(path, format!("migrating the schema: {e}")))?;
        migrator
            .run(&pool)
            .await
            .map_err(|e| store_error(path, format!("migrating the schema: {e}")))?;
        move_thread_ids(&pool)
            .await
            .map_err(|e| store_error(path, format!("migrating the schema: {e}")))?;
        // The WAL and shared-memory files take the database file's mode, but make sure.
        for suffix in ["-wal", "-shm"] {
            let side = PathBuf::from(format!("{}{suffix}", path.display()));
            if side.exists() {
                let _ = make_private(&side);
            }
        }
        Ok(Store {
            pool,
            path: path.to_path_buf(),
            location: Location::Sqlite(path.to_path_buf()),
            member: None,
            locks: LockConnection::default(),
        })
    }

    /// Opens the account's schema on a PostgreSQL server, creating the schema if needed and
    /// bringing it up to date.
    pub async fn open_postgres(postgres: &PostgresStore) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let label = PathBuf::from(postgres.shown());
        let fail = |e: &dyn std::fmt::Display| store_error(&label, e);
        let schema = quote_ident(&postgres.schema);
        // The holder of a lock is shown by this name (`pg_stat_activity`).
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let name = format!("nudge pid {} on {}", std::process::id(), host.trim());
        let set_path = format!(
            "SET search_path TO {schema}; SET application_name TO '{}'",
            name.replace('\'', "")
        );
        // A team's server serves every account's connections: three at most each, given
        // back after a minute unused, and one more for its locks (see try_server_lock).
        let pool = AnyPoolOptions::new()
            .max_connections(3)
            .min_connections(0)
            .idle_timeout(Duration::from_secs(60))
            .acquire_timeout(BUSY_TIMEOUT * 2)
            .after_connect(move |connection, _| {
                let set_path = set_path.clone();
                Box::pin(async move {
                    connection
                        .execute(sqlx::raw_sql(AssertSqlSafe(set_path)))
                        .await?;
                    Ok(())
                })
            })
            .connect(postgres.url.expose())
            .await
            .map_err(|e| fail(&e))?;
        sqlx::raw_sql(AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS {schema}"
        )))
        .execute(&pool)
        .await
        .map_err(|e| fail(&format!("creating schema {}: {e}", postgres.schema)))?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| fail(&format!("migrating the schema: {e}")))?;
        Ok(Store {
            pool,
            path: label,
            location: Location::Postgres(postgres.clone()),
            member: None,
            locks: LockConnection::default(),
        })
    }

    /// Tries to take the account's lock `name` on the PostgreSQL server, which every nudge
    /// process of this account on every host asks for: `Ok(None)` when another holds it
    /// (with who it is, as far as the server knows), `Ok(Some(..))` when taken. The lock
    /// lives on a connection of its own and ends when the returned guard is dropped, or when
    /// the process or the connection dies. On SQLite there is nothing to take (the file lock
    /// beside the store does it) and this returns a guard at once.
    pub async fn try_server_lock(
        &self,
        name: &str,
    ) -> Result<std::result::Result<ServerLock, String>> {
        let Location::Postgres(postgres) = &self.location else {
            return Ok(Ok(ServerLock { release: None }));
        };
        let key = lock_key(name, &postgres.schema);
        // All of this store's locks live on one connection of their own, so that an account
        // costs the server one connection for its locks however many it holds.
        let mut slot = self.locks.lock().await;
        let mut fresh = false;
        let (session, taken) = loop {
            if slot.connection.is_none() {
                let connection = self.pool.acquire().await.map_err(|e| self.error(e))?;
                slot.connection = Some(connection.detach());
                slot.session += 1;
                fresh = true;
            }
            let session = slot.session;
            let connection = slot.connection.as_mut().expect("made above");
            let taken: std::result::Result<i64, sqlx::Error> =
                sqlx::query_scalar("SELECT CASE WHEN pg_try_advisory_lock($1) THEN 1 ELSE 0 END")
                    .bind(key)
                    .fetch_one(&mut *connection)
                    .await;
            match taken {
                Ok(taken) => break (session, taken),
                Err(e) => {
                    slot.connection = None;
                    // A connection kept from before may have died with a restart of the
                    // server: one more try, on a new one.
                    if fresh {
                        return Err(self.error(e));
                    }
                }
            }
        };
        let connection = slot.connection.as_mut().expect("taken on it");
        if taken != 0 {
            return Ok(Ok(ServerLock {
                release: Some((self.locks.clone(), key, session)),
            }));
        }
        // Who holds it: the server's note of the holder's connection.
        let holder: Option<String> = sqlx::query_scalar(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
               AND l.classid::bigint = $1 AND l.objid::bigint = $2
             LIMIT 1",
        )
        .bind((key as u64 >> 32) as i64)
        .bind((key as u64 & 0xffff_ffff) as i64)
        .fetch_optional(&mut *connection)
        .await
        .ok()
        .flatten();
        Ok(Err(holder.filter(|h| !h.is_empty()).unwrap_or_else(|| {
            "a nudge process on another machine".to_string()
        })))
    }

    /// Whether `lock` is still held: the server ends a session's locks with the session, and
    /// a restart of the server or a cut connection ends the session without a word to us.
    /// Asks the server on the locks' connection; a lock of a session gone is not held (and
    /// the next [`Store::try_server_lock`] opens a new session). Always true on SQLite.
    pub async fn still_held(&self, lock: &ServerLock) -> bool {
        let Some((_, _, session)) = &lock.release else {
            return true;
        };
        let mut slot = self.locks.lock().await;
        if slot.session != *session {
            return false;
        }
        let Some(connection) = slot.connection.as_mut() else {
            return false;
        };
        let alive = sqlx::query("SELECT 1").execute(&mut *connection).await;
        if alive.is_err() {
            slot.connection = None;
            return false;
        }
        true
    }

    /// Which database holds this store.
    pub fn backend(&self) -> Backend {
        match self.location {
            Location::Sqlite(_) => Backend::Sqlite,
            Location::Postgres(_) => Backend::Postgres,
        }
    }

    /// A private copy of the store, for a dry run: the pass runs on the copy exactly as it
    /// would on the store, and the copy is deleted by [`Snapshot::remove`] (or, for a file,
    /// when the guard is dropped). The store itself is not changed at all (SPEC 7).
    pub async fn snapshot(&self) -> Result<(Store, Snapshot)> {
        match &self.location {
            Location::Sqlite(path) => self.snapshot_file(path).await,
            Location::Postgres(postgres) => self.snapshot_schema(postgres).await,
        }
    }

    async fn snapshot_file(&self, path: &Path) -> Result<(Store, Snapshot)> {
        let path = PathBuf::from(format!(
            "{}.dry-run-{}-{}",
            path.display(),
            std::process::id(),
            fastrand::u32(..)
        ));
        let guard = Snapshot::File { path: path.clone() };
        // Created 0600 and new (never through a link) before SQLite writes into it: VACUUM
        // INTO fills an empty file.
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| store_error(&path, e))?;
        sqlx::query("VACUUM INTO $1")
            .bind(path.to_string_lossy().into_owned())
            .execute(&self.pool)
            .await
            .map_err(|e| self.error(format!("copying the store for a dry run: {e}")))?;
        make_private(&path).map_err(|e| store_error(&path, e))?;
        let copy = Store::open(&path).await?;
        Ok((copy, guard))
    }

    /// Drops the copies of dry runs that were killed before they could (named with their
    /// start, in seconds): any older than [`STALE_DRY_RUN`], whoever made them. Best effort:
    /// a copy left over takes room, nothing else.
    async fn drop_stale_snapshots(&self) {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname::text, $1)",
        )
        .bind(DRY_RUN_PREFIX)
        .fetch_all(&self.pool)
        .await
        .unwrap_or_default();
        let now = chrono::Utc::now().timestamp();
        for name in names {
            let started = name[DRY_RUN_PREFIX.len()..]
                .split('_')
                .next()
                .and_then(|s| s.parse::<i64>().ok());
            // Names of an older form (no start) are as stale as can be.
            if started.is_some_and(|at| now - at < STALE_DRY_RUN.as_secs() as i64) {
                continue;
            }
            let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", quote_ident(&name));
            match sqlx::raw_sql(AssertSqlSafe(sql)).execute(&self.pool).await {
                Ok(_) => tracing::info!("dropped {name}, the copy of a dry run that was stopped"),
                Err(e) => tracing::debug!("could not drop {name}: {e}"),
            }
        }
    }

    /// A dry run's copy on PostgreSQL: a new schema with the same tables, filled from this
    /// one in one transaction.
    async fn snapshot_schema(&self, postgres: &PostgresStore) -> Result<(Store, Snapshot)> {
        self.drop_stale_snapshots().await;
        let name = format!(
            "{DRY_RUN_PREFIX}{}_{}_{:08x}",
            chrono::Utc::now().timestamp(),
            std::process::id(),
            fastrand::u32(..)
        );
        let mut copy = Store::open_postgres(&PostgresStore {
            url: postgres.url.clone(),
            schema: name.clone(),
        })
        .await?;
        // The copy reads the team's list and writes nothing of the team's.
        copy.member = self
            .member
            .clone()
            .map(|m| team::Member { writes: false, ..m });
        let guard = Snapshot::Schema {
            pool: self.pool.clone(),
            schema: name.clone(),
        };
        let fail = |e: sqlx::Error| self.error(format!("copying the store for a dry run: {e}"));
        let (from, to) = (quote_ident(&postgres.schema), quote_ident(&name));
        let mut tx = self.pool.begin().await.map_err(fail)?;
        let mut sql = String::from("SET CONSTRAINTS ALL DEFERRED;");
        for table in TABLES {
            sql.push_str(&format!(
                "INSERT INTO {to}.{table} SELECT * FROM {from}.{table};"
            ));
        }
        // Rows of the identity columns were copied with their ids: new ones come after.
        for table in ["conversations", "drafts", "events"] {
            sql.push_str(&format!(
                "SELECT setval(pg_get_serial_sequence('{to}.{table}', 'id'),
                               COALESCE((SELECT MAX(id) FROM {to}.{table}), 0) + 1, false);"
            ));
        }
        tx.execute(sqlx::raw_sql(AssertSqlSafe(sql)))
            .await
            .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        Ok((copy, guard))
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A write transaction that takes SQLite's write lock at once (`BEGIN IMMEDIATE`): a
    /// deferred transaction that reads and then writes fails at once with
    /// SQLITE_BUSY_SNAPSHOT when another process committed in between, while an immediate one
    /// waits its turn (the busy timeout) and then reads current rows.
    ///
    /// On PostgreSQL the transaction takes the account's transaction-level advisory lock
    /// first: writers of one account take turns the same way, and read the rows the previous
    /// one committed.
    pub(crate) async fn write(&self) -> std::result::Result<WriteTx, sqlx::Error> {
        match &self.location {
            Location::Sqlite(_) => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Location::Postgres(postgres) => {
                let mut tx = self.pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(lock_key("write", &postgres.schema))
                    .execute(&mut *tx)
                    .await?;
                Ok(tx)
            }
        }
    }

    /// The pool, for the store's own submodules.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection, checkpointing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Gives the query planner fresh statistics after a pass that stored many messages (a
    /// first sync): without them PostgreSQL plans the next passes on tables it believes empty
    /// until autovacuum comes round, and SQLite on none at all. PostgreSQL analyzes this
    /// account's tables only; SQLite runs `PRAGMA optimize` with a bounded sample.
    pub async fn refresh_statistics(&self) -> Result<()> {
        match self.backend() {
            Backend::Postgres => {
                // Unqualified names: the account's schema, by the connection's search_path.
                sqlx::query(
                    "ANALYZE folders, threads, thread_keys, messages, contacts, conversations, \
                     drafts, events",
                )
                .execute(&self.pool)
                .await
                .map_err(|e| self.error(e))?;
            }
            Backend::Sqlite => {
                let mut connection = self.pool.acquire().await.map_err(|e| self.error(e))?;
                for pragma in ["PRAGMA analysis_limit = 1000", "PRAGMA optimize = 0x10002"] {
                    sqlx::query(pragma)
                        .execute(&mut *connection)
                        .await
                        .map_err(|e| self.error(e))?;
                }
            }
        }
        Ok(())
    }

    /// Rewrites the SQLite file without the room a bulk of new rows leaves free in its pages
    /// (a row that grows after it was written, as a message does when its text is read, splits
    /// its page; rows keyed by a hash land on half-full pages): about a twentieth of a store
    /// after a first sync. `VACUUM`, its copy in a temporary file rather than in memory, then
    /// the WAL it filled truncated. Costs a write of the whole file: for after a pass that
    /// stored most of the store. PostgreSQL keeps its own pages: nothing to do there.
    pub async fn compact(&self) -> Result<()> {
        if self.backend() == Backend::Postgres {
            return Ok(());
        }
        let mut connection = self.pool.acquire().await.map_err(|e| self.error(e))?;
        sqlx::query("PRAGMA temp_store = FILE")
            .execute(&mut *connection)
            .await
            .map_err(|e| self.error(e))?;
        let vacuumed = sqlx::query("VACUUM").execute(&mut *connection).await;
        let restored = sqlx::query("PRAGMA temp_store = MEMORY")
            .execute(&mut *connection)
            .await;
        vacuumed.map_err(|e| self.error(e))?;
        restored.map_err(|e| self.error(e))?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut *connection)
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Runs SQLite's `PRAGMA integrity_check`; `Ok(())` when it answers "ok". PostgreSQL
    /// keeps its own pages whole; there it checks that the store answers.
    pub async fn integrity_check(&self) -> Result<()> {
        if self.backend() == Backend::Postgres {
            sqlx::query("SELECT 1")
                .execute(&self.pool)
                .await
                .map_err(|e| self.error(e))?;
            return Ok(());
        }
        let rows: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.error(e))?;
        match rows.as_slice() {
            [(ok,)] if ok == "ok" => Ok(()),
            _ => Err(self.error(format!(
                "integrity check failed: {}",
                rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("; ")
            ))),
        }
    }

    /// A small fact about this installation (see the `meta` table).
    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.error(e))
    }

    /// Sets a fact, replacing what it was.
    pub async fn meta_set(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Sets a fact only if it is not set yet; returns the value now stored.
    pub async fn meta_set_once(&self, key: &str, value: &str) -> Result<String> {
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT(key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await
            .map_err(|e| self.error(e))?;
        Ok(self.meta(key).await?.unwrap_or_else(|| value.to_string()))
    }

    /// Records that the seller changed something from the command line (`stop`, `snooze`,
    /// `suppress`, …), so that a running daemon acts on it within a second.
    pub async fn note_control(&self, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('control_changed', $1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )
        .bind(format!("{} {}", now.to_rfc3339(), fastrand::u64(..)))
        .execute(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// What [`Store::note_control`] last wrote; the daemon watches it.
    pub async fn control_mark(&self) -> Result<Option<String>> {
        self.meta("control_changed").await
    }

    /// Names of the migrations applied, oldest first.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>> {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.error(e))
    }

    pub(crate) fn error(&self, reason: impl std::fmt::Display) -> Error {
        store_error(&self.path, reason)
    }
}

/// The connection a store's advisory locks live on (PostgreSQL), made when first needed.
type LockConnection = std::sync::Arc<tokio::sync::Mutex<LockSlot>>;

/// The locks' connection and which session it is: a lock belongs to the session that took it.
#[derive(Debug, Default)]
struct LockSlot {
    connection: Option<sqlx::AnyConnection>,
    /// Counts the connections made: a lock taken on an earlier one ended with it.
    session: u64,
}

/// An account's lock on the PostgreSQL server, held until dropped (or until the server or
/// the process goes away, which ends the session that holds it: see [`Store::still_held`]).
#[derive(Debug)]
pub struct ServerLock {
    release: Option<(LockConnection, i64, u64)>,
}

impl Drop for ServerLock {
    fn drop(&mut self) {
        let Some((locks, key, session)) = self.release.take() else {
            return;
        };
        // Unlocking is a statement on the locks' connection; without a runtime (the process
        // is ending) the session's end releases it.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let mut slot = locks.lock().await;
                // A lock of an earlier session ended with it: nothing to release.
                if slot.session != session {
                    return;
                }
                if let Some(connection) = slot.connection.as_mut() {
                    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
                        .bind(key)
                        .execute(&mut *connection)
                        .await;
                    if unlocked.is_err() {
                        slot.connection = None;
                    }
                }
            });
        }
    }
}

/// The schemas of dry runs' copies on PostgreSQL are named so.
const DRY_RUN_PREFIX: &str = "nudge_dry_";
/// A dry run's copy older than this was left by a process that was killed.
const STALE_DRY_RUN: Duration = Duration::from_secs(6 * 3600);

/// A dry run's copy of the store.
#[derive(Debug)]
pub enum Snapshot {
    /// A copy of the SQLite file; dropping the guard deletes it.
    File { path: PathBuf },
    /// A schema on the PostgreSQL server; [`Snapshot::remove`] drops it.
    Schema { pool: AnyPool, schema: String },
}

impl Snapshot {
    /// Deletes the copy.
    pub async fn remove(self) {
        if let Snapshot::Schema { pool, schema } = &self {
            let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", quote_ident(schema));
            if let Err(e) = sqlx::raw_sql(AssertSqlSafe(sql)).execute(pool).await {
                tracing::warn!("could not drop the dry run's copy {schema}: {e}");
            }
        }
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        if let Snapshot::File { path } = self {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

/// The tables of the store, in an order their foreign keys allow filling.
const TABLES: [&str; 13] = [
    "folders",
    "threads",
    "thread_merges",
    "thread_keys",
    "messages",
    "contacts",
    "conversations",
    "conversation_domains",
    "drafts",
    "events",
    "suppressions",
    "summaries",
    "meta",
];

/// A PostgreSQL identifier, quoted.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The key of a PostgreSQL advisory lock named `what` for `scope` (an account's schema):
/// FNV-1a, stable across builds, so every process and host agrees on it.
pub(crate) fn lock_key(what: &str, scope: &str) -> i64 {
    let hash = what
        .bytes()
        .chain([0])
        .chain(scope.bytes())
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    hash as i64
}

/// A path as the path of a `sqlite://` URL: every byte that is not plainly safe escaped.
fn url_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for &byte in path.as_os_str().as_bytes() {
        if byte.is_ascii_alphanumeric() || b"/._-~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A time as the store keeps it: whole seconds since the Unix epoch, UTC, as a message's
/// Date and arrival, a conversation's times and its history's are kept (migration 0017);
/// drafts, summaries and the rest keep RFC 3339 text. Four bytes each in SQLite until 2038
/// (eight as microseconds, 25 as text). A Date and an INTERNALDATE are whole seconds, and a
/// pass reads its clock to the second (`engine::pass_on`), so a time it gives reads back
/// equal; any other time is cut to the second before it.
pub(crate) fn stored_time(time: DateTime<Utc>) -> i64 {
    time.timestamp()
}

/// A time as [`stored_time`] stored it.
pub(crate) fn read_time(seconds: i64) -> std::result::Result<DateTime<Utc>, String> {
    DateTime::from_timestamp(seconds, 0).ok_or_else(|| format!("bad time {seconds} s in the store"))
}

/// Reads a time stored as RFC 3339 text.
pub(crate) fn parse_time(text: &str) -> std::result::Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("bad time {text:?} in the store: {e}"))
}

fn store_error(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Store {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Creates the store's folder (0700) and file (0600) before SQLite opens it, so the file is
/// never readable by others, not even for a moment.
fn prepare_file(path: &Path) -> std::io::Result<()> {
    prepare_folder(path)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    // An existing file keeps its mode on open: tighten it.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

/// Creates the folder `path` lives in (0700) when it is missing.
fn prepare_folder(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
    }
    Ok(())
}

/// An error when `path` is a symbolic link (a missing path is fine).
fn refuse_symlink(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(std::io::Error::other(
            "it is a symbolic link; nudge does not follow links next to its store (remove it)",
        )),
        _ => Ok(()),
    }
}

/// Sets an existing regular file to 0600, leaving a symbolic link alone. It does not open the
/// file: closing a descriptor would drop the POSIX locks SQLite holds on it in this process.
fn make_private(path: &Path) -> std::io::Result<()> {
    refuse_symlink(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

/// Writes `bytes` to `path` as a private (0600) regular file, never through a symbolic link: a
/// link there is an error, an existing file is replaced in place and made private.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.set_len(0)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// How many values one `IN (…)` binds, well below SQLite's limit of 32,766 variables.
pub(crate) const IN_CHUNK: usize = 500;

/// How many values an `IN (…)` list of `n` values is sent with: `n` rounded up to a power of
/// two, the last value repeated ([`in_list`]), which changes nothing the list finds. A few
/// shapes then serve every count, each prepared once per connection and kept: preparing the
/// batch writer's statements of hundreds of values anew for each batch was 9 % of a first
/// sync's instructions. (The apply step's statements stay one-off: kept, they held about
/// 10 MiB more at 100,000 messages, for 2 % fewer instructions.)
pub(crate) fn in_list_len(n: usize) -> usize {
    n.max(1).next_power_of_two()
}

/// The values of `chunk` (not empty) to bind to an `IN (…)` list of [`in_list_len`] values:
/// each once, then the last again as many times as the list has room left.
pub(crate) fn in_list<T>(chunk: &[T]) -> impl Iterator<Item = &T> {
    let room = in_list_len(chunk.len()) - chunk.len();
    chunk
        .iter()
        .chain(chunk.last().into_iter().cycle().take(room))
}

/// The row counts of the multi-row statements [`shaped`] cuts a list into, largest first.
const SHAPES: [usize; 3] = [64, 8, 1];

/// SQLite allows 32,766 variables in one statement; a multi-row statement stays well below.
pub(crate) const VARIABLES: usize = 30_000;

/// `items` cut into runs of rows for multi-row `INSERT … VALUES` statements of `width` values
/// a row, each run one of a few fixed sizes ([`SHAPES`], fewer rows when wide rows would pass
/// the variable limit): every count is written by statements prepared once per connection and
/// kept (see [`in_list_len`]).
pub(crate) fn shaped<T>(items: &[T], width: usize) -> impl Iterator<Item = &[T]> {
    let most = (VARIABLES / width.max(1)).max(1);
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let rows = SHAPES
            .iter()
            .map(|&rows| rows.min(most))
            .find(|&rows| rows <= rest.len())
            .unwrap_or(1);
        let (run, after) = rest.split_at(rows);
        rest = after;
        Some(run)
    })
}

/// `?, ?, …` for `n` values, in SQL built at run time and then passed through [`numbered`].
pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// SQL built at run time, with `?` placeholders, for `backend`. PostgreSQL reads only `$N`:
/// there they are numbered `$1, $2, …` in order (`?NNN` keeps its number; a `?` inside a
/// quoted string or name is left alone). SQLite keeps its bare `?`: it looks a named
/// parameter like `$7` up among all the statement's names, when parsing and again when
/// binding, which costs the square of the parameters: for a batch INSERT of thousands of
/// them, most of a first sync. SQL written out whole uses `$N`, with few parameters.
pub(crate) fn numbered(backend: Backend, sql: impl Into<String>) -> AssertSqlSafe<String> {
    let sql: String = sql.into();
    if backend == Backend::Sqlite {
        return AssertSqlSafe(sql);
    }
    let mut out = String::with_capacity(sql.len() + sql.len() / 8);
    let mut quote: Option<char> = None;
    let mut n = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '?') => {
                // `?NNN` keeps its number; a bare `?` takes the next.
                out.push('$');
                if !chars.peek().is_some_and(char::is_ascii_digit) {
                    n += 1;
                    out.push_str(&n.to_string());
                }
                continue;
            }
            (None, _) => {}
        }
        out.push(c);
    }
    AssertSqlSafe(out)
}

impl Backend {
    /// The backend a connection speaks.
    pub(crate) fn of(connection: &sqlx::AnyConnection) -> Backend {
        if connection.backend_name().eq_ignore_ascii_case("sqlite") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{numbered, Backend, SELF_COMMITTING};

    /// A migration outside a transaction can be cut between its work and its record; each
    /// needs a probe in `SELF_COMMITTING`, and PostgreSQL's need none (their DDL is
    /// transactional and none opts out).
    #[test]
    fn every_migration_outside_a_transaction_has_a_probe() {
        let listed: Vec<i64> = SELF_COMMITTING.iter().map(|(v, _)| *v).collect();
        let outside: Vec<i64> = sqlx::migrate!("./migrations")
            .iter()
            .filter(|m| m.no_tx)
            .map(|m| m.version)
            .collect();
        assert_eq!(outside, listed);
        for migrator in [
            sqlx::migrate!("./migrations/postgres"),
            sqlx::migrate!("./migrations/team"),
        ] {
            assert!(migrator.iter().all(|m| !m.no_tx));
        }
    }

    #[test]
    fn placeholders_are_numbered_in_order_outside_quotes() {
        assert_eq!(
            numbered(
                Backend::Postgres,
                "SELECT a FROM t WHERE b = ? AND c IN (?, ?)"
            )
            .0,
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
        );
        assert_eq!(
            numbered(
                Backend::Postgres,
                "SELECT '?', \"a?\" FROM t WHERE x LIKE '%?' || ?"
            )
            .0,
            "SELECT '?', \"a?\" FROM t WHERE x LIKE '%?' || $1"
        );
        // A numbered `?NNN` keeps its number, so one value may be named twice.
        assert_eq!(
            numbered(Backend::Postgres, "WHERE a <= ?1 OR b <= ?1 LIMIT ?2").0,
            "WHERE a <= $1 OR b <= $1 LIMIT $2"
        );
        // SQLite reads `?` itself, and binds it without looking names up.
        assert_eq!(
            numbered(
                Backend::Sqlite,
                "SELECT a FROM t WHERE b = ? AND c IN (?, ?)"
            )
            .0,
            "SELECT a FROM t WHERE b = ? AND c IN (?, ?)"
        );
        assert_eq!(numbered(Backend::Postgres, "SELECT 1").0, "SELECT 1");
    }

    #[test]
    fn lock_keys_are_stable_and_apart() {
        assert_eq!(super::lock_key("write", "a"), super::lock_key("write", "a"));
        assert_ne!(super::lock_key("write", "a"), super::lock_key("write", "b"));
        assert_ne!(super::lock_key("write", "a"), super::lock_key("pass", "a"));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(super::lock_key("ab", "c"), super::lock_key("a", "bc"));
    }

    proptest::proptest! {
        /// A list cut for multi-row statements comes back whole and in order, in runs of the
        /// few fixed sizes only, none past the variable limit.
        #[test]
        fn shaped_runs_cover_the_list_in_fixed_sizes(
            len in 0usize..3000,
            width in 1usize..40,
        ) {
            let items: Vec<usize> = (0..len).collect();
            let runs: Vec<&[usize]> = super::shaped(&items, width).collect();
            let flat: Vec<usize> = runs.iter().flat_map(|r| r.iter().copied()).collect();
            proptest::prop_assert_eq!(&flat, &items);
            let most = super::VARIABLES / width;
            for run in &runs {
                proptest::prop_assert!(!run.is_empty());
                proptest::prop_assert!(run.len() * width <= super::VARIABLES);
                proptest::prop_assert!(
                    super::SHAPES.iter().any(|&s| run.len() == s.min(most)),
                    "a run of {} rows", run.len()
                );
            }
            // Fewer statements than one a row: a run of the largest size while it fits.
            proptest::prop_assert!(runs.len() <= len / super::SHAPES[0].min(most) + 7 + 8);
        }

        /// An IN list is sent with a power-of-two count of values that are exactly the
        /// chunk's, in its order first.
        #[test]
        fn in_lists_repeat_the_last_value_up_to_a_power_of_two(
            chunk in proptest::collection::vec(0i64..50, 1..600),
        ) {
            let sent: Vec<i64> = super::in_list(&chunk).copied().collect();
            proptest::prop_assert_eq!(sent.len(), super::in_list_len(chunk.len()));
            proptest::prop_assert!(sent.len().is_power_of_two() && sent.len() >= chunk.len());
            proptest::prop_assert!(sent.len() < 2 * chunk.len());
            proptest::prop_assert_eq!(&sent[..chunk.len()], &chunk[..]);
            proptest::prop_assert!(sent[chunk.len()..].iter().all(|v| Some(v) == chunk.last()));
        }
    }
}
