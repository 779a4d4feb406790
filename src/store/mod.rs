//! The store: one SQLite file, the record of truth for what nudge knows and did.
//!
//! WAL mode (the CLI can read while the daemon writes), a busy timeout, the file created 0600
//! in a 0700 folder, and forward-only migrations embedded from `migrations/`. Only this module
//! knows sqlx; the rest of nudge sees domain types.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};

mod batch;
mod conversations;
mod drafts;
mod mapping;
mod messages;
mod summaries;
mod suppressions;
pub use crate::rules::Effect;
pub(crate) use conversations::Pending;
pub use conversations::{Planned, ToPlan};
pub use drafts::{Draft, DraftCopy, DraftState};
pub use messages::{Cursor, FolderState, MessageText, NewMessage, Quarantined, SellerReach};

/// A stored message, as the engine reads it back.
pub type StoredMessage = crate::model::Message;
pub use summaries::{SummaryAttempt, SummaryRecord};
pub use suppressions::Suppression;

/// How long a writer waits for another (the CLI beside the daemon) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// An open store.
#[derive(Clone, Debug)]
pub struct Store {
    /// The connection pool; SQLite serializes writers, WAL lets readers go on.
    pool: SqlitePool,
    /// Where the file is, for messages.
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Store> {
        prepare_file(path).map_err(|e| store_error(path, e))?;
        // SQLite opens its side files by name and would follow a link planted there.
        for suffix in ["-wal", "-shm", "-journal"] {
            let side = PathBuf::from(format!("{}{suffix}", path.display()));
            refuse_symlink(&side).map_err(|e| store_error(&side, e))?;
        }
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|e| store_error(path, e))?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(BUSY_TIMEOUT * 2)
            .connect_with(options)
            .await
            .map_err(|e| store_error(path, e))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
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
        })
    }

    /// A private copy of the store, for a dry run: the pass runs on the copy exactly as it
    /// would on the store, and the copy is deleted when the returned guard is dropped. The
    /// store itself is not changed at all (SPEC 7).
    pub async fn snapshot(&self) -> Result<(Store, Snapshot)> {
        let path = PathBuf::from(format!(
            "{}.dry-run-{}-{}",
            self.path.display(),
            std::process::id(),
            fastrand::u32(..)
        ));
        let guard = Snapshot { path: path.clone() };
        // Created 0600 and new (never through a link) before SQLite writes into it: VACUUM
        // INTO fills an empty file.
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| store_error(&path, e))?;
        sqlx::query("VACUUM INTO ?")
            .bind(path.to_string_lossy().into_owned())
            .execute(&self.pool)
            .await
            .map_err(|e| self.error(format!("copying the store for a dry run: {e}")))?;
        make_private(&path).map_err(|e| store_error(&path, e))?;
        let copy = Store::open(&path).await?;
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
    pub(crate) async fn write(
        &self,
    ) -> std::result::Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// The pool, for the store's own submodules.
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection, checkpointing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Runs SQLite's `PRAGMA integrity_check`; `Ok(())` when it answers "ok".
    pub async fn integrity_check(&self) -> Result<()> {
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
        sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.error(e))
    }

    /// Sets a fact, replacing what it was.
    pub async fn meta_set(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES (?, ?)
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
        sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING")
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
            "INSERT INTO meta (key, value) VALUES ('control_changed', ?)
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

/// A dry run's copy of the store; dropping it deletes the copy.
#[derive(Debug)]
pub struct Snapshot {
    path: PathBuf,
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
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
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    // An existing file keeps its mode on open: tighten it.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
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

/// `?, ?, …` for `n` values.
pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}
