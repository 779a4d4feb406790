//! Stage 1: raw serde structs. Unknown keys are errors; values that can be checked alone are
//! checked while deserializing, so toml reports their exact position.

use std::path::PathBuf;
use std::str::FromStr;

use chrono::{NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer};

use super::{Country, DayEnd, Language, OnDismiss, Security, TrackMode};
use crate::error::ConfigError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum RawAuth {
    Password,
    Xoauth2,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) account: RawAccount,
    pub(super) imap: RawServer,
    pub(super) smtp: Option<RawServer>,
    #[serde(default)]
    pub(super) tracking: RawTracking,
    #[serde(default)]
    pub(super) cadence: RawCadence,
    #[serde(default)]
    pub(super) summary: RawSummary,
    #[serde(default)]
    pub(super) store: RawStore,
    /// Colleagues who share the store: their suppression list, overlap, the lead's summary.
    pub(super) team: Option<RawTeam>,
    /// Template language per address or domain: `"fjordkraft.no" = "nb"`.
    #[serde(default)]
    pub(super) languages: std::collections::BTreeMap<String, Language>,
    /// The prospect's company as it is written, per domain: `"tromsosjomat.no" = "Tromsø Sjømat AS"`.
    #[serde(default)]
    pub(super) companies: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAccount {
    pub(super) email: String,
    pub(super) name: String,
    #[serde(default)]
    pub(super) aliases: Vec<String>,
    #[serde(default)]
    pub(super) own_domains: Vec<String>,
    #[serde(default, deserialize_with = "de_opt_tz")]
    pub(super) timezone: Option<Tz>,
    #[serde(default)]
    pub(super) language: Option<Language>,
    #[serde(default)]
    pub(super) signature: Option<String>,
}

/// The keys of `[imap]` and `[smtp]`. They share one struct so both sections read alike;
/// keys that belong to one of them only are refused in the other during validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    pub(super) host: String,
    pub(super) port: Option<u16>,
    pub(super) security: Option<Security>,
    pub(super) username: Option<String>,
    pub(super) password: Option<super::Redacted>,
    pub(super) password_command: Option<super::Redacted>,
    pub(super) password_env: Option<String>,
    pub(super) password_credential: Option<String>,
    pub(super) auth: Option<RawAuth>,
    pub(super) oauth2_token_command: Option<super::Redacted>,
    pub(super) ca_file: Option<PathBuf>,
    pub(super) timeout_seconds: Option<u64>,
    // [imap] only
    pub(super) sent_folder: Option<String>,
    pub(super) drafts_folder: Option<String>,
    pub(super) trash_folder: Option<String>,
    // [smtp] only
    pub(super) from: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTracking {
    #[serde(default = "default_mode")]
    pub(super) mode: TrackMode,
    #[serde(default = "default_lookback")]
    pub(super) lookback_days: u32,
    #[serde(default = "default_true")]
    pub(super) stop_on_same_domain: bool,
    #[serde(default)]
    pub(super) ignore: Vec<String>,
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
pub(super) struct RawCadence {
    #[serde(default = "default_draft_time", deserialize_with = "de_time")]
    pub(super) draft_time: NaiveTime,
    #[serde(default = "default_quiet_after", deserialize_with = "de_day_end")]
    pub(super) quiet_after: DayEnd,
    #[serde(default = "default_daily_limit")]
    pub(super) daily_limit: u32,
    /// Absent: the country of the seller's time zone.
    #[serde(default)]
    pub(super) holidays: Option<Vec<Country>>,
    #[serde(default, deserialize_with = "de_dates")]
    pub(super) extra_holidays: Vec<NaiveDate>,
    #[serde(default)]
    pub(super) away: Vec<RawAway>,
    #[serde(default = "default_on_dismiss")]
    pub(super) on_dismiss: OnDismiss,
    #[serde(default = "default_steps")]
    pub(super) steps: Vec<RawStep>,
    #[serde(default = "default_let_go")]
    pub(super) let_go_after_business_days: u32,
    #[serde(default = "default_workdays", deserialize_with = "de_weekdays")]
    pub(super) workdays: Vec<Weekday>,
}

impl Default for RawCadence {
    fn default() -> Self {
        RawCadence {
            draft_time: default_draft_time(),
            quiet_after: default_quiet_after(),
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
pub(super) struct RawAway {
    #[serde(deserialize_with = "de_date")]
    pub(super) from: NaiveDate,
    #[serde(deserialize_with = "de_date")]
    pub(super) to: NaiveDate,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    pub(super) after_business_days: u32,
    pub(super) template: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSummary {
    #[serde(default = "default_true")]
    pub(super) enabled: bool,
    pub(super) to: Option<String>,
    #[serde(default = "default_summary_weekday", deserialize_with = "de_weekday")]
    pub(super) weekday: Weekday,
    #[serde(default = "default_summary_time", deserialize_with = "de_time")]
    pub(super) time: NaiveTime,
    #[serde(default = "default_waiting_on_you_days")]
    pub(super) waiting_on_you_days: u32,
}

impl Default for RawSummary {
    fn default() -> Self {
        RawSummary {
            enabled: true,
            to: None,
            weekday: default_summary_weekday(),
            time: default_summary_time(),
            waiting_on_you_days: default_waiting_on_you_days(),
        }
    }
}

fn default_waiting_on_you_days() -> u32 {
    30
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTeam {
    pub(super) name: String,
    #[serde(default = "default_overlap_days")]
    pub(super) overlap_days: u32,
    pub(super) lead: Option<String>,
}

fn default_overlap_days() -> u32 {
    10
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStore {
    pub(super) path: Option<PathBuf>,
    /// `sqlite://PATH` or `postgres://…` (a team's shared store).
    pub(super) url: Option<super::Redacted>,
    /// The PostgreSQL schema of this account's rows (default: one named after the account).
    pub(super) schema: Option<String>,
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
fn default_quiet_after() -> DayEnd {
    DayEnd::At(NaiveTime::from_hms_opt(18, 0, 0).expect("valid time"))
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

fn de_day_end<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<DayEnd, D::Error> {
    let text = String::deserialize(d)?;
    parse_day_end(&text).map_err(serde::de::Error::custom)
}

/// Parses the end of a span of the day: "HH:MM", or "24:00" for the end of the day.
pub fn parse_day_end(text: &str) -> std::result::Result<DayEnd, String> {
    if text.trim() == "24:00" {
        return Ok(DayEnd::EndOfDay);
    }
    parse_time(text)
        .map(DayEnd::At)
        .map_err(|e| format!("{e} (or \"24:00\" for the end of the day)"))
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

pub(super) fn parse_raw(text: &str) -> std::result::Result<RawConfig, ConfigError> {
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
        // serde quotes the value it could not take ("invalid type: integer `31415926`"): a
        // password written without quotes would reach the terminal and the journal.
        let message = if is_secret_key(&key) {
            "must be a string (the value is not repeated here: it is a secret)".to_string()
        } else {
            message
        };
        ConfigError {
            path: None,
            key,
            line,
            message,
        }
    })
}

/// Keys whose values are secrets (read into `Redacted`): errors never quote them.
const SECRET_KEYS: [&str; 3] = ["password", "password_command", "oauth2_token_command"];

fn is_secret_key(key: &str) -> bool {
    let leaf = key.rsplit('.').next().unwrap_or(key);
    let leaf = leaf.split('[').next().unwrap_or(leaf);
    SECRET_KEYS.contains(&leaf)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_about_a_secret_never_quotes_it() {
        for (text, key) in [
            ("[imap]\npassword=31415926", "imap.password"),
            ("[smtp]\npassword = [\"hemmelig-i-liste\"]", "smtp.password"),
            (
                "[imap]\noauth2_token_command = 27182818",
                "imap.oauth2_token_command",
            ),
            (
                "[imap]\npassword_command = { x = \"hemmelig-i-tabell\" }",
                "imap.password_command",
            ),
        ] {
            let error = parse_raw(text).expect_err("a wrong type");
            assert_eq!(error.key, key);
            assert_eq!(error.line, Some(2), "{error}");
            let shown = error.to_string();
            for secret in ["31415926", "hemmelig", "27182818"] {
                assert!(!shown.contains(secret), "{shown}");
            }
            assert!(shown.contains("must be a string"), "{shown}");
        }
    }

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
}
