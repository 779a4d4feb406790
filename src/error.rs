//! Errors of the library, each with a [`ErrorKind`] the daemon uses to decide what to do:
//! retry soon (network), retry slowly (authentication, or something outside nudge that is not
//! there right now), or stop and tell the seller (configuration). `anyhow` is used only in
//! `main.rs`.

use std::path::PathBuf;

/// How the daemon should react to an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The server or the network failed: retry with backoff.
    Network,
    /// The server refused the credentials: log once, retry slowly.
    Authentication,
    /// Something nudge needs from outside its configuration is not there right now: the
    /// password or token helper failed (a locked keyring at boot, an offline password
    /// manager), or a folder vanished while the daemon ran. The daemon logs it once and
    /// retries slowly, as for authentication; a one-off command reports it and exits.
    Unavailable,
    /// The configuration itself is wrong (bad TOML, a bad value, a rejected certificate, a
    /// secret source that cannot exist for this process): stop with the reason.
    Configuration,
    /// Something in the data (a message, the store) is wrong: skip it, keep going.
    Data,
}

/// A configuration problem, naming the key (`imap.security`) and, when known, the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file the configuration came from, when it came from a file.
    pub path: Option<PathBuf>,
    /// Dotted key path, such as `cadence.draft_time`; empty when the whole file is at fault.
    pub key: String,
    /// 1-based line of the key in the file, when it could be found.
    pub line: Option<usize>,
    /// What is wrong, in plain words.
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("config error")?;
        if let Some(path) = &self.path {
            write!(f, " in {}", path.display())?;
        }
        if let Some(line) = self.line {
            write!(f, " (line {line})")?;
        }
        if !self.key.is_empty() {
            write!(f, ": `{}`", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Which side of a TLS handshake failed, so `nudge check` can say it in one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFailure {
    /// The server's certificate was not trusted (wrong CA, expired, wrong name).
    Certificate,
    /// Any other handshake failure.
    Handshake,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),

    #[error("cannot resolve {host}: {source}")]
    Resolve {
        host: String,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot connect to {server} server {host}:{port}: {source}")]
    Connect {
        server: &'static str,
        host: String,
        port: u16,
        #[source]
        source: std::io::Error,
    },

    #[error("TLS certificate of {server} server {host}:{port} rejected: {reason}")]
    Certificate {
        server: &'static str,
        host: String,
        port: u16,
        reason: String,
    },

    #[error("TLS handshake with {server} server {host}:{port} failed: {reason}")]
    Tls {
        server: &'static str,
        host: String,
        port: u16,
        reason: String,
    },

    #[error("authentication as {user} at {server} server {host} failed: {reason}")]
    Authentication {
        server: &'static str,
        host: String,
        user: String,
        reason: String,
    },

    /// A secret could not be had. `helper` when a command (`password_command`,
    /// `oauth2_token_command`) failed, timed out or printed nothing: that may pass. Otherwise
    /// the source cannot work for this process (an unset variable, no credential file).
    #[error("cannot get the secret for `{key}`: {reason}")]
    Secret {
        key: String,
        reason: String,
        helper: bool,
    },

    #[error("{role} folder not found: {reason}")]
    FolderNotFound { role: &'static str, reason: String },

    #[error("{what} timed out after {seconds} s")]
    Timeout { what: String, seconds: u64 },

    #[error("IMAP {context}: {reason}")]
    Imap { context: String, reason: String },

    #[error("SMTP {context}: {reason}")]
    Smtp { context: String, reason: String },

    #[error("store {path}: {reason}")]
    Store { path: PathBuf, reason: String },

    #[error("another nudge is working on this mailbox ({holder}); waited {waited} s")]
    Busy { holder: String, waited: u64 },

    #[error("conversation #{id} changed meanwhile; decided again on its current state")]
    Stale { id: i64 },

    #[error("{0}")]
    Data(String),
}

impl Error {
    /// What the daemon should do about this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config(_) | Error::Certificate { .. } => ErrorKind::Configuration,
            Error::Secret { helper: true, .. } => ErrorKind::Unavailable,
            Error::Secret { helper: false, .. } => ErrorKind::Configuration,
            // A folder named in the file, or none found at all: the seller must say which.
            Error::FolderNotFound { .. } => ErrorKind::Configuration,
            Error::Authentication { .. } => ErrorKind::Authentication,
            Error::Resolve { .. }
            | Error::Connect { .. }
            | Error::Tls { .. }
            | Error::Timeout { .. }
            | Error::Imap { .. }
            | Error::Smtp { .. }
            | Error::Busy { .. } => ErrorKind::Network,
            Error::Store { .. } | Error::Data(_) | Error::Stale { .. } => ErrorKind::Data,
        }
    }

    /// What the daemon should do about this error once it has worked: a folder it found
    /// before and that is gone now (the seller reorganising, a server migrating) may come
    /// back, or discovery may find its successor, so it is retried slowly instead of stopping
    /// the service for good.
    pub fn kind_while_running(&self) -> ErrorKind {
        match self {
            Error::FolderNotFound { .. } => ErrorKind::Unavailable,
            _ => self.kind(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The process exit code for this error, so scripts can tell failures apart:
    /// 2 configuration, 3 network (refused, DNS, timeout), 4 TLS certificate rejected,
    /// 5 authentication failed, 6 folder not found, 7 another nudge holds the mailbox,
    /// 1 anything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::Secret { .. } => 2,
            Error::Resolve { .. } | Error::Connect { .. } | Error::Timeout { .. } => 3,
            Error::Tls { .. } => 3,
            Error::Certificate { .. } => 4,
            Error::Authentication { .. } => 5,
            Error::FolderNotFound { .. } => 6,
            Error::Busy { .. } => 7,
            Error::Imap { .. }
            | Error::Smtp { .. }
            | Error::Store { .. }
            | Error::Data(_)
            | Error::Stale { .. } => 1,
        }
    }
}
