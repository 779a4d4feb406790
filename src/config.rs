//! Configuration, loaded in two stages: the TOML text is read into raw serde structs that reject
//! unknown keys, then checked into a [`Config`] whose values are all valid. Every error names
//! the key (`cadence.draft_time`) and, where it can be found, the line.
//!
//! Secrets never need to be in the file: see [`SecretSource`].

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer};

use crate::error::{ConfigError, Error, Result};

/// The commented starting file that `nudge init` writes. It loads as it is.
pub const INIT_TEMPLATE: &str = include_str!("config/init.toml");

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
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Nb => "nb",
            Language::Sv => "sv",
            Language::Da => "da",
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawAuth {
    Password,
    Xoauth2,
}

// ---------------------------------------------------------------------------------------------
// Stage 1: raw serde structs. Unknown keys are errors; values that can be checked alone are
// checked while deserializing, so toml reports their exact position.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    account: RawAccount,
    imap: RawServer,
    smtp: Option<RawServer>,
    #[serde(default)]
    tracking: RawTracking,
    #[serde(default)]
    cadence: RawCadence,
    #[serde(default)]
    summary: RawSummary,
    #[serde(default)]
    store: RawStore,
    /// Template language per address or domain: `"fjordkraft.no" = "nb"`.
    #[serde(default)]
    languages: std::collections::BTreeMap<String, Language>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    email: String,
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    own_domains: Vec<String>,
    #[serde(default, deserialize_with = "de_opt_tz")]
    timezone: Option<Tz>,
    #[serde(default)]
    language: Option<Language>,
    #[serde(default)]
    signature: Option<String>,
}

/// The keys of `[imap]` and `[smtp]`. They share one struct so both sections read alike;
/// keys that belong to one of them only are refused in the other during validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    host: String,
    port: Option<u16>,
    security: Option<Security>,
    username: Option<String>,
    password: Option<String>,
    password_command: Option<String>,
    password_env: Option<String>,
    password_credential: Option<String>,
    auth: Option<RawAuth>,
    oauth2_token_command: Option<String>,
    ca_file: Option<PathBuf>,
    timeout_seconds: Option<u64>,
    // [imap] only
    sent_folder: Option<String>,
    drafts_folder: Option<String>,
    trash_folder: Option<String>,
    // [smtp] only
    from: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTracking {
    #[serde(default = "default_mode")]
    mode: TrackMode,
    #[serde(default = "default_lookback")]
    lookback_days: u32,
    #[serde(default = "default_true")]
    stop_on_same_domain: bool,
    #[serde(default)]
    ignore: Vec<String>,
}

impl Default for RawTracking {
    fn default() -> Self {
        RawTracking {
            mode: default_mode(),
            lookback_days: default_lookback(),
            stop_on_same_domain: true,
            ignore: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCadence {
    #[serde(default = "default_draft_time", deserialize_with = "de_time")]
    draft_time: NaiveTime,
    #[serde(default = "default_daily_limit")]
    daily_limit: u32,
    /// Absent: the country of the seller's time zone.
    #[serde(default)]
    holidays: Option<Vec<Country>>,
    #[serde(default, deserialize_with = "de_dates")]
    extra_holidays: Vec<NaiveDate>,
    #[serde(default)]
    away: Vec<RawAway>,
    #[serde(default = "default_on_dismiss")]
    on_dismiss: OnDismiss,
    #[serde(default = "default_steps")]
    steps: Vec<RawStep>,
    #[serde(default = "default_let_go")]
    let_go_after_business_days: u32,
    #[serde(default = "default_workdays", deserialize_with = "de_weekdays")]
    workdays: Vec<Weekday>,
}

impl Default for RawCadence {
    fn default() -> Self {
        RawCadence {
            draft_time: default_draft_time(),
            daily_limit: default_daily_limit(),
            holidays: None,
            extra_holidays: Vec::new(),
            away: Vec::new(),
            on_dismiss: default_on_dismiss(),
            steps: default_steps(),
            let_go_after_business_days: default_let_go(),
            workdays: default_workdays(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAway {
    #[serde(deserialize_with = "de_date")]
    from: NaiveDate,
    #[serde(deserialize_with = "de_date")]
    to: NaiveDate,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    after_business_days: u32,
    template: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSummary {
    #[serde(default = "default_true")]
    enabled: bool,
    to: Option<String>,
    #[serde(default = "default_summary_weekday", deserialize_with = "de_weekday")]
    weekday: Weekday,
    #[serde(default = "default_summary_time", deserialize_with = "de_time")]
    time: NaiveTime,
}

impl Default for RawSummary {
    fn default() -> Self {
        RawSummary {
            enabled: true,
            to: None,
            weekday: default_summary_weekday(),
            time: default_summary_time(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    path: Option<PathBuf>,
}

fn default_mode() -> TrackMode {
    TrackMode::External
}
fn default_lookback() -> u32 {
    14
}
fn default_true() -> bool {
    true
}
fn default_draft_time() -> NaiveTime {
    NaiveTime::from_hms_opt(8, 30, 0).expect("valid time")
}
fn default_daily_limit() -> u32 {
    20
}
fn default_on_dismiss() -> OnDismiss {
    OnDismiss::Stop
}
fn default_steps() -> Vec<RawStep> {
    [(3, "followup-1"), (7, "followup-2"), (10, "close-the-loop")]
        .into_iter()
        .map(|(days, template)| RawStep {
            after_business_days: days,
            template: template.to_string(),
        })
        .collect()
}
fn default_let_go() -> u32 {
    10
}
fn default_workdays() -> Vec<Weekday> {
    use Weekday::*;
    vec![Mon, Tue, Wed, Thu, Fri]
}
fn default_summary_weekday() -> Weekday {
    Weekday::Mon
}
fn default_summary_time() -> NaiveTime {
    NaiveTime::from_hms_opt(7, 30, 0).expect("valid time")
}

fn de_opt_tz<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Tz>, D::Error> {
    let name = String::deserialize(d)?;
    parse_tz(&name).map(Some).map_err(serde::de::Error::custom)
}

fn parse_tz(name: &str) -> std::result::Result<Tz, String> {
    Tz::from_str(name.trim()).map_err(|_| {
        format!("unknown time zone \"{name}\": use an IANA name such as \"Europe/Oslo\"")
    })
}

fn de_time<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<NaiveTime, D::Error> {
    let text = String::deserialize(d)?;
    parse_time(&text).map_err(serde::de::Error::custom)
}

/// Parses a 24-hour "HH:MM" local time.
pub fn parse_time(text: &str) -> std::result::Result<NaiveTime, String> {
    let bad = || format!("\"{text}\" is not a time of day: write it as \"HH:MM\", 24-hour");
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    NaiveTime::from_hms_opt(h, m, 0).ok_or_else(bad)
}

/// Parses a calendar date written "YYYY-MM-DD".
pub fn parse_date(text: &str) -> std::result::Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("\"{text}\" is not a date: write it as \"YYYY-MM-DD\""))
}

fn de_date<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<NaiveDate, D::Error> {
    let text = String::deserialize(d)?;
    parse_date(&text).map_err(serde::de::Error::custom)
}

fn de_dates<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<NaiveDate>, D::Error> {
    let texts = Vec::<String>::deserialize(d)?;
    texts
        .iter()
        .map(|t| parse_date(t))
        .collect::<std::result::Result<_, _>>()
        .map_err(serde::de::Error::custom)
}

fn parse_weekday(text: &str) -> std::result::Result<Weekday, String> {
    Weekday::from_str(text.trim())
        .map_err(|_| format!("\"{text}\" is not a weekday: write \"monday\" … \"sunday\""))
}

fn de_weekday<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Weekday, D::Error> {
    let text = String::deserialize(d)?;
    parse_weekday(&text).map_err(serde::de::Error::custom)
}

fn de_weekdays<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<Weekday>, D::Error> {
    let texts = Vec::<String>::deserialize(d)?;
    texts
        .iter()
        .map(|t| parse_weekday(t))
        .collect::<std::result::Result<_, _>>()
        .map_err(serde::de::Error::custom)
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
    /// Template language per address or domain (lower-case), before detection.
    pub languages: Vec<(String, Language)>,
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

/// How nudge proves who it is to a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// LOGIN / AUTH PLAIN with a password from this source.
    Password(SecretSource),
    /// SASL XOAUTH2 with an access token printed by this command.
    XOAuth2 { token_command: String },
}

/// Where a password comes from. Each variant keeps the config key it came from for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Run through `sh -c`; the first line of its output is the secret.
    Command { key: String, command: String },
    /// An environment variable of the daemon.
    Env { key: String, variable: String },
    /// A systemd credential: the file `$CREDENTIALS_DIRECTORY/<name>`.
    Credential { key: String, name: String },
    /// Written in the config file (accepted only when the file is private).
    Plain { key: String, password: String },
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
    pub draft_time: NaiveTime,
    pub daily_limit: u32,
    pub holidays: Vec<Country>,
    pub extra_holidays: Vec<NaiveDate>,
    pub away: Vec<Away>,
    pub on_dismiss: OnDismiss,
    pub steps: Vec<Step>,
    pub let_go_after_business_days: u32,
    pub workdays: Vec<Weekday>,
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
}

#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub path: PathBuf,
}

/// Default for the timeout of network operations.
const DEFAULT_TIMEOUT_SECONDS: u64 = 30;

/// The config path used when none is given: `$XDG_CONFIG_HOME/nudge/config.toml`.
pub fn default_config_path() -> PathBuf {
    xdg_dir("XDG_CONFIG_HOME", ".config").join("nudge/config.toml")
}

/// The store path used when none is configured: `$XDG_STATE_HOME/nudge/nudge.db`.
pub fn default_store_path() -> PathBuf {
    xdg_dir("XDG_STATE_HOME", ".local/state").join("nudge/nudge.db")
}

/// The folder holding the config file: templates placed here override shipped ones.
pub fn config_dir(config_path: &Path) -> PathBuf {
    config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn xdg_dir(variable: &str, fallback: &str) -> PathBuf {
    match std::env::var_os(variable) {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        _ => home_dir().join(fallback),
    }
}

fn home_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// The system's time zone: `TZ`, else the `/etc/localtime` link, else `/etc/timezone`, else UTC.
pub fn system_timezone() -> Tz {
    let from_tz = std::env::var("TZ")
        .ok()
        .map(|s| s.trim_start_matches(':').to_string());
    let from_link = std::fs::read_link("/etc/localtime")
        .ok()
        .and_then(|target| {
            let target = target.to_string_lossy().into_owned();
            target
                .split_once("zoneinfo/")
                .map(|(_, name)| name.to_string())
        });
    let from_file = std::fs::read_to_string("/etc/timezone")
        .ok()
        .map(|s| s.trim().to_string());
    [from_tz, from_link, from_file]
        .into_iter()
        .flatten()
        .find_map(|name| Tz::from_str(&name).ok())
        .unwrap_or(Tz::UTC)
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
        let private = file_is_private(path);
        Config::parse(&text, Some(path), private)
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

fn parse_raw(text: &str) -> std::result::Result<RawConfig, ConfigError> {
    let deserializer = toml::Deserializer::new(text);
    serde_path_to_error::deserialize::<_, RawConfig>(deserializer).map_err(|err| {
        let mut key = err.path().to_string();
        if key == "." {
            key.clear();
        }
        let inner = err.into_inner();
        let message = inner.message().to_string();
        // serde names an unknown or missing key only in the message: add it to the path.
        for prefix in ["unknown field `", "missing field `"] {
            if let Some(rest) = message.strip_prefix(prefix) {
                if let Some((field, _)) = rest.split_once('`') {
                    if key.rsplit('.').next() != Some(field) {
                        key = join_key(&key, field);
                    }
                }
            }
        }
        let line = inner
            .span()
            .map(|span| line_of_offset(text, span.start))
            .or_else(|| locate_key(text, &key));
        ConfigError {
            path: None,
            key,
            line,
            message,
        }
    })
}

fn join_key(parent: &str, field: &str) -> String {
    if parent.is_empty() {
        field.to_string()
    } else {
        format!("{parent}.{field}")
    }
}

fn line_of_offset(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Finds the line of a dotted key such as `imap.security` by reading table headers and
/// `key =` lines. Good enough for the hand-written files nudge expects; `None` otherwise.
pub fn locate_key(text: &str, key: &str) -> Option<usize> {
    let (table, leaf) = match key.rsplit_once('.') {
        Some((table, leaf)) => (table, leaf),
        None => ("", key),
    };
    // Array indices ("cadence.steps[1]") are not tracked: look for the array's key.
    let leaf = leaf.split('[').next().unwrap_or(leaf);
    let table = table.split('[').next().unwrap_or(table);
    let mut current = String::new();
    let mut table_line = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            current = trimmed
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string();
            if current == table {
                table_line = Some(index + 1);
            }
            continue;
        }
        if current == table {
            if let Some((name, _)) = trimmed.split_once('=') {
                if name.trim().trim_matches('"') == leaf {
                    return Some(index + 1);
                }
            }
        }
    }
    table_line
}

struct Checker<'a> {
    text: &'a str,
    path: Option<&'a Path>,
}

impl Checker<'_> {
    fn error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            path: self.path.map(Path::to_path_buf),
            key: key.to_string(),
            line: locate_key(self.text, key),
            message: message.into(),
        }
    }

    fn validate(
        &self,
        raw: RawConfig,
        file_private: bool,
    ) -> std::result::Result<Config, ConfigError> {
        let account = self.account(raw.account)?;
        let imap_server = self.server("imap", &raw.imap, file_private)?;
        if raw.imap.from.is_some() {
            return Err(self.error("imap.from", "this key belongs in [smtp], not [imap]"));
        }
        let imap = ImapConfig {
            server: imap_server,
            sent_folder: self.folder("imap.sent_folder", raw.imap.sent_folder)?,
            drafts_folder: self.folder("imap.drafts_folder", raw.imap.drafts_folder)?,
            trash_folder: self.folder("imap.trash_folder", raw.imap.trash_folder)?,
        };
        let smtp = match raw.smtp {
            None => None,
            Some(smtp) => {
                for (value, key) in [
                    (&smtp.sent_folder, "sent_folder"),
                    (&smtp.drafts_folder, "drafts_folder"),
                    (&smtp.trash_folder, "trash_folder"),
                ] {
                    if value.is_some() {
                        return Err(self.error(
                            &format!("smtp.{key}"),
                            "folders are IMAP settings: move this key to [imap]",
                        ));
                    }
                }
                let server = self.server("smtp", &smtp, file_private)?;
                let from = match smtp.from {
                    Some(from) => Some(self.address("smtp.from", &from)?),
                    None => None,
                };
                Some(SmtpConfig { server, from })
            }
        };
        let tracking = self.tracking(raw.tracking)?;
        let cadence = self.cadence(raw.cadence, account.timezone)?;
        let summary = SummaryConfig {
            enabled: raw.summary.enabled,
            to: match raw.summary.to {
                Some(to) => {
                    let to = self.address("summary.to", &to)?;
                    // The summary names prospects and what they wrote: it is for the seller.
                    if !account.is_seller(&to) {
                        return Err(self.error(
                            "summary.to",
                            format!(
                                "the summary goes to the seller only: {to} is neither \
                                 account.email nor one of account.aliases"
                            ),
                        ));
                    }
                    to.to_ascii_lowercase()
                }
                None => account.email.clone(),
            },
            weekday: raw.summary.weekday,
            time: raw.summary.time,
        };
        let store = StoreConfig {
            path: match raw.store.path {
                Some(path) if path.is_absolute() => path,
                Some(_) => {
                    return Err(self.error("store.path", "the store path must be absolute"));
                }
                None => default_store_path(),
            },
        };
        let mut languages = Vec::new();
        for (key, language) in raw.languages {
            let key = key.trim().trim_start_matches('@').to_ascii_lowercase();
            if key.is_empty() || !key.contains('.') || key.contains(char::is_whitespace) {
                return Err(self.error(
                    "languages",
                    format!("\"{key}\" is neither an address nor a domain"),
                ));
            }
            languages.push((key, language));
        }
        Ok(Config {
            path: self.path.map(Path::to_path_buf),
            languages,
            account,
            imap,
            smtp,
            tracking,
            cadence,
            summary,
            store,
        })
    }

    fn address(&self, key: &str, value: &str) -> std::result::Result<String, ConfigError> {
        let value = value.trim();
        let valid = match value.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
                    && !value.chars().any(|c| c.is_whitespace() || c.is_control())
                    && !value.contains(['<', '>', ',', ';'])
            }
            None => false,
        };
        if valid {
            Ok(value.to_ascii_lowercase())
        } else {
            Err(self.error(
                key,
                format!("\"{value}\" is not an email address (like name@example.com)"),
            ))
        }
    }

    fn account(&self, raw: RawAccount) -> std::result::Result<Account, ConfigError> {
        let email = self.address("account.email", &raw.email)?;
        let name = raw.name.trim().to_string();
        if name.is_empty() || name.contains(['\r', '\n']) {
            return Err(self.error("account.name", "the name must be one non-empty line"));
        }
        let aliases = raw
            .aliases
            .iter()
            .map(|a| self.address("account.aliases", a))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut own_domains = Vec::new();
        for domain in &raw.own_domains {
            let domain = domain.trim().trim_start_matches('@').to_ascii_lowercase();
            if domain.is_empty()
                || !domain.contains('.')
                || domain.contains(|c: char| c.is_whitespace() || c == '@' || c == '*')
            {
                return Err(self.error(
                    "account.own_domains",
                    format!("\"{domain}\" is not a domain name (like example.com)"),
                ));
            }
            own_domains.push(domain);
        }
        let signature = raw.signature.filter(|s| !s.trim().is_empty());
        Ok(Account {
            email,
            name,
            aliases,
            own_domains,
            timezone: raw.timezone.unwrap_or_else(system_timezone),
            language: raw.language.unwrap_or(Language::En),
            signature,
        })
    }

    fn server(
        &self,
        section: &str,
        raw: &RawServer,
        file_private: bool,
    ) -> std::result::Result<ServerConfig, ConfigError> {
        let key = |leaf: &str| format!("{section}.{leaf}");
        let host = raw.host.trim().to_string();
        if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '/') {
            return Err(self.error(&key("host"), format!("\"{host}\" is not a host name")));
        }
        let security = raw.security.unwrap_or(Security::Tls);
        if security == Security::Plain && !is_loopback(&host) {
            return Err(self.error(
                &key("security"),
                format!(
                    "security = \"plain\" sends the password unencrypted, so it is allowed only \
                     to a loopback address (127.0.0.1, ::1, localhost), not to \"{host}\": \
                     use \"tls\" or \"starttls\""
                ),
            ));
        }
        let port = match raw.port {
            Some(0) => return Err(self.error(&key("port"), "port 0 is not a valid port")),
            Some(port) => port,
            None => match (section, security) {
                ("imap", Security::Tls) => 993,
                ("imap", _) => 143,
                (_, Security::Tls) => 465,
                _ => 587,
            },
        };
        let username = match &raw.username {
            Some(user) if !user.trim().is_empty() => user.trim().to_string(),
            Some(_) => return Err(self.error(&key("username"), "the username is empty")),
            None => {
                return Err(self.error(
                    &key("username"),
                    "missing: the login name at the server (often the email address)",
                ))
            }
        };
        let auth = match raw.auth.unwrap_or(RawAuth::Password) {
            RawAuth::Xoauth2 => {
                if let Some(field) = [
                    ("password", &raw.password),
                    ("password_command", &raw.password_command),
                    ("password_env", &raw.password_env),
                    ("password_credential", &raw.password_credential),
                ]
                .iter()
                .find(|(_, v)| v.is_some())
                .map(|(k, _)| *k)
                {
                    return Err(self.error(
                        &key(field),
                        "auth = \"xoauth2\" uses oauth2_token_command, not a password",
                    ));
                }
                match &raw.oauth2_token_command {
                    Some(cmd) if !cmd.trim().is_empty() => Auth::XOAuth2 {
                        token_command: cmd.clone(),
                    },
                    _ => {
                        return Err(self.error(
                            &key("oauth2_token_command"),
                            "auth = \"xoauth2\" needs oauth2_token_command, a command that \
                             prints a fresh access token",
                        ))
                    }
                }
            }
            RawAuth::Password => {
                if raw.oauth2_token_command.is_some() {
                    return Err(self.error(
                        &key("oauth2_token_command"),
                        "oauth2_token_command is used only with auth = \"xoauth2\"",
                    ));
                }
                Auth::Password(self.secret(section, raw, file_private)?)
            }
        };
        let ca_file = match &raw.ca_file {
            Some(path) if !path.is_file() => {
                return Err(self.error(
                    &key("ca_file"),
                    format!("the CA file {} does not exist", path.display()),
                ))
            }
            other => other.clone(),
        };
        let timeout = match raw.timeout_seconds {
            Some(0) => {
                return Err(self.error(&key("timeout_seconds"), "the timeout must be at least 1"))
            }
            Some(seconds) => Duration::from_secs(seconds),
            None => Duration::from_secs(DEFAULT_TIMEOUT_SECONDS),
        };
        Ok(ServerConfig {
            host,
            port,
            security,
            username,
            auth,
            ca_file,
            timeout,
        })
    }

    fn secret(
        &self,
        section: &str,
        raw: &RawServer,
        file_private: bool,
    ) -> std::result::Result<SecretSource, ConfigError> {
        let key = |leaf: &str| format!("{section}.{leaf}");
        let mut sources = Vec::new();
        if let Some(command) = &raw.password_command {
            sources.push(SecretSource::Command {
                key: key("password_command"),
                command: command.clone(),
            });
        }
        if let Some(variable) = &raw.password_env {
            sources.push(SecretSource::Env {
                key: key("password_env"),
                variable: variable.clone(),
            });
        }
        if let Some(name) = &raw.password_credential {
            if name.is_empty() || name.contains('/') {
                return Err(self.error(
                    &key("password_credential"),
                    "a credential name is a plain file name, like \"imap-password\"",
                ));
            }
            sources.push(SecretSource::Credential {
                key: key("password_credential"),
                name: name.clone(),
            });
        }
        if let Some(password) = &raw.password {
            if !file_private {
                return Err(self.error(
                    &key("password"),
                    "a plaintext password is accepted only when the config file is not \
                     readable by group or others: run `chmod 600` on it, or better use \
                     password_command, password_env or password_credential",
                ));
            }
            sources.push(SecretSource::Plain {
                key: key("password"),
                password: password.clone(),
            });
        }
        match sources.len() {
            1 => Ok(sources.remove(0)),
            0 => Err(self.error(
                &key("password_command"),
                "no password source: set one of password_command, password_env, \
                 password_credential or password (or auth = \"xoauth2\" with \
                 oauth2_token_command)",
            )),
            _ => Err(self.error(
                &key(secret_key_leaf(&sources[1])),
                "more than one password source: keep exactly one of password_command, \
                 password_env, password_credential and password",
            )),
        }
    }

    fn folder(
        &self,
        key: &str,
        value: Option<String>,
    ) -> std::result::Result<Option<String>, ConfigError> {
        match value {
            Some(name) if name.trim().is_empty() || name.contains(['\r', '\n', '"']) => Err(self
                .error(
                    key,
                    "a folder name must be non-empty, on one line, without quotes",
                )),
            other => Ok(other),
        }
    }

    fn tracking(&self, raw: RawTracking) -> std::result::Result<Tracking, ConfigError> {
        if raw.lookback_days == 0 || raw.lookback_days > 3650 {
            return Err(self.error(
                "tracking.lookback_days",
                "lookback_days must be between 1 and 3650",
            ));
        }
        let mut ignore = Vec::new();
        for pattern in raw.ignore {
            let pattern = pattern.trim().to_ascii_lowercase();
            if pattern.is_empty() || pattern.contains(char::is_whitespace) {
                return Err(self.error(
                    "tracking.ignore",
                    format!(
                        "\"{pattern}\" is not an address pattern (like \"*@newsletter.example.com\")"
                    ),
                ));
            }
            ignore.push(pattern);
        }
        Ok(Tracking {
            mode: raw.mode,
            lookback_days: raw.lookback_days,
            stop_on_same_domain: raw.stop_on_same_domain,
            ignore,
        })
    }

    fn cadence(
        &self,
        raw: RawCadence,
        zone: Tz,
    ) -> std::result::Result<CadenceConfig, ConfigError> {
        if raw.daily_limit == 0 {
            return Err(self.error(
                "cadence.daily_limit",
                "daily_limit must be at least 1 (no drafts at all? stop the service instead)",
            ));
        }
        if raw.steps.is_empty() {
            return Err(self.error("cadence.steps", "the cadence needs at least one step"));
        }
        let mut steps = Vec::new();
        for step in raw.steps {
            if step.after_business_days == 0 || step.after_business_days > 250 {
                return Err(self.error(
                    "cadence.steps",
                    format!(
                        "after_business_days = {} in step \"{}\": use 1 to 250",
                        step.after_business_days, step.template
                    ),
                ));
            }
            let valid_name = !step.template.is_empty()
                && step
                    .template
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
            if !valid_name {
                return Err(self.error(
                    "cadence.steps",
                    format!(
                        "\"{}\" is not a template name (lower-case letters, digits and '-')",
                        step.template
                    ),
                ));
            }
            steps.push(Step {
                after_business_days: step.after_business_days,
                template: step.template,
            });
        }
        if raw.let_go_after_business_days == 0 || raw.let_go_after_business_days > 250 {
            return Err(self.error(
                "cadence.let_go_after_business_days",
                "let_go_after_business_days must be between 1 and 250",
            ));
        }
        let mut away = Vec::new();
        for period in raw.away {
            if period.to < period.from {
                return Err(self.error(
                    "cadence.away",
                    format!(
                        "the away period from {} to {} ends before it starts",
                        period.from, period.to
                    ),
                ));
            }
            away.push(Away {
                from: period.from,
                to: period.to,
            });
        }
        if raw.workdays.is_empty() {
            return Err(self.error("cadence.workdays", "at least one workday is needed"));
        }
        Ok(CadenceConfig {
            draft_time: raw.draft_time,
            daily_limit: raw.daily_limit,
            holidays: raw
                .holidays
                .unwrap_or_else(|| country_of_zone(zone).into_iter().collect()),
            extra_holidays: raw.extra_holidays,
            away,
            on_dismiss: raw.on_dismiss,
            steps,
            let_go_after_business_days: raw.let_go_after_business_days,
            workdays: raw.workdays,
        })
    }
}

fn secret_key_leaf(source: &SecretSource) -> &'static str {
    match source {
        SecretSource::Command { .. } => "password_command",
        SecretSource::Env { .. } => "password_env",
        SecretSource::Credential { .. } => "password_credential",
        SecretSource::Plain { .. } => "password",
    }
}

/// The holiday calendar of a time zone's country, when nudge has one.
pub fn country_of_zone(zone: Tz) -> Option<Country> {
    let name = zone.name();
    match name {
        "Europe/Oslo" | "Arctic/Longyearbyen" => Some(Country::NO),
        "Europe/Stockholm" => Some(Country::SE),
        "Europe/Copenhagen" => Some(Country::DK),
        "Europe/Helsinki" | "Europe/Mariehamn" => Some(Country::FI),
        "Europe/Berlin" | "Europe/Busingen" => Some(Country::DE),
        "Europe/London" => Some(Country::GB),
        _ if name.starts_with("America/")
            && [
                "New_York",
                "Chicago",
                "Denver",
                "Los_Angeles",
                "Phoenix",
                "Anchorage",
                "Detroit",
                "Boise",
                "Juneau",
                "Adak",
                "Indiana/",
                "Kentucky/",
                "North_Dakota/",
                "Menominee",
                "Metlakatla",
                "Nome",
                "Sitka",
                "Yakutat",
            ]
            .iter()
            .any(|c| name["America/".len()..].starts_with(c)) =>
        {
            Some(Country::US)
        }
        "Pacific/Honolulu" | "US/Eastern" | "US/Central" | "US/Mountain" | "US/Pacific" => {
            Some(Country::US)
        }
        _ => None,
    }
}

/// True for `localhost` and loopback IP addresses (127.0.0.0/8, ::1).
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// How long a secret command may run (a password manager may wait for an agent).
const SECRET_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

impl SecretSource {
    /// The config key the secret comes from, for messages.
    pub fn key(&self) -> &str {
        match self {
            SecretSource::Command { key, .. }
            | SecretSource::Env { key, .. }
            | SecretSource::Credential { key, .. }
            | SecretSource::Plain { key, .. } => key,
        }
    }

    /// Fetches the secret now. Nothing is cached: a rotated password is picked up at the next
    /// connection.
    pub async fn resolve(&self) -> Result<String> {
        let fail = |reason: String| Error::Secret {
            key: self.key().to_string(),
            reason,
        };
        match self {
            SecretSource::Plain { password, .. } => Ok(password.clone()),
            SecretSource::Env { variable, .. } => match std::env::var(variable) {
                Ok(value) if !value.is_empty() => Ok(value),
                _ => Err(fail(format!(
                    "the environment variable {variable} is not set"
                ))),
            },
            SecretSource::Credential { name, .. } => {
                let dir = std::env::var_os("CREDENTIALS_DIRECTORY").ok_or_else(|| {
                    fail(format!(
                        "$CREDENTIALS_DIRECTORY is not set: the credential \"{name}\" is given \
                         by systemd's LoadCredential= when nudge runs as a service"
                    ))
                })?;
                let path = Path::new(&dir).join(name);
                let text = tokio::fs::read_to_string(&path)
                    .await
                    .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
                first_line(&text).ok_or_else(|| fail(format!("{} is empty", path.display())))
            }
            SecretSource::Command { command, .. } => {
                run_secret_command(command).await.map_err(fail)
            }
        }
    }
}

/// Runs a password or token command through `sh -c` and returns the first line it printed.
pub async fn run_secret_command(command: &str) -> std::result::Result<String, String> {
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run `{command}`: {e}"))?;
    let output = tokio::time::timeout(SECRET_COMMAND_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| {
            format!(
                "`{command}` did not finish within {} s",
                SECRET_COMMAND_TIMEOUT.as_secs()
            )
        })?
        .map_err(|e| format!("cannot run `{command}`: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "`{command}` failed ({}): {}",
            output.status,
            stderr.trim()
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    first_line(&stdout).ok_or_else(|| format!("`{command}` printed nothing"))
}

fn first_line(text: &str) -> Option<String> {
    text.lines()
        .next()
        .map(|l| l.trim_end_matches('\r').to_string())
        .filter(|l| !l.is_empty())
}

impl ServerConfig {
    /// The password or access token to log in with, fetched now.
    pub async fn credential(&self) -> Result<String> {
        match &self.auth {
            Auth::Password(source) => source.resolve().await,
            Auth::XOAuth2 { token_command } => {
                run_secret_command(token_command)
                    .await
                    .map_err(|reason| Error::Secret {
                        key: "oauth2_token_command".to_string(),
                        reason,
                    })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_times() {
        assert_eq!(
            parse_time("08:30"),
            Ok(NaiveTime::from_hms_opt(8, 30, 0).unwrap())
        );
        assert_eq!(
            parse_time("7:05"),
            Ok(NaiveTime::from_hms_opt(7, 5, 0).unwrap())
        );
        for bad in ["24:00", "8.30", "0830", "08:3", "08:60", "", "ab:cd"] {
            assert!(parse_time(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "127.0.0.1",
            "127.8.9.1",
            "::1",
            "[::1]",
            "localhost",
            "LocalHost",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "10.0.0.1",
            "imap.example.com",
            "localhost.example.com",
            "::2",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn locates_keys_in_tables() {
        let text = "[account]\nemail = \"a\"\n\n[imap]\nhost = \"h\"\n  security = \"plain\"\n";
        assert_eq!(locate_key(text, "imap.security"), Some(6));
        assert_eq!(locate_key(text, "account.email"), Some(2));
        assert_eq!(
            locate_key(text, "imap.port"),
            Some(4),
            "falls back to the table"
        );
        assert_eq!(locate_key(text, "smtp.port"), None);
    }

    #[test]
    fn first_line_of_secret_output() {
        assert_eq!(first_line("s3cret\nmore\n"), Some("s3cret".into()));
        assert_eq!(first_line("s3cret\r\n"), Some("s3cret".into()));
        assert_eq!(first_line("\n"), None);
    }
}
