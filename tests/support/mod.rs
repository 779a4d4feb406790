//! Integration-test harness: real mail servers on loopback, each in its own temp dir.
//!
//! Include from an integration test with `mod support;`. Everything here is synchronous and
//! independent of the test's tokio runtime (servers are child processes, the OAuth2
//! introspection endpoint runs on a std thread), except the small async IMAP client helpers in
//! [`tls`].
//!
//! - [`TestCa`]: a CA generated per run with rcgen and a server certificate for `localhost`,
//!   `127.0.0.1` and `::1`.
//! - [`Dovecot`]: a real Dovecot 2.3 on 127.0.0.1 (IMAPS + IMAP with STARTTLS), three folder
//!   layouts, optional XOAUTH2/OAUTHBEARER against an introspection endpoint served here.
//! - [`SmtpServer`]: a real aiosmtpd submission server (STARTTLS or implicit TLS, AUTH required).
//! - [`Postgres`]: a real PostgreSQL from Debian's packages on 127.0.0.1, trust auth; one shared
//!   server per test binary ([`Postgres::shared`]) and a database per test.
//! - [`proxy::Proxy`]: a TCP fault proxy in front of Dovecot's plain port that cuts or holds
//!   back the connection at a chosen IMAP command.
//! - [`invariants`]: what must hold after any crash or fault, read from the store and the
//!   mailbox; [`sales`]: the seller's openers and the prospects' replies.
//! - [`measure`]: wall time and peak memory of a nudge run, for the benchmarks;
//!   [`rawimap`]: a bare IMAP client for their floors.
//!
//! Set `NUDGE_KEEP_TEST_DIRS=1` to keep the servers' temp dirs (config, logs, mail) after a run.
// Each test crate that says `mod support;` uses only part of it.
#![allow(dead_code, unused_imports)]

pub mod colleagues;
pub mod daemon;
pub mod dovecot;
pub mod hostile;
pub mod invariants;
pub mod mailbox;
pub mod mailclient;
pub mod measure;
pub mod nudge;
pub mod oauth;
pub mod postgres;
pub mod process;
pub mod proxy;
pub mod rawimap;
pub mod sales;
pub mod smtp;
pub mod stores;
pub mod tls;

pub use dovecot::{Dovecot, DovecotOptions, Layout};
pub use postgres::Postgres;
pub use smtp::{AfterData, ReceivedMail, SmtpOptions, SmtpSecurity, SmtpServer};
pub use tls::TestCa;

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Mutex;

/// Why a server the harness started is not up.
#[derive(Debug)]
pub(crate) enum StartError {
    /// It exited and its log says a port was taken.
    Bind,
    /// It exited for another reason.
    Exited,
    /// Not ready in time; the last probe error.
    Timeout(String),
}

/// Starts a stopped server again on the same ports with `spawn`, retrying for a while while a
/// port is briefly unavailable (the old process's socket lingering).
pub(crate) fn start_again(
    mut spawn: impl FnMut() -> Result<(), StartError>,
) -> Result<(), StartError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        match spawn() {
            Err(StartError::Bind) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            done => return done,
        }
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, release it).
///
/// Never hands out the same port twice in one test process. Another process may still take it
/// before it is used; the server starters notice (Dovecot's greeting carries an id of its own
/// instance) and retry with new ports.
pub fn free_port() -> u16 {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    for _ in 0..1000 {
        let listener =
            TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0 to find a free port");
        let port = listener
            .local_addr()
            .expect("local_addr of a bound listener")
            .port();
        if HANDED_OUT
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(port)
        {
            return port;
        }
    }
    panic!("no free port found that was not handed out before");
}

/// A fresh temp dir under /tmp (short paths: Dovecot's unix sockets live inside it).
///
/// The dir is world-traversable (0755) so that Dovecot's unprivileged processes reach the files
/// inside it.
pub(crate) fn temp_dir(prefix: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let mut dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .expect("create a temp dir under /tmp");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod 0755 the temp dir");
    if keep_dirs() {
        dir.disable_cleanup(true);
        eprintln!("keeping test dir {}", dir.path().display());
    }
    dir
}

/// Whether to keep temp dirs after the run (`NUDGE_KEEP_TEST_DIRS` set and not empty/0).
pub(crate) fn keep_dirs() -> bool {
    std::env::var("NUDGE_KEEP_TEST_DIRS").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Reads a file to a string for diagnostics; a missing file reads as a note, not a panic.
pub(crate) fn read_lossy(path: &Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => format!("<{}: {e}>", path.display()),
    }
}
