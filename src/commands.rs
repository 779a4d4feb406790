//! What the command line runs. Each function returns data or an [`Error`]; `main.rs` prints
//! and maps errors to exit codes.

use std::fmt;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::config::{Config, Security, INIT_TEMPLATE};
use crate::display::neutralise;
use crate::engine::{self, PassReport};
use crate::error::{ConfigError, Error, Result};
use crate::imap::folders::Folders;
use crate::imap::Connection;
use crate::lock::{self, Lock};
use crate::mail::classify::{classify, MessageClass};
use crate::mail::intent::{Deferral, Departure};
use crate::mail::parse::one_line;
use crate::mail::parse::parse;
use crate::model::State;
use crate::progress::SyncProgress;
use crate::rules::machine::{self, Transition};
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
    /// Where the store is, and for a PostgreSQL store that it answered (and the team).
    pub store: String,
}

/// Loads nothing new: connects with `config`, logs in, lists and chooses folders. A
/// PostgreSQL store is connected to as well (its schema made if missing) and the team joined,
/// so that a wrong URL, role or team shows here rather than in the service's log.
pub async fn check(config: &Config) -> Result<CheckReport> {
    let server = &config.imap.server;
    let mut connection = Connection::open(server).await?;
    let folders = connection.discover_folders(&config.imap).await;
    let capabilities = connection.capabilities().to_vec();
    connection.logout().await;
    let store = match &config.store.postgres {
        None => format!("SQLite, {}", config.store.path.display()),
        Some(postgres) => {
            let store = Store::for_config(config).await?;
            let team = match &config.team {
                None => String::new(),
                Some(team) => format!(
                    "; team {} ({} members)",
                    team.name,
                    store.team_members().await.map(|m| m.len()).unwrap_or(0)
                ),
            };
            store.close().await;
            format!("PostgreSQL, {}, answers{team}", postgres.shown())
        }
    };
    Ok(CheckReport {
        host: server.host.clone(),
        port: server.port,
        security: server.security,
        username: server.username.clone(),
        capabilities,
        folders: folders?,
        store,
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
        writeln!(f, "Store: {}", self.store)?;
        write!(f, "OK")
    }
}

/// Runs one pass (`nudge sync`), telling `progress` how far the fetch of each folder is.
pub async fn sync(
    config: &Config,
    now: DateTime<Utc>,
    dry_run: bool,
    progress: &dyn SyncProgress,
) -> Result<PassReport> {
    let store = Store::for_config(config).await?;
    // A dry run changes nothing on the server: it needs no turn of its own.
    let lock = if dry_run {
        None
    } else {
        match pass_lock(config, &store, "nudge sync").await {
            Ok(lock) => Some(lock),
            Err(e) => {
                store.close().await;
                return Err(e);
            }
        }
    };
    let report = engine::run_pass(config, &store, now, dry_run, progress).await;
    drop(lock);
    store.close().await;
    report
}

/// The turn to act on the mailbox: one pass that can touch the server at a time (SPEC 7).
async fn pass_lock(config: &Config, store: &Store, what: &str) -> Result<Lock> {
    Lock::acquire_for(
        &config.store,
        store,
        lock::Kind::Pass,
        what,
        lock::PASS_WAIT,
    )
    .await
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
    let store = Store::for_config(config).await?;
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
            truncate(&neutralise(&row.prospects.join(", ")), 30),
            truncate(&neutralise(&row.subject), 50),
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
    let store = Store::for_config(config).await?;
    let found = store.conversation(id).await;
    let events = store.events(id).await;
    let quarantined = match &found {
        Ok(Some(c)) => store.quarantined_in_thread(c.thread_id).await,
        _ => Ok(Vec::new()),
    };
    store.close().await;
    let conversation = found?.ok_or_else(|| Error::Data(format!("no conversation #{id}")))?;
    let zone = config.account.timezone;
    let local = |t: DateTime<Utc>| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string();
    let mut out = String::new();
    out.push_str(&format!(
        "#{} {}\n",
        conversation.id,
        neutralise(&conversation.subject)
    ));
    out.push_str(&format!(
        "  prospects:  {}\n",
        neutralise(&conversation.prospects.join(", "))
    ));
    out.push_str(&format!(
        "  state:      {} (step {})\n",
        conversation.state, conversation.step
    ));
    if let Some(reason) = &conversation.stop_reason {
        out.push_str(&format!("  reason:     {}\n", neutralise(reason)));
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
    // What the prospect said that nudge acts on (SPEC 15), in their words.
    let heard = &conversation.heard;
    if let Some(deferral) = &heard.deferral {
        let when = match deferral.from {
            Some(from) => format!("asked to hear back from {from}"),
            None => "said not now (no time nudge could resolve)".to_string(),
        };
        out.push_str(&format!(
            "  heard:      {when}: \u{201c}{}\u{201d}\n",
            neutralise(&deferral.phrase)
        ));
    }
    if let Some(departure) = &heard.departure {
        out.push_str(&format!(
            "  heard:      has left: \u{201c}{}\u{201d}\n",
            neutralise(&departure.phrase)
        ));
        if !departure.replacements.is_empty() {
            out.push_str(&format!(
                "  new contacts to consider: {} (nudge never writes to them)\n",
                neutralise(&departure.replacements.join(", "))
            ));
        }
    }
    out.push_str("History:\n");
    for event in events? {
        out.push_str(&format!(
            "  {}  {:<10}  {}\n",
            local(event.at),
            event.kind,
            neutralise(&event.detail)
        ));
    }
    let quarantined = quarantined?;
    if !quarantined.is_empty() {
        // Messages of this thread nudge could not process: set aside, never applied (SPEC 13).
        out.push_str("Quarantined (not applied):\n");
        for q in quarantined {
            out.push_str(&format!(
                "  {}  {} UID {}  <{}>  {}\n",
                local(q.at),
                q.folder,
                q.uid,
                one_line(q.message_id.as_deref().unwrap_or("")),
                one_line(&q.reason)
            ));
        }
    }
    Ok(out)
}

/// How many messages are quarantined (`nudge status` counts them).
pub async fn quarantined_count(config: &Config) -> Result<i64> {
    let store = Store::for_config(config).await?;
    let count = store.quarantined_count().await;
    store.close().await;
    count
}

/// What the seller can do to one conversation from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Stop,
    Resume,
    /// The seller marks it won or finished.
    Done,
    Snooze(NaiveDate),
}

/// Parses UNTIL for `nudge snooze`: a date (2026-12-01) or a span from today (3d, 2w, 1m).
pub fn parse_until(text: &str, today: NaiveDate) -> Result<NaiveDate> {
    let bad = || {
        Error::Data(format!(
            "\"{text}\" is not a date or a span: write 2026-12-01, or 3d, 2w, 1m"
        ))
    };
    let text = text.trim();
    if let Ok(date) = crate::config::parse_date(text) {
        return Ok(date);
    }
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let n: i64 = number.parse().map_err(|_| bad())?;
    if n <= 0 || n > 730 {
        return Err(bad());
    }
    let days = match unit {
        "d" => n,
        "w" => n * 7,
        "m" => n * 30,
        _ => return Err(bad()),
    };
    Ok(today + chrono::Duration::days(days))
}

/// Stops, resumes or snoozes a conversation. A waiting draft is withdrawn at the next pass.
pub async fn control(
    config: &Config,
    id: i64,
    control: Control,
    now: DateTime<Utc>,
) -> Result<String> {
    let store = Store::for_config(config).await?;
    // Decided on the current row: if the daemon changed the conversation between the read and
    // the write (a reply arrived), decide again rather than overwrite it.
    let mut result = control_in(&store, config, id, control, now).await;
    for _ in 0..5 {
        match result {
            Err(Error::Stale { .. }) => {
                result = control_in(&store, config, id, control, now).await;
            }
            _ => break,
        }
    }
    store.close().await;
    result
}

async fn control_in(
    store: &Store,
    config: &Config,
    id: i64,
    control: Control,
    now: DateTime<Utc>,
) -> Result<String> {
    let conversation = store
        .conversation(id)
        .await?
        .ok_or_else(|| Error::Data(format!("no conversation #{id} (see `nudge status`)")))?;
    let calendar = crate::cadence::Calendar::from_config(config);
    let steps_total = config.cadence.steps.len() as u32;
    let transition = match control {
        Control::Stop => {
            if matches!(conversation.state, State::Stopped) {
                return Ok(format!("#{id} is stopped already."));
            }
            Transition::Stop {
                reason: "stopped by the seller".into(),
                detail: "stopped by the seller (nudge stop)".into(),
            }
        }
        Control::Resume => {
            match conversation.state {
                State::Stopped | State::Snoozed | State::LetGo | State::Deferred | State::Done => {}
                State::Bounced | State::OptedOut => {
                    return Err(Error::Data(format!(
                        "#{id} ended as {}: its address is suppressed; remove it with \
                         `nudge suppress remove` first if that was a mistake",
                        conversation.state
                    )))
                }
                other => return Ok(format!("#{id} is {other}: nothing to resume.")),
            }
            Transition::Resume { steps_total, now }
        }
        Control::Done => {
            if conversation.state == State::Done {
                return Ok(format!("#{id} is done already."));
            }
            Transition::Done
        }
        Control::Snooze(until) => {
            if !conversation.state.is_open() {
                return Err(Error::Data(format!(
                    "#{id} is {}: only open conversations can be snoozed",
                    conversation.state
                )));
            }
            // Drafting opens on business days only: a snooze that ends on another day ends
            // at the next business day's draft time.
            let cadence = crate::schedule::Cadence {
                calendar: &calendar,
                config: &config.cadence,
            };
            let ends =
                cadence.next_drafting_moment(calendar.at_local(until, config.cadence.draft_time));
            let day = calendar.local_date(ends);
            let label = if day == until {
                until.to_string()
            } else {
                format!("{day}, the first business day from {until}")
            };
            Transition::Snooze { until: ends, label }
        }
    };
    let outcome = machine::apply(&conversation, transition);
    let (next, detail) = (outcome.next.clone(), outcome.detail.clone());
    store
        .commit_effects(None, &[outcome.into_effect(now)], now)
        .await?;
    // The daemon acts on it at once instead of at its next pass.
    store.note_control(now).await?;
    let draft_note = if store.waiting_draft(id).await?.is_some() && next.state != State::Drafted {
        " Its waiting draft is withdrawn at the next pass."
    } else {
        ""
    };
    Ok(format!(
        "#{id} {}: {detail}.{draft_note}",
        neutralise(&next.subject)
    ))
}

/// `nudge suppress add|remove|list`.
pub async fn suppress(
    config: &Config,
    action: &str,
    address: Option<&str>,
    now: DateTime<Utc>,
) -> Result<String> {
    let store = Store::for_config(config).await?;
    let result = async {
        match (action, address) {
            ("list", _) => {
                let list = store.suppressions().await?;
                if list.is_empty() {
                    return Ok("The suppression list is empty.".to_string());
                }
                let zone = config.account.timezone;
                Ok(list
                    .iter()
                    .map(|s| {
                        let line = format!(
                            "{:<40} {:<10} {}",
                            s.address,
                            s.reason,
                            s.added_at.with_timezone(&zone).format("%Y-%m-%d")
                        );
                        // The team's entries say whose mailbox or command added them.
                        match &s.added_by {
                            Some(by) => format!("{line}  by {by}"),
                            None => line,
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n"))
            }
            ("add", Some(address)) => {
                let address = address.trim().trim_start_matches('@').to_ascii_lowercase();
                if address.is_empty()
                    || !address.contains('.')
                    || address.contains(char::is_whitespace)
                {
                    return Err(Error::Data(format!(
                        "\"{address}\" is not an address or a domain"
                    )));
                }
                if store.suppress(&address, "manual", now).await? {
                    store.note_control(now).await?;
                    Ok(format!(
                        "{address} is suppressed: nudge will not follow up with it."
                    ))
                } else {
                    Ok(format!("{address} was suppressed already."))
                }
            }
            ("remove", Some(address)) => {
                if store.unsuppress(address).await? {
                    store.note_control(now).await?;
                    Ok(format!("{} is no longer suppressed.", address.trim()))
                } else {
                    Err(Error::Data(format!(
                        "{} is not on the suppression list",
                        address.trim()
                    )))
                }
            }
            _ => Err(Error::Data(
                "use: nudge suppress add|remove ADDRESS-OR-DOMAIN, or nudge suppress list".into(),
            )),
        }
    }
    .await;
    store.close().await;
    result
}

/// `nudge templates list`.
pub fn templates_list(config: &Config) -> Result<String> {
    use crate::compose::templates::{Source, Templates};
    let templates = Templates::load(
        config
            .path
            .as_deref()
            .map(crate::config::config_dir)
            .as_deref(),
    )?;
    let mut out = format!(
        "{:<4} {:<16} {:>8}  {}\n",
        "LANG", "NAME", "VARIANTS", "SOURCE"
    );
    for t in templates.all() {
        let source = match &t.source {
            Source::Builtin => "built in".to_string(),
            Source::File(path) => path.display().to_string(),
        };
        out.push_str(&format!(
            "{:<4} {:<16} {:>8}  {source}\n",
            t.language.code(),
            t.name,
            t.variants.len()
        ));
    }
    Ok(out)
}

/// `nudge templates preview NAME [--lang L]`: every variant with a sample conversation.
pub fn templates_preview(
    config: &Config,
    name: &str,
    language: Option<crate::config::Language>,
) -> Result<String> {
    use crate::compose::templates::{FollowUpContext, Templates};
    let templates = Templates::load(
        config
            .path
            .as_deref()
            .map(crate::config::config_dir)
            .as_deref(),
    )?;
    let language = language.unwrap_or(config.account.language);
    let template = templates.get(language, name).ok_or_else(|| {
        Error::Data(format!(
            "no template \"{name}\" (see `nudge templates list`)"
        ))
    })?;
    let context = FollowUpContext::sample(language);
    let signature = crate::compose::signature(config, language);
    let mut out = String::new();
    for variant in 0..template.variants.len() as u32 {
        let text = templates.render(language, name, variant, &context)?;
        let words = format!("{text} {signature}").split_whitespace().count();
        out.push_str(&format!(
            "--- {name} ({}), variant {variant}, {words} words ---\n{text}\n\n{signature}\n\n",
            language.code()
        ));
    }
    Ok(out)
}

/// The user unit shipped in `systemd/nudge.service`.
pub const SERVICE_UNIT: &str = include_str!("../systemd/nudge.service");

/// Writes the user unit to `$XDG_CONFIG_HOME/systemd/user/nudge.service` with ExecStart set to
/// `binary` (and `--config` when one was given). An existing, different unit is kept as
/// `nudge.service.bak`. Returns the path written and what to run next.
pub fn install_service(
    binary: &Path,
    configs: &[std::path::PathBuf],
) -> Result<(std::path::PathBuf, String)> {
    let fail = |message: String| {
        Error::Config(ConfigError {
            path: None,
            key: String::new(),
            line: None,
            message,
        })
    };
    let binary = binary.canonicalize().map_err(|e| {
        fail(format!(
            "cannot find the nudge binary {}: {e}",
            binary.display()
        ))
    })?;
    let quote = |p: &Path| {
        // `%` starts a systemd specifier and `$` a variable in ExecStart: both are doubled.
        let text = p
            .display()
            .to_string()
            .replace('%', "%%")
            .replace('$', "$$");
        if text.contains([' ', '"', '\\']) {
            format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
        } else {
            text
        }
    };
    let mut exec = format!("ExecStart={}", quote(&binary));
    for config in configs {
        let config = config.canonicalize().unwrap_or_else(|_| config.clone());
        exec.push_str(&format!(" --config {}", quote(&config)));
    }
    exec.push_str(" run");
    let unit = SERVICE_UNIT
        .lines()
        .map(|line| {
            if line.starts_with("ExecStart=") {
                exec.as_str()
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    let dir = std::env::var_os("XDG_CONFIG_HOME")
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .map(std::path::PathBuf::from)
                .filter(|p| p.is_absolute())
                .map(|home| home.join(".config"))
        })
        .ok_or_else(|| {
            fail(
                "neither XDG_CONFIG_HOME nor HOME is set to an absolute path, so there is no \
                 user unit folder; nudge does not write relative to the current folder: set HOME"
                    .into(),
            )
        })?
        .join("systemd/user");
    std::fs::create_dir_all(&dir)
        .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join("nudge.service");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if existing != unit {
            let backup = dir.join("nudge.service.bak");
            crate::store::write_private(&backup, existing.as_bytes()).map_err(|e| {
                fail(format!(
                    "cannot keep the old unit as {}: {e}",
                    backup.display()
                ))
            })?;
        }
    }
    crate::store::write_private(&path, unit.as_bytes())
        .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))?;
    let next = "\
Now run:
  systemctl --user daemon-reload
  systemctl --user enable --now nudge
Watch it with:
  systemctl --user status nudge
  journalctl --user -u nudge -f
To keep it running while you are logged out:
  loginctl enable-linger $USER"
        .to_string();
    Ok((path, next))
}

/// `nudge summary --preview`: the text part, and the HTML written to a file next to the
/// store. Covers the seven days before `now`.
pub async fn summary_preview(
    config: &Config,
    now: DateTime<Utc>,
) -> Result<(String, std::path::PathBuf)> {
    let store = Store::for_config(config).await?;
    let computed = crate::summary::compute(&store, config, now, now).await;
    store.close().await;
    let summary = computed?;
    let language = config.account.language;
    let (text, html) = crate::summary::render(&summary, language)?;
    let dir = config
        .store
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    let path = dir.join(format!("summary-{}.html", summary.week_key));
    crate::store::write_private(&path, html.as_bytes())
        .map_err(|e| Error::Data(format!("cannot write {}: {e}", path.display())))?;
    let subject = crate::summary::subject(&summary, language);
    Ok((format!("Subject: {subject}\n\n{text}"), path))
}

/// `nudge summary --send`: sends the summary of the seven days before `now` at once (and
/// counts it as this week's).
pub async fn summary_send(config: &Config, now: DateTime<Utc>) -> Result<String> {
    let store = Store::for_config(config).await?;
    let result = async {
        let _turn = pass_lock(config, &store, "nudge summary --send").await?;
        let calendar = crate::cadence::Calendar::from_config(config);
        let week = crate::summary::week_key(calendar.local_date(now));
        let mut connection = Connection::open(&config.imap.server).await?;
        let folders = connection.discover_folders(&config.imap).await;
        let sent = match folders {
            Ok(folders) => {
                crate::summary::send_now(
                    &mut connection,
                    &store,
                    config,
                    &folders.inbox.raw_name,
                    now,
                    now,
                    &week,
                )
                .await
            }
            Err(e) => Err(e),
        };
        connection.logout().await;
        sent
    }
    .await;
    store.close().await;
    result
}

/// How `nudge classify` reads one raw message file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassifiedFile {
    /// The path as it was given.
    pub file: String,
    pub class: MessageClass,
    pub failed_recipient: Option<String>,
    pub return_date: Option<NaiveDate>,
    pub reason: String,
    /// For replies: a "come back later", with the day it names (if any).
    pub deferral: Option<Deferral>,
    /// For replies and auto-replies: the person has left, and whom to contact instead.
    pub departure: Option<Departure>,
    /// For replies: the reply asks the seller something.
    pub asks: bool,
}

/// `nudge classify`: reads each file as one raw message (LF or CRLF) and classifies it with
/// the very `classify` a sync uses, the file's modification date standing in for the day it
/// arrived (`today` when unknown). Needs no config, store or network. Returns the files it
/// could classify, in order, and one line for each file it could not (unreadable, or no
/// headers), naming the file.
pub fn classify_files(files: &[PathBuf], today: NaiveDate) -> (Vec<ClassifiedFile>, Vec<String>) {
    let mut found = Vec::new();
    let mut failures = Vec::new();
    for path in files {
        let shown = path.display().to_string();
        let raw = match std::fs::read(path) {
            Ok(raw) => raw,
            Err(e) => {
                failures.push(format!("{shown}: cannot read it: {e}"));
                continue;
            }
        };
        let Some(mail) = parse(&raw) else {
            failures.push(format!("{shown}: not a mail message (no headers)"));
            continue;
        };
        let received = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .map(|t| DateTime::<Utc>::from(t).date_naive())
            .unwrap_or(today);
        let result = classify(&mail, received);
        found.push(ClassifiedFile {
            file: shown,
            class: result.class,
            failed_recipient: result.failed_recipient,
            return_date: result.return_date,
            reason: result.reason,
            deferral: result.deferral,
            departure: result.departure,
            asks: result.asks,
        });
    }
    (found, failures)
}

/// The text form of `nudge classify`: `FILE: CLASS` for each file, then indented the
/// failed recipient, the return date, a deferral, a departure and the reason, as far as they
/// apply. The recipient, the phrases and the reason quote the message (a header keyword, a
/// report's address), so they are shown neutralised (SPEC 13); the JSON form keeps them as
/// they are.
pub fn classify_text(found: &[ClassifiedFile]) -> String {
    let mut out = String::new();
    for file in found {
        out.push_str(&format!("{}: {}\n", file.file, file.class));
        if let Some(recipient) = &file.failed_recipient {
            out.push_str(&format!("  failed recipient: {}\n", neutralise(recipient)));
        }
        if let Some(date) = file.return_date {
            out.push_str(&format!("  return date: {date}\n"));
        }
        if let Some(deferral) = &file.deferral {
            let from = deferral
                .from
                .map_or_else(|| "no date named".to_string(), |d| d.to_string());
            out.push_str(&format!(
                "  deferral: {from} (\"{}\")\n",
                neutralise(&deferral.phrase)
            ));
        }
        if let Some(departure) = &file.departure {
            let instead = if departure.replacements.is_empty() {
                "no one named instead".to_string()
            } else {
                format!("contact instead: {}", departure.replacements.join(", "))
            };
            out.push_str(&format!(
                "  departure: {} (\"{}\")\n",
                neutralise(&instead),
                neutralise(&departure.phrase)
            ));
        }
        out.push_str(&format!("  reason: {}\n", neutralise(&file.reason)));
    }
    out
}
