//! Stage 2: the raw structs checked into the validated [`Config`]. Every error names the key
//! and, where it can be found, the line.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;

use super::paths::{default_store_path, system_timezone};
use super::raw::{
    locate_key, RawAccount, RawAuth, RawCadence, RawConfig, RawServer, RawStore, RawTeam,
    RawTracking,
};
use super::{
    default_schema, Account, Auth, Away, CadenceConfig, Config, Country, ImapConfig, Language,
    PostgresStore, Redacted, SecretSource, Security, ServerConfig, SmtpConfig, Step, StoreConfig,
    SummaryConfig, TeamConfig, Tracking,
};
use crate::error::ConfigError;

/// Default for the timeout of network operations.
const DEFAULT_TIMEOUT_SECONDS: u64 = 30;
/// The longest company name `[companies]` takes: longer is no name but a mistake.
const MAX_COMPANY_CHARS: usize = 100;

pub(super) struct Checker<'a> {
    pub(super) text: &'a str,
    pub(super) path: Option<&'a Path>,
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

    /// `[team]`: a name, the overlap in business days, and the lead's address.
    fn team(
        &self,
        raw: RawTeam,
        account: &Account,
        store: &StoreConfig,
    ) -> std::result::Result<TeamConfig, ConfigError> {
        let name = raw.name.trim().to_string();
        if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
            return Err(self.error("team.name", "give the team a name (at most 100 characters)"));
        }
        if store.postgres.is_none() {
            return Err(self.error(
                "team.name",
                "a team shares one store: set [store] url = \"postgres://…\" for every member",
            ));
        }
        if raw.overlap_days > 60 {
            return Err(self.error("team.overlap_days", "must be at most 60 business days"));
        }
        let lead = match raw.lead {
            None => None,
            Some(lead) => {
                let lead = lead.trim().to_ascii_lowercase();
                let domain = lead.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
                let own = account
                    .own_domains
                    .iter()
                    .any(|d| domain == d || domain.ends_with(&format!(".{d}")));
                if !lead.contains('@') || domain.is_empty() || !own {
                    return Err(self.error(
                        "team.lead",
                        "the lead's summary names the team's prospects: it goes only to an \
                         address of the team's own domains (account.own_domains)",
                    ));
                }
                Some(lead)
            }
        };
        Ok(TeamConfig {
            name,
            overlap_days: raw.overlap_days,
            lead,
        })
    }

    /// `[store]`: a SQLite file (`path`, or `url = "sqlite://PATH"`) or a PostgreSQL database
    /// (`url = "postgres://…"`, the account's rows in `schema`).
    fn store(
        &self,
        raw: RawStore,
        email: &str,
        file_private: bool,
    ) -> std::result::Result<StoreConfig, ConfigError> {
        let absolute = |key: &str, path: PathBuf| {
            if path.is_absolute() {
                Ok(path)
            } else {
                Err(self.error(key, "the store path must be absolute"))
            }
        };
        let url = raw.url.as_ref().map(|u| u.expose().trim().to_string());
        let sqlite_path = url.as_deref().and_then(|u| u.strip_prefix("sqlite://"));
        let postgres = url
            .as_deref()
            .filter(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"));
        if let (Some(url), None, None) = (&url, sqlite_path, postgres) {
            let scheme = url.split("://").next().unwrap_or_default();
            return Err(self.error(
                "store.url",
                format!("\"{scheme}\" is not a store nudge knows: use \"sqlite://PATH\" or \"postgres://…\""),
            ));
        }
        let path = match (raw.path, sqlite_path) {
            (Some(_), Some(_)) => {
                return Err(self.error(
                    "store.url",
                    "give the SQLite file once: either path or url = \"sqlite://PATH\"",
                ))
            }
            (Some(path), None) => absolute("store.path", path)?,
            (None, Some(path)) => absolute("store.url", PathBuf::from(path))?,
            (None, None) => default_store_path(),
        };
        if raw.schema.is_some() && postgres.is_none() {
            return Err(self.error(
                "store.schema",
                "a schema is a PostgreSQL store's: set url = \"postgres://…\" too",
            ));
        }
        let postgres = match postgres {
            None => None,
            Some(text) => {
                let parsed = url::Url::parse(text)
                    .map_err(|e| self.error("store.url", format!("not a PostgreSQL URL: {e}")))?;
                if parsed.password().is_some() && !file_private {
                    return Err(self.error(
                        "store.url",
                        "the URL holds a password and the config file is readable by others: \
                         make the file private (chmod 600) or leave the password out (use \
                         ~/.pgpass or a socket with peer authentication)",
                    ));
                }
                let schema = match raw.schema {
                    None => default_schema(email),
                    Some(schema) => {
                        let ok = !schema.is_empty()
                            && schema.len() <= 63
                            && schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                            && schema
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                        if !ok || schema.starts_with("pg_") {
                            return Err(self.error(
                                "store.schema",
                                "use lower-case letters, digits and _ (at most 63, not starting with a digit or pg_)",
                            ));
                        }
                        schema
                    }
                };
                Some(PostgresStore {
                    url: Redacted::from(text.to_string()),
                    schema,
                })
            }
        };
        Ok(StoreConfig { path, postgres })
    }

    pub(super) fn validate(
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
            waiting_on_you_days: match raw.summary.waiting_on_you_days {
                0 => return Err(self.error(
                    "summary.waiting_on_you_days",
                    "must be at least 1 (days of replies listed first when they ask you something)",
                )),
                days if days > 3650 => {
                    return Err(
                        self.error("summary.waiting_on_you_days", "must be at most 3650 days")
                    )
                }
                days => days,
            },
        };
        let store = self.store(raw.store, &account.email, file_private)?;
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
        let mut companies = Vec::new();
        for (key, name) in raw.companies {
            companies.push(self.company(&key, &name)?);
        }
        let team = match raw.team {
            None => None,
            Some(team) => Some(self.team(team, &account, &store)?),
        };
        Ok(Config {
            path: self.path.map(Path::to_path_buf),
            team,
            languages,
            companies,
            account,
            imap,
            smtp,
            tracking,
            cadence,
            summary,
            store,
        })
    }

    /// One entry of `[companies]`: a domain (lower-cased) and the name written for it.
    fn company(&self, key: &str, name: &str) -> std::result::Result<(String, String), ConfigError> {
        let domain = key.trim().trim_end_matches('.').to_lowercase();
        let labels_ok = domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
        if !domain.contains('.') || !labels_ok {
            return Err(self.error(
                "companies",
                format!(
                    "\"{key}\" is not a domain: write the part after the @, like \"fjordkraft.no\""
                ),
            ));
        }
        let name = name.trim();
        if name.is_empty() {
            return Err(self.error(
                "companies",
                format!("the company name for \"{domain}\" is empty"),
            ));
        }
        if name.chars().any(char::is_control) || name.chars().count() > MAX_COMPANY_CHARS {
            return Err(self.error(
                "companies",
                format!(
                    "the company name for \"{domain}\" must be one line of at most \
                     {MAX_COMPANY_CHARS} characters"
                ),
            ));
        }
        Ok((domain, name.to_string()))
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
        let host = unbracketed(raw.host.trim()).to_string();
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
                    ("password", raw.password.is_some()),
                    ("password_command", raw.password_command.is_some()),
                    ("password_env", raw.password_env.is_some()),
                    ("password_credential", raw.password_credential.is_some()),
                ]
                .iter()
                .find(|(_, set)| *set)
                .map(|(k, _)| *k)
                {
                    return Err(self.error(
                        &key(field),
                        "auth = \"xoauth2\" uses oauth2_token_command, not a password",
                    ));
                }
                match &raw.oauth2_token_command {
                    Some(cmd) if !cmd.expose().trim().is_empty() => Auth::XOAuth2 {
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
        if !raw.quiet_after.is_after(raw.draft_time) {
            return Err(self.error(
                "cadence.quiet_after",
                format!(
                    "quiet_after ({}) must be after draft_time ({}): drafts are made on \
                     business days between the two",
                    raw.quiet_after,
                    raw.draft_time.format("%H:%M")
                ),
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
            quiet_after: raw.quiet_after,
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

/// True for `localhost` and loopback IP addresses (127.0.0.0/8, ::1, `[::1]`).
pub fn is_loopback(host: &str) -> bool {
    loopback_addresses(host).is_some()
}

/// The addresses a `security = "plain"` connection to `host` may use, all of them loopback:
/// `localhost` is resolved here, without NSS or DNS, to 127.0.0.1 and ::1; a loopback IP literal
/// (`127.0.0.1`, `::1`, `[::1]`) is itself. `None` for any other host, which `plain` may not
/// reach: a name could resolve elsewhere later, so nothing is ever looked up for `plain`.
pub fn loopback_addresses(host: &str) -> Option<Vec<IpAddr>> {
    let host = unbracketed(host.trim());
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.eq_ignore_ascii_case("localhost") {
        return Some(vec![
            IpAddr::from([127, 0, 0, 1]),
            IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        ]);
    }
    match host.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() => Some(vec![ip]),
        _ => None,
    }
}

/// `::1` for `[::1]`: the brackets of an IPv6 literal are URL syntax, not part of the address.
pub(super) fn unbracketed(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn plain_addresses_are_resolved_without_dns_and_only_loopback() {
        let both = vec![
            "127.0.0.1".parse::<IpAddr>().unwrap(),
            "::1".parse::<IpAddr>().unwrap(),
        ];
        for host in ["localhost", "LOCALHOST", "localhost.", " localhost "] {
            assert_eq!(loopback_addresses(host), Some(both.clone()), "{host}");
        }
        for host in ["::1", "[::1]"] {
            assert_eq!(loopback_addresses(host), Some(vec![both[1]]), "{host}");
        }
        assert_eq!(
            loopback_addresses("127.3.2.1"),
            Some(vec!["127.3.2.1".parse().unwrap()])
        );
        for host in [
            "localhost.localdomain",
            "mail.localhost",
            "ip6-localhost",
            "0.0.0.0",
            "::",
            "[::2]",
            "::ffff:127.0.0.1",
            "[127.0.0.1",
            "imap.example.com",
        ] {
            assert_eq!(loopback_addresses(host), None, "{host}");
        }
    }
}
