//! What the command line runs. Each function returns data or an [`Error`]; `main.rs` prints
//! and maps errors to exit codes.

use std::fmt;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use crate::config::{Config, Security, INIT_TEMPLATE};
use crate::error::{ConfigError, Error, Result};
use crate::imap::folders::Folders;
use crate::imap::Connection;

/// Writes the commented starting config to `path`; never overwrites an existing file.
/// The file is created 0600, so a password may later be written into it safely.
pub fn init(path: &Path) -> Result<()> {
    let refuse = |message: String| {
        Error::Config(ConfigError {
            path: Some(path.to_path_buf()),
            key: String::new(),
            line: None,
            message,
        })
    };
    if path.exists() {
        return Err(refuse(
            "the file exists already; nudge init does not overwrite it (move it away first)".into(),
        ));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| refuse(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| refuse(format!("cannot create the file: {e}")))?;
    file.write_all(INIT_TEMPLATE.as_bytes())
        .map_err(|e| refuse(format!("cannot write the file: {e}")))?;
    Ok(())
}

/// What `nudge check` found.
#[derive(Debug)]
pub struct CheckReport {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub capabilities: Vec<String>,
    pub folders: Folders,
}

/// Loads nothing new: connects with `config`, logs in, lists and chooses folders.
pub async fn check(config: &Config) -> Result<CheckReport> {
    let server = &config.imap.server;
    let mut connection = Connection::open(server).await?;
    let folders = connection.discover_folders(&config.imap).await;
    let capabilities = connection.capabilities().to_vec();
    connection.logout().await;
    Ok(CheckReport {
        host: server.host.clone(),
        port: server.port,
        security: server.security,
        username: server.username.clone(),
        capabilities,
        folders: folders?,
    })
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let security = match self.security {
            Security::Tls => "TLS",
            Security::Starttls => "STARTTLS",
            Security::Plain => "plain, loopback only",
        };
        writeln!(
            f,
            "IMAP server: {}:{} ({security}), logged in as {}",
            self.host, self.port, self.username
        )?;
        writeln!(f, "Capabilities: {}", self.capabilities.join(" "))?;
        writeln!(f, "Folders:")?;
        for chosen in self.folders.all() {
            writeln!(
                f,
                "  {:<7} \"{}\" ({})",
                chosen.role.label(),
                chosen.name,
                chosen.reason
            )?;
        }
        if self.folders.trash.is_none() {
            writeln!(
                f,
                "  Trash   none found: withdrawn drafts will be deleted with UID EXPUNGE"
            )?;
        }
        write!(f, "OK")
    }
}
