//! What the command line runs. Each function returns data or an [`Error`]; `main.rs` prints
//! and maps errors to exit codes.

use std::fmt;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::config::{Config, Security, INIT_TEMPLATE};
use crate::engine::{self, PassReport};
use crate::error::{ConfigError, Error, Result};
use crate::imap::folders::Folders;
use crate::imap::Connection;
use crate::model::State;
use crate::store::Store;

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

/// Runs one pass (`nudge sync`).
pub async fn sync(config: &Config, now: DateTime<Utc>, dry_run: bool) -> Result<PassReport> {
    let store = Store::open(&config.store.path).await?;
    let report = engine::run_pass(config, &store, now, dry_run).await;
    store.close().await;
    report
}

/// One line of `nudge status`, and one element of `status --json` (SPEC 12).
#[derive(Debug, Clone, Serialize)]
pub struct StatusRow {
    pub id: i64,
    pub subject: String,
    pub prospects: Vec<String>,
    pub state: State,
    pub step: u32,
    pub last_touch: DateTime<Utc>,
    pub next_due: Option<DateTime<Utc>>,
    pub draft: bool,
    /// An out-of-office return date, when one is known.
    pub not_before: Option<chrono::NaiveDate>,
}

/// Every tracked conversation (`nudge status`).
pub async fn status(config: &Config) -> Result<Vec<StatusRow>> {
    let store = Store::open(&config.store.path).await?;
    let conversations = store.conversations().await;
    store.close().await;
    Ok(conversations?
        .into_iter()
        .map(|c| StatusRow {
            id: c.id,
            subject: c.subject,
            prospects: c.prospects,
            state: c.state,
            step: c.step,
            last_touch: c.last_touch_at,
            next_due: c.next_due,
            draft: c.state == State::Drafted,
            not_before: c.not_before,
        })
        .collect())
}

/// The status rows as a table, times in the seller's zone.
pub fn status_table(rows: &[StatusRow], zone: Tz) -> String {
    let mut out = format!(
        "{:>4}  {:<9}  {:>4}  {:<16}  {:<16}  {:<30}  {}\n",
        "ID", "STATE", "STEP", "LAST TOUCH", "NEXT DUE", "PROSPECT", "SUBJECT"
    );
    for row in rows {
        let local = |t: DateTime<Utc>| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string();
        out.push_str(&format!(
            "{:>4}  {:<9}  {:>4}  {:<16}  {:<16}  {:<30}  {}\n",
            row.id,
            row.state.as_str(),
            row.step,
            local(row.last_touch),
            row.next_due.map(local).unwrap_or_else(|| "-".into()),
            truncate(&row.prospects.join(", "), 30),
            truncate(&row.subject, 50),
        ));
    }
    if rows.is_empty() {
        out.push_str("(no conversations tracked yet)\n");
    }
    out
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// One conversation with its history (`nudge show ID`).
pub async fn show(config: &Config, id: i64) -> Result<String> {
    let store = Store::open(&config.store.path).await?;
    let found = store.conversation(id).await;
    let events = store.events(id).await;
    store.close().await;
    let conversation = found?.ok_or_else(|| Error::Data(format!("no conversation #{id}")))?;
    let zone = config.account.timezone;
    let local = |t: DateTime<Utc>| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string();
    let mut out = String::new();
    out.push_str(&format!("#{} {}\n", conversation.id, conversation.subject));
    out.push_str(&format!(
        "  prospects:  {}\n",
        conversation.prospects.join(", ")
    ));
    out.push_str(&format!(
        "  state:      {} (step {})\n",
        conversation.state, conversation.step
    ));
    if let Some(reason) = &conversation.stop_reason {
        out.push_str(&format!("  reason:     {reason}\n"));
    }
    out.push_str(&format!(
        "  first touch: {}\n",
        local(conversation.first_touch_at)
    ));
    out.push_str(&format!(
        "  last touch: {}\n",
        local(conversation.last_touch_at)
    ));
    if let Some(due) = conversation.next_due {
        out.push_str(&format!("  next due:   {}\n", local(due)));
    }
    if let Some(date) = conversation.not_before {
        out.push_str(&format!("  back on:    {date} (out of office)\n"));
    }
    out.push_str("History:\n");
    for event in events? {
        out.push_str(&format!(
            "  {}  {:<10}  {}\n",
            local(event.at),
            event.kind,
            event.detail
        ));
    }
    Ok(out)
}
