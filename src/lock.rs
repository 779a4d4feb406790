//! One process at a time acts on a mailbox (SPEC 7): a pass that can touch the server (`run`,
//! `sync`, `summary --send`) holds an exclusive lock on a file beside the store, and a second
//! daemon for the same store refuses to start. The lock file says who holds it, so the one
//! that waits can tell the seller.
//!
//! The operating system releases the lock when the process ends, however it ends: a crash
//! leaves nothing to clean up.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::StoreConfig;
use crate::error::{Error, Result};
use crate::store::Store;

/// How long a second pass waits for the first before saying who holds the lock.
pub const PASS_WAIT: Duration = Duration::from_secs(30);
/// How often a waiting process looks again.
const POLL: Duration = Duration::from_millis(100);

/// Which lock beside the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Held for one pass that can touch the server.
    Pass,
    /// Held by `nudge run` for its whole life: one daemon per store.
    Daemon,
}

/// An exclusive lock, held until dropped.
#[derive(Debug)]
pub struct Lock {
    /// Kept open: closing the file releases the lock.
    _file: File,
    /// On a PostgreSQL store, the same lock on the server, for processes on other hosts,
    /// and its name there.
    server: Option<(crate::store::ServerLock, &'static str)>,
}

/// The lock file of `kind` for the store at `store`.
pub fn path_of(store: &Path, kind: Kind) -> PathBuf {
    let suffix = match kind {
        Kind::Pass => "pass.lock",
        Kind::Daemon => "daemon.lock",
    };
    PathBuf::from(format!("{}.{suffix}", store.display()))
}

impl Lock {
    /// Takes the lock for `what` (like "nudge sync"), waiting up to `wait` for its holder.
    pub async fn acquire(store: &Path, kind: Kind, what: &str, wait: Duration) -> Result<Lock> {
        let path = path_of(store, kind);
        let error = |e: std::io::Error| Error::Store {
            path: path.clone(),
            reason: format!("cannot open the lock file: {e}"),
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(error)?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if started.elapsed() < wait => {
                    tokio::time::sleep(POLL).await;
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::Busy {
                        holder: holder(&mut file),
                        waited: started.elapsed().as_secs(),
                    });
                }
                Err(TryLockError::Error(e)) => return Err(error(e)),
            }
        }
        // Say who holds it, for the one that waits.
        let note = format!("pid {} ({what})\n", std::process::id());
        let _ = file
            .set_len(0)
            .and_then(|_| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(note.as_bytes()));
        Ok(Lock {
            _file: file,
            server: None,
        })
    }

    /// Takes the lock for `what` beside `config`'s store and, on a PostgreSQL store, the same
    /// lock on the server, so that processes on other hosts take turns too. Both within
    /// `wait`.
    pub async fn acquire_for(
        config: &StoreConfig,
        store: &Store,
        kind: Kind,
        what: &str,
        wait: Duration,
    ) -> Result<Lock> {
        let started = Instant::now();
        let mut lock = Lock::acquire(&config.path, kind, what, wait).await?;
        if config.postgres.is_none() {
            return Ok(lock);
        }
        let name = match kind {
            Kind::Pass => "pass",
            Kind::Daemon => "daemon",
        };
        loop {
            match store.try_server_lock(name).await? {
                Ok(server) => {
                    lock.server = Some((server, name));
                    return Ok(lock);
                }
                Err(_) if started.elapsed() < wait => tokio::time::sleep(POLL).await,
                Err(holder) => {
                    return Err(Error::Busy {
                        holder,
                        waited: started.elapsed().as_secs(),
                    })
                }
            }
        }
    }

    /// For a lock held for long (the daemon's): makes sure its half on the server is still
    /// held, and takes it again if the session that held it ended (the server restarted, the
    /// connection broke). [`Error::Busy`] when another process took it meanwhile: nothing may
    /// be done for the account until it is ours again.
    pub async fn keep(&mut self, store: &Store) -> Result<()> {
        let Some((server, name)) = &self.server else {
            return Ok(());
        };
        if store.still_held(server).await {
            return Ok(());
        }
        let name = *name;
        tracing::warn!(
            "the store's server no longer holds this process's {name} lock (it restarted or \
             the connection broke): taking it again"
        );
        match store.try_server_lock(name).await? {
            Ok(server) => {
                self.server = Some((server, name));
                Ok(())
            }
            Err(holder) => Err(Error::Busy { holder, waited: 0 }),
        }
    }
}

/// Who holds a lock, as its file says.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file
        .seek(SeekFrom::Start(0))
        .and_then(|_| file.take(200).read_to_string(&mut text));
    let text = text.trim();
    if text.is_empty() {
        "another nudge process".to_string()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_holder_waits_then_says_who_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("nudge.db");
        let first = Lock::acquire(&store, Kind::Pass, "nudge run", Duration::ZERO)
            .await
            .unwrap();
        let second = Lock::acquire(&store, Kind::Pass, "nudge sync", Duration::from_millis(250))
            .await
            .unwrap_err();
        let text = second.to_string();
        assert!(text.contains("nudge run"), "{text}");
        assert!(text.contains(&std::process::id().to_string()), "{text}");
        // The daemon lock is another lock.
        Lock::acquire(&store, Kind::Daemon, "nudge run", Duration::ZERO)
            .await
            .unwrap();
        drop(first);
        Lock::acquire(&store, Kind::Pass, "nudge sync", Duration::ZERO)
            .await
            .expect("free again once the first is dropped");
    }
}
