//! Configuration, loaded in two stages: the TOML text is read into raw serde structs that reject
//! unknown keys, then checked into a [`Config`] whose values are all valid. Every error names
//! the key (`cadence.draft_time`) and, where it can be found, the line.
//!
//! Secrets never need to be in the file: see [`SecretSource`].
//!
//! One file per concern: `raw` (the serde structs and parsing), `checks` (raw → [`Config`]),
//! `secrets` (fetching passwords and tokens), `paths` (XDG paths, the system's time zone).

mod accounts;
mod checks;
mod paths;
mod raw;
mod secrets;
mod trust;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;

use crate::error::{ConfigError, Error, Result};
use checks::Checker;
use raw::parse_raw;

pub use accounts::{load_accounts, select_account};
pub use checks::{country_of_zone, is_loopback, loopback_addresses};
pub use paths::{config_dir, default_config_path, default_store_path, system_timezone};
pub use raw::{locate_key, parse_date, parse_time};
pub use secrets::run_secret_command;

/// The commented starting file that `nudge init` writes. It loads as it is.
pub const INIT_TEMPLATE: &str = include_str!("init.toml");

/// Public-holiday calendars nudge knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum Country {
    NO,
    SE,
    DK,
    FI,
    DE,
    GB,
    US,
}

/// Languages with shipped templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Nb,
    Sv,
    Da,
    Fi,
    De,
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Nb => "nb",
            Language::Sv => "sv",
            Language::Da => "da",
            Language::Fi => "fi",
            Language::De => "de",
        }
    }
}

/// How the connection to a server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
    /// A plain connection upgraded with STARTTLS before logging in.
    Starttls,
    /// No encryption at all: only allowed to a loopback address.
    Plain,
}

/// Which conversations are tracked (SPEC 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrackMode {
    /// Every qualifying conversation with an external prospect.
    External,
    /// Only conversations whose touch the seller flagged in Sent.
    Flagged,
}

/// What a deleted draft means (SPEC 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnDismiss {
    /// Stop following up on the conversation.
    Stop,
    /// Skip to the next step of the cadence.
    Skip,
}

// ---------------------------------------------------------------------------------------------
// Stage 2: the validated configuration the rest of nudge uses.

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was loaded from (for messages, and for resolving relative paths).
    pub path: Option<PathBuf>,
    pub account: Account,
    pub imap: ImapConfig,
    /// `None` when the summary is to be appended to INBOX instead of mailed.
    pub smtp: Option<SmtpConfig>,
    pub tracking: Tracking,
    pub cadence: CadenceConfig,
    pub summary: SummaryConfig,
    pub store: StoreConfig,
    /// The team this seller belongs to, when colleagues share the store.
    pub team: Option<TeamConfig>,
    /// Template language per address or domain (lower-case), before detection.
    pub languages: Vec<(String, Language)>,
    /// The company name per domain (lower-case), before anything mail says: the name
    /// follow-ups give for a prospect of that domain or of its organisation.
    pub companies: Vec<(String, String)>,
}

/// Who the seller is.
#[derive(Debug, Clone)]
pub struct Account {
    /// The account address, lower-cased.
    pub email: String,
    /// Display name, used in From and in templates.
    pub name: String,
    /// Other addresses of the seller, lower-cased; mail from them is the seller's.
    pub aliases: Vec<String>,
    /// The seller's organisation's domains, lower-cased: colleagues, never prospects.
    pub own_domains: Vec<String>,
    /// Business days and draft times are computed in this zone.
    pub timezone: Tz,
    /// Template language when detection is unsure.
    pub language: Language,
    /// Text put under each draft; defaults to the seller's name.
    pub signature: Option<String>,
}

impl Account {
    /// True when `address` is the account address or one of its aliases.
    pub fn is_seller(&self, address: &str) -> bool {
        let address = address.trim().to_ascii_lowercase();
        address == self.email || self.aliases.contains(&address)
    }
}

/// A password, or a command line that may hold one (`printf '%s' pw`): never shown. `Debug`
/// prints `[redacted]`, so a config logged with `{:?}` shows no secret (SPEC 13); the text is
/// had only through [`Redacted::expose`], where a connection needs it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Redacted(String);

impl Redacted {
    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Redacted {
    fn from(text: String) -> Redacted {
        Redacted(text)
    }
}

impl From<&str> for Redacted {
    fn from(text: &str) -> Redacted {
        Redacted(text.to_string())
    }
}

/// How nudge proves who it is to a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// LOGIN / AUTH PLAIN with a password from this source.
    Password(SecretSource),
    /// SASL XOAUTH2 with an access token printed by this command.
    XOAuth2 { token_command: Redacted },
}

/// Where a password comes from. Each variant keeps the config key it came from for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Run through `sh -c`; the first line of its output is the secret.
    Command { key: String, command: Redacted },
    /// An environment variable of the daemon.
    Env { key: String, variable: String },
    /// A systemd credential: the file `$CREDENTIALS_DIRECTORY/<name>`.
    Credential { key: String, name: String },
    /// Written in the config file (accepted only when the file is private).
    Plain { key: String, password: Redacted },
}

/// Settings shared by the IMAP and SMTP connections.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub auth: Auth,
    /// Extra CA certificate(s) to trust besides the system roots.
    pub ca_file: Option<PathBuf>,
    /// Bound on every network await.
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct ImapConfig {
    pub server: ServerConfig,
    /// Folder names that override discovery.
    pub sent_folder: Option<String>,
    pub drafts_folder: Option<String>,
    pub trash_folder: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub server: ServerConfig,
    /// The summary's From; defaults to the account address.
    pub from: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Tracking {
    pub mode: TrackMode,
    /// At first start, touches older than this are not tracked.
    pub lookback_days: u32,
    pub stop_on_same_domain: bool,
    /// Address patterns (`*` and `?`) that are never prospects, lower-cased.
    pub ignore: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct CadenceConfig {
    /// Local time a due draft appears: the start of the drafting day.
    pub draft_time: NaiveTime,
    /// The end of the drafting day (`quiet_after`, after `draft_time`): drafts are made only
    /// on business days from `draft_time` until then.
    pub quiet_after: DayEnd,
    pub daily_limit: u32,
    pub holidays: Vec<Country>,
    pub extra_holidays: Vec<NaiveDate>,
    pub away: Vec<Away>,
    pub on_dismiss: OnDismiss,
    pub steps: Vec<Step>,
    pub let_go_after_business_days: u32,
    pub workdays: Vec<Weekday>,
}

/// A local time that ends a span of the day: a time on the clock, or midnight at the end of
/// the day (written "24:00").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayEnd {
    At(NaiveTime),
    EndOfDay,
}

impl DayEnd {
    /// True when `time` is before this end on the same day.
    pub fn is_after(self, time: NaiveTime) -> bool {
        match self {
            DayEnd::At(end) => time < end,
            DayEnd::EndOfDay => true,
        }
    }
}

impl std::fmt::Display for DayEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DayEnd::At(time) => write!(f, "{}", time.format("%H:%M")),
            DayEnd::EndOfDay => f.write_str("24:00"),
        }
    }
}

/// A period the seller is away: no drafts are due in it (both ends included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Away {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// One follow-up of the cadence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub after_business_days: u32,
    pub template: String,
}

#[derive(Debug, Clone)]
pub struct SummaryConfig {
    pub enabled: bool,
    pub to: String,
    pub weekday: Weekday,
    pub time: NaiveTime,
    /// "Waiting on you" lists first the replies of this many days that ask something.
    pub waiting_on_you_days: u32,
}

#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The SQLite file; with PostgreSQL, the folder beside it keeps this host's lock files.
    pub path: PathBuf,
    /// Set when the store is a PostgreSQL database (`[store] url = "postgres://…"`).
    pub postgres: Option<PostgresStore>,
}

/// `[team]`: sellers who share one PostgreSQL store and name the same team share one
/// suppression list, wait for each other when they write to the same organisation, and their
/// lead gets a weekly team summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamConfig {
    /// The team's name, as every member writes it.
    pub name: String,
    /// A due follow-up waits until this many business days have passed since a colleague's
    /// touch of the same organisation.
    pub overlap_days: u32,
    /// Who gets the weekly team summary (an address of the team's own domains), if anyone.
    pub lead: Option<String>,
}

/// A store on PostgreSQL: the server's URL (it may hold a password, so it is never shown)
/// and the schema that holds this account's rows.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pub url: Redacted,
    pub schema: String,
}

impl PostgresStore {
    /// The URL without its password, for messages.
    pub fn shown(&self) -> String {
        match url::Url::parse(self.url.expose()) {
            Ok(mut url) => {
                if url.password().is_some() {
                    let _ = url.set_password(Some("redacted"));
                }
                format!("{url} (schema {})", self.schema)
            }
            Err(_) => format!("postgres (schema {})", self.schema),
        }
    }
}

/// The PostgreSQL schema an account's rows live in when `[store] schema` does not name one:
/// `nudge_` and the address in letters, digits and `_`, with a short stable hash of the whole
/// address so that two addresses that read alike never share one.
pub fn default_schema(email: &str) -> String {
    let email = email.to_ascii_lowercase();
    let readable: String = email
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(40)
        .collect();
    // FNV-1a: stable across builds and versions, unlike the standard hasher.
    let hash = email.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("nudge_{readable}_{:08x}", hash as u32)
}

impl Config {
    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: Some(path.to_path_buf()),
            key: String::new(),
            line: None,
            message: format!("cannot read the file: {e}"),
        })?;
        let refuse = |key: &str, message: String| {
            Error::from(ConfigError {
                path: Some(path.to_path_buf()),
                key: key.to_string(),
                line: None,
                message,
            })
        };
        if let Some(problem) = untrusted_config_paths(path) {
            return Err(refuse("", problem));
        }
        let private = file_is_private(path);
        let config = Config::parse(&text, Some(path), private)?;
        if let Some(dir) = config.store.path.parent().filter(|d| d.exists()) {
            if let Some(problem) = trust::problem(dir, "the store folder") {
                return Err(refuse("store.path", problem));
            }
        }
        Ok(config)
    }

    /// Validates configuration text. `file_private` tells whether the file it came from is
    /// unreadable by group and others (a plaintext password is refused otherwise).
    pub fn parse(text: &str, path: Option<&Path>, file_private: bool) -> Result<Config> {
        let raw = parse_raw(text).map_err(|mut e| {
            e.path = path.map(Path::to_path_buf);
            e
        })?;
        let checker = Checker { text, path };
        checker.validate(raw, file_private).map_err(Error::from)
    }
}

/// True when the file's permission bits give group and others no read access.
pub fn file_is_private(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o044 == 0)
        .unwrap_or(false)
}

/// The first of the config file, its folder, and the templates folder (with its language
/// folders and files) that another user could write, as a message naming it and the fix.
fn untrusted_config_paths(path: &Path) -> Option<String> {
    let dir = config_dir(path);
    let templates = dir.join("templates");
    let mut checks = vec![
        (path.to_path_buf(), "the config file"),
        (dir.clone(), "the config folder"),
    ];
    if templates.exists() {
        checks.push((templates.clone(), "the templates folder"));
        for entry in std::fs::read_dir(&templates)
            .into_iter()
            .flatten()
            .flatten()
        {
            let language = entry.path();
            checks.push((language.clone(), "the templates folder"));
            if language.is_dir() {
                for file in std::fs::read_dir(&language).into_iter().flatten().flatten() {
                    checks.push((file.path(), "the template"));
                }
            }
        }
    }
    checks
        .iter()
        .find_map(|(path, what)| trust::problem(path, what))
}

/// The socket addresses a `security = "plain"` connection goes to: the checked loopback
/// addresses of [`loopback_addresses`], never a fresh resolution of the name. A host that is not
/// loopback is a configuration error (validation refuses it before this is reached).
pub fn plain_socket_addresses(server: &ServerConfig) -> Result<Vec<std::net::SocketAddr>> {
    let addresses = loopback_addresses(&server.host).ok_or_else(|| ConfigError {
        path: None,
        key: "security".into(),
        line: None,
        message: format!(
            "security = \"plain\" is allowed only to a loopback address, not to \"{}\"",
            server.host
        ),
    })?;
    Ok(addresses
        .into_iter()
        .map(|ip| std::net::SocketAddr::new(ip, server.port))
        .collect())
}
