//! The configuration contract (SPEC 11): the example loads as written, and bad files give an
//! error naming the key and the line.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use chrono::{NaiveDate, NaiveTime, Weekday};
use nudge::config::{
    Auth, Config, Country, Language, OnDismiss, SecretSource, Security, TrackMode, INIT_TEMPLATE,
};
use nudge::error::{ConfigError, Error};

const SPEC_EXAMPLE: &str = include_str!("fixtures/config/spec-example.toml");

#[test]
fn spec_example_loads_as_written() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/spec-example.toml");
    let config = Config::load(&path).expect("the SPEC 11 example loads");
    let a = &config.account;
    assert_eq!(a.email, "kari@fjordsalg.no");
    assert_eq!(a.name, "Kari Nordmann");
    assert_eq!(a.aliases, vec!["kari.nordmann@fjordsalg.no"]);
    assert_eq!(a.own_domains, vec!["fjordsalg.no"]);
    assert_eq!(a.timezone, chrono_tz::Europe::Oslo);
    assert_eq!(a.language, Language::Nb);
    assert!(a.is_seller("Kari.Nordmann@fjordsalg.no"));
    assert!(!a.is_seller("ola@fjordsalg.no"));

    let imap = &config.imap.server;
    assert_eq!((imap.host.as_str(), imap.port), ("imap.fjordsalg.no", 993));
    assert_eq!(imap.security, Security::Tls);
    assert_eq!(imap.username, "kari@fjordsalg.no");
    assert_eq!(
        imap.auth,
        Auth::Password(SecretSource::Command {
            key: "imap.password_command".into(),
            command: "pass show mail/fjordsalg".into()
        })
    );
    assert_eq!(config.imap.sent_folder, None);

    let smtp = config.smtp.as_ref().expect("smtp section");
    assert_eq!(
        (smtp.server.host.as_str(), smtp.server.port),
        ("smtp.fjordsalg.no", 465)
    );

    assert_eq!(config.tracking.mode, TrackMode::External);
    assert_eq!(config.tracking.lookback_days, 14);
    assert!(config.tracking.stop_on_same_domain);
    assert_eq!(config.tracking.ignore, vec!["*@newsletter.example.com"]);

    let c = &config.cadence;
    assert_eq!(c.draft_time, NaiveTime::from_hms_opt(8, 30, 0).unwrap());
    assert_eq!(
        c.quiet_after,
        nudge::config::DayEnd::At(NaiveTime::from_hms_opt(18, 0, 0).unwrap()),
        "the default"
    );
    assert_eq!(c.daily_limit, 20);
    assert_eq!(c.holidays, vec![Country::NO]);
    assert_eq!(c.away.len(), 1);
    assert_eq!(c.away[0].from, NaiveDate::from_ymd_opt(2027, 7, 5).unwrap());
    assert_eq!(c.away[0].to, NaiveDate::from_ymd_opt(2027, 7, 30).unwrap());
    assert_eq!(c.on_dismiss, OnDismiss::Stop);
    let steps: Vec<(u32, &str)> = c
        .steps
        .iter()
        .map(|s| (s.after_business_days, s.template.as_str()))
        .collect();
    assert_eq!(
        steps,
        vec![(3, "followup-1"), (7, "followup-2"), (10, "close-the-loop")]
    );
    assert_eq!(c.let_go_after_business_days, 10);

    assert!(config.summary.enabled);
    assert_eq!(config.summary.to, "kari@fjordsalg.no");
    assert_eq!(config.summary.weekday, Weekday::Mon);
    assert_eq!(
        config.summary.time,
        NaiveTime::from_hms_opt(7, 30, 0).unwrap()
    );
    assert_eq!(
        config.store.path,
        Path::new("/home/kari/.local/state/nudge/nudge.db")
    );
}

#[test]
fn defaults_fill_what_is_left_out() {
    let text = r#"
[account]
email = "ola@example.no"
name = "Ola"
timezone = "Europe/Stockholm"

[imap]
host = "127.0.0.1"
security = "plain"
username = "ola"
password_env = "OLA_PASSWORD"
"#;
    let config = Config::parse(text, None, false).expect("minimal config loads");
    assert_eq!(config.imap.server.port, 143);
    assert!(config.smtp.is_none());
    assert_eq!(config.account.language, Language::En);
    assert_eq!(config.cadence.steps.len(), 3);
    assert_eq!(config.cadence.daily_limit, 20);
    assert_eq!(config.cadence.workdays.len(), 5);
    assert_eq!(config.summary.to, "ola@example.no");
    assert!(config.store.path.ends_with("nudge/nudge.db"));
}

/// The SPEC example with one substitution; panics if `from` is not in it.
#[test]
fn finnish_and_german_are_template_languages() {
    let text = r#"
[account]
email = "kari@fjordsalg.no"
name = "Kari"
timezone = "Europe/Helsinki"
language = "fi"

[imap]
host = "127.0.0.1"
security = "plain"
username = "kari"
password_env = "KARI_PASSWORD"

[languages]
"bergbau-gmbh.de" = "de"
"mikko.virtanen@saimaanvesi.fi" = "fi"
"#;
    let config = Config::parse(text, None, false).expect("fi and de load");
    assert_eq!(config.account.language, Language::Fi);
    assert!(config
        .languages
        .contains(&("bergbau-gmbh.de".to_string(), Language::De)));
    assert!(config
        .languages
        .contains(&("mikko.virtanen@saimaanvesi.fi".to_string(), Language::Fi)));
    assert_eq!((Language::Fi.code(), Language::De.code()), ("fi", "de"));
}

fn spec_with(from: &str, to: &str) -> String {
    assert!(SPEC_EXAMPLE.contains(from), "fixture lacks {from:?}");
    SPEC_EXAMPLE.replacen(from, to, 1)
}

fn config_error(text: &str, private: bool) -> ConfigError {
    match Config::parse(text, None, private) {
        Err(Error::Config(e)) => e,
        Err(other) => panic!("expected a config error, got {other}"),
        Ok(_) => panic!("expected a config error, but it loaded:\n{text}"),
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in text"));
    text[..offset].matches('\n').count() + 1
}

/// Each bad file: the substitution, the key the error must name, and the text whose line the
/// error must point at.
#[test]
fn the_summary_may_go_to_an_alias_of_the_seller() {
    let text = spec_with(
        "to = \"kari@fjordsalg.no\"",
        "to = \"Kari.Nordmann@fjordsalg.no\"",
    );
    let config = Config::parse(&text, None, false).expect("an alias is the seller too");
    assert_eq!(config.summary.to, "kari.nordmann@fjordsalg.no");
}

#[test]
fn bad_configs_name_the_key_and_the_line() {
    let cases: Vec<(&str, &str, &str, &str)> = vec![
        // (replace, with, key, line of)
        (
            "name = \"Kari Nordmann\"",
            "name = \"Kari Nordmann\"\nemial = \"x\"",
            "account.emial",
            "emial",
        ),
        ("[summary]", "[sumary]", "sumary", "[sumary]"),
        (
            "to = \"kari@fjordsalg.no\"",
            "to = \"ingrid.berg@fjordkraft.no\"",
            "summary.to",
            "ingrid.berg@fjordkraft.no",
        ),
        (
            "port = 993",
            "port = \"993\"",
            "imap.port",
            "port = \"993\"",
        ),
        ("port = 993", "port = -1", "imap.port", "port = -1"),
        ("port = 993", "port = 0", "imap.port", "port = 0"),
        (
            "\"Europe/Oslo\"",
            "\"Europe/Osloo\"",
            "account.timezone",
            "Europe/Osloo",
        ),
        (
            "draft_time = \"08:30\"",
            "draft_time = \"8.30\"",
            "cadence.draft_time",
            "8.30",
        ),
        (
            "time = \"07:30\"",
            "time = \"25:00\"",
            "summary.time",
            "25:00",
        ),
        (
            "security = \"tls\"                 # tls",
            "security = \"plain\" # tls",
            "imap.security",
            "security = \"plain\"",
        ),
        (
            "security = \"tls\"                 # tls",
            "security = \"ssl\" #",
            "imap.security",
            "\"ssl\"",
        ),
        (
            "language = \"nb\"",
            "language = \"fr\"",
            "account.language",
            "\"fr\"",
        ),
        (
            "mode = \"external\"",
            "mode = \"all\"",
            "tracking.mode",
            "\"all\"",
        ),
        (
            "daily_limit = 20",
            "daily_limit = 0",
            "cadence.daily_limit",
            "daily_limit = 0",
        ),
        (
            "holidays = [\"NO\"]",
            "holidays = [\"XX\"]",
            "cadence.holidays[0]",
            "\"XX\"",
        ),
        (
            "to = \"2027-07-30\"",
            "to = \"2027-06-30\"",
            "cadence.away",
            "away =",
        ),
        (
            "from = \"2027-07-05\"",
            "from = \"2027-07-35\"",
            "cadence.away[0].from",
            "2027-07-35",
        ),
        (
            "weekday = \"monday\"",
            "weekday = \"funday\"",
            "summary.weekday",
            "funday",
        ),
        (
            "on_dismiss = \"stop\"",
            "on_dismiss = \"delete\"",
            "cadence.on_dismiss",
            "\"delete\"",
        ),
        (
            "email = \"kari@fjordsalg.no\"",
            "email = \"kari.fjordsalg.no\"",
            "account.email",
            "kari.fjordsalg.no",
        ),
        (
            "email = \"kari@fjordsalg.no\"\n",
            "",
            "account.email",
            "[account]",
        ),
        (
            "{ after_business_days = 3, template = \"followup-1\" }",
            "{ after_days = 3, template = \"followup-1\" }",
            "cadence.steps[0].after_days",
            "after_days",
        ),
        (
            "{ after_business_days = 7,",
            "{ after_business_days = 0,",
            "cadence.steps",
            "steps = [",
        ),
        (
            "let_go_after_business_days = 10",
            "let_go_after_business_days = \"ten\"",
            "cadence.let_go_after_business_days",
            "\"ten\"",
        ),
        (
            "stop_on_same_domain = true",
            "stop_on_same_domain = \"yes\"",
            "tracking.stop_on_same_domain",
            "\"yes\"",
        ),
        (
            "lookback_days = 14",
            "lookback_days = 0",
            "tracking.lookback_days",
            "lookback_days = 0",
        ),
        (
            "path = \"/home/kari/.local/state/nudge/nudge.db\"",
            "path = \"nudge.db\"",
            "store.path",
            "path = \"nudge.db\"",
        ),
        (
            "aliases = [\"kari.nordmann@fjordsalg.no\"]",
            "aliases = [\"kari nordmann\"]",
            "account.aliases",
            "aliases =",
        ),
    ];
    assert!(cases.len() >= 15);
    for (from, to, key, line_needle) in cases {
        let text = spec_with(from, to);
        let error = config_error(&text, true);
        assert_eq!(error.key, key, "wrong key for {to:?}: {error}");
        assert_eq!(
            error.line,
            Some(line_of(&text, line_needle)),
            "wrong line for {to:?}: {error}"
        );
        let shown = error.to_string();
        assert!(shown.contains(key), "message must name {key}: {shown}");
        assert!(
            shown.contains("line "),
            "message must name the line: {shown}"
        );
    }
}

#[test]
fn missing_secret_is_refused_naming_the_key() {
    let text = spec_with(
        "password_command = \"pass show mail/fjordsalg\"\n# auth",
        "# auth",
    );
    let error = config_error(&text, true);
    assert_eq!(error.key, "imap.password_command");
    assert!(error.message.contains("no password source"), "{error}");
}

#[test]
fn two_password_sources_are_refused() {
    let text = spec_with(
        "password_command = \"pass show mail/fjordsalg\"\n# auth",
        "password_command = \"pass show mail/fjordsalg\"\npassword_env = \"PW\"\n# auth",
    );
    let error = config_error(&text, true);
    assert_eq!(error.key, "imap.password_env");
}

#[test]
fn xoauth2_needs_a_token_command() {
    let text = spec_with(
        "password_command = \"pass show mail/fjordsalg\"\n# auth",
        "auth = \"xoauth2\"\n# auth",
    );
    let error = config_error(&text, true);
    assert_eq!(error.key, "imap.oauth2_token_command");
    let ok = spec_with(
        "password_command = \"pass show mail/fjordsalg\"\n# auth",
        "auth = \"xoauth2\"\noauth2_token_command = \"oama access kari@fjordsalg.no\"\n# auth",
    );
    let config = Config::parse(&ok, None, true).expect("xoauth2 config loads");
    assert!(matches!(config.imap.server.auth, Auth::XOAuth2 { .. }));
}

#[test]
fn plain_security_is_only_for_loopback() {
    let smtp_plain = spec_with(
        "port = 465\nsecurity = \"tls\"",
        "port = 25\nsecurity = \"plain\"",
    );
    assert_eq!(config_error(&smtp_plain, true).key, "smtp.security");
    let loopback = spec_with(
        "host = \"imap.fjordsalg.no\"\nport = 993\nsecurity = \"tls\" ",
        "host = \"127.0.0.1\"\nport = 1143\nsecurity = \"plain\" ",
    );
    let config = Config::parse(&loopback, None, true).expect("plain to loopback is fine");
    assert_eq!(config.imap.server.security, Security::Plain);
}

#[test]
fn plain_reaches_only_checked_loopback_addresses() {
    let plain_to = |host: &str| {
        spec_with(
            "host = \"imap.fjordsalg.no\"\nport = 993\nsecurity = \"tls\" ",
            &format!("host = \"{host}\"\nport = 1143\nsecurity = \"plain\" "),
        )
    };
    for host in ["[::1]", "::1"] {
        let config = Config::parse(&plain_to(host), None, true).expect("plain to ::1 is fine");
        assert_eq!(
            config.imap.server.host, "::1",
            "the brackets are not part of it"
        );
        let addresses = nudge::config::plain_socket_addresses(&config.imap.server).unwrap();
        assert_eq!(addresses, vec!["[::1]:1143".parse().unwrap()]);
    }
    let config = Config::parse(&plain_to("localhost"), None, true).unwrap();
    let addresses = nudge::config::plain_socket_addresses(&config.imap.server).unwrap();
    assert_eq!(
        addresses,
        vec![
            "127.0.0.1:1143".parse().unwrap(),
            "[::1]:1143".parse().unwrap()
        ],
        "localhost is resolved without NSS or DNS"
    );
    for host in [
        "imap.fjordsalg.no",
        "localhost.fjordsalg.no",
        "localhost.localdomain",
        "10.0.0.1",
        "0.0.0.0",
        "[::]",
    ] {
        let error = config_error(&plain_to(host), true);
        assert_eq!(error.key, "imap.security", "{host}");
    }
}

#[test]
fn missing_ca_file_is_an_error() {
    let text = spec_with(
        "# ca_file = \"/etc/ssl/private-ca.pem\"",
        "ca_file = \"/nonexistent/ca.pem\"",
    );
    let error = config_error(&text, true);
    assert_eq!(error.key, "imap.ca_file");
}

#[test]
fn plaintext_password_needs_a_private_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let text = spec_with(
        "password_command = \"pass show mail/fjordsalg\"\n# auth",
        "password = \"hunter2\"\n# auth",
    );
    std::fs::write(&path, &text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let error = match Config::load(&path) {
        Err(Error::Config(e)) => e,
        other => panic!("a world-readable plaintext password must be refused: {other:?}"),
    };
    assert_eq!(error.key, "imap.password");
    assert!(error.message.contains("chmod 600"), "{error}");
    assert_eq!(error.path.as_deref(), Some(path.as_path()));

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert!(
        Config::load(&path).is_err(),
        "group-readable is refused too"
    );

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config = Config::load(&path).expect("a private file may hold the password");
    assert!(matches!(
        config.imap.server.auth,
        Auth::Password(SecretSource::Plain { .. })
    ));
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let error = Config::load(Path::new("/nonexistent/nudge.toml")).unwrap_err();
    assert_eq!(error.exit_code(), 2);
    assert!(
        error.to_string().contains("/nonexistent/nudge.toml"),
        "{error}"
    );
}

#[tokio::test]
async fn secrets_come_from_command_env_and_credentials() {
    let command = SecretSource::Command {
        key: "imap.password_command".into(),
        command: "printf 's3cret\\nsecond line'".into(),
    };
    assert_eq!(command.resolve().await.unwrap(), "s3cret");

    let failing = SecretSource::Command {
        key: "imap.password_command".into(),
        command: "echo locked >&2; exit 3".into(),
    };
    let error = failing.resolve().await.unwrap_err();
    assert!(
        error.to_string().contains("imap.password_command"),
        "{error}"
    );
    assert!(error.to_string().contains("locked"), "{error}");

    let env = SecretSource::Env {
        key: "imap.password_env".into(),
        variable: "NUDGE_TEST_SURELY_UNSET_VARIABLE".into(),
    };
    let error = env.resolve().await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("NUDGE_TEST_SURELY_UNSET_VARIABLE"),
        "{error}"
    );
    let env = SecretSource::Env {
        key: "imap.password_env".into(),
        variable: "PATH".into(),
    };
    assert!(!env.resolve().await.unwrap().is_empty());
}

#[test]
fn init_template_loads_and_documents_every_key() {
    Config::parse(INIT_TEMPLATE, None, true).expect("the init template loads as written");
    // Every key nudge reads, set or shown commented out, with a comment line above it.
    let keys = [
        "email",
        "name",
        "aliases",
        "own_domains",
        "timezone",
        "language",
        "signature",
        "host",
        "port",
        "security",
        "username",
        "password_command",
        "password_env",
        "password_credential",
        "password",
        "auth",
        "oauth2_token_command",
        "ca_file",
        "timeout_seconds",
        "sent_folder",
        "drafts_folder",
        "trash_folder",
        "from",
        "mode",
        "lookback_days",
        "stop_on_same_domain",
        "ignore",
        "draft_time",
        "quiet_after",
        "daily_limit",
        "holidays",
        "extra_holidays",
        "away",
        "on_dismiss",
        "steps",
        "let_go_after_business_days",
        "workdays",
        "enabled",
        "to",
        "weekday",
        "time",
        "path",
    ];
    let lines: Vec<&str> = INIT_TEMPLATE.lines().collect();
    for key in keys {
        let position = lines.iter().position(|l| {
            let l = l.trim_start_matches('#').trim();
            l.starts_with(&format!("{key} =")) || l.starts_with(&format!("{key}="))
        });
        let position = position.unwrap_or_else(|| panic!("init template lacks `{key}`"));
        let documented = lines[..position]
            .iter()
            .rev()
            .take(12)
            .any(|l| l.trim_start().starts_with('#') && l.contains(' '));
        assert!(documented, "`{key}` has no comment above it");
    }
    // Uncommenting the optional keys of [imap] must give keys nudge knows (no typos).
    let uncommented: String = INIT_TEMPLATE
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest)
                if rest.starts_with("timezone")
                    || rest.starts_with("signature")
                    || rest.starts_with("ca_file")
                    || rest.starts_with("timeout_seconds")
                    || rest.starts_with("sent_folder")
                    || rest.starts_with("extra_holidays")
                    || rest.starts_with("away")
                    || rest.starts_with("workdays")
                    || rest.starts_with("to =")
                    || rest.starts_with("\"tromsosjomat.no\"") =>
            {
                rest.to_string()
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "x").unwrap();
    let uncommented = uncommented.replace("/etc/ssl/private-ca.pem", ca.to_str().unwrap());
    Config::parse(&uncommented, None, true).expect("the optional keys are real keys");
}

/// `[companies]`: domains, lower-cased, with the names as written; an empty name or a key that
/// is no domain is refused, naming the table.
#[test]
fn companies_are_domains_with_names() {
    let text = format!(
        "{SPEC_EXAMPLE}\n[companies]\n\"Fjordkraft.NO\" = \" Fjordkraft AS \"\n\
         \"tromsosjomat.no\" = \"Tromsø Sjømat AS\"\n"
    );
    let config = Config::parse(&text, None, false).expect("companies load");
    assert_eq!(
        config.companies,
        vec![
            ("fjordkraft.no".to_string(), "Fjordkraft AS".to_string()),
            (
                "tromsosjomat.no".to_string(),
                "Tromsø Sjømat AS".to_string()
            ),
        ]
    );
    assert!(Config::parse(SPEC_EXAMPLE, None, false)
        .unwrap()
        .companies
        .is_empty());
    for (entry, says) in [
        ("\"fjordkraft.no\" = \"  \"", "is empty"),
        (
            "\"ingrid@fjordkraft.no\" = \"Fjordkraft\"",
            "is not a domain",
        ),
        ("\"fjordkraft\" = \"Fjordkraft\"", "is not a domain"),
        ("\"fjord kraft.no\" = \"Fjordkraft\"", "is not a domain"),
        ("\"fjordkraft..no\" = \"Fjordkraft\"", "is not a domain"),
        ("\"fjordkraft.no\" = \"Fjordkraft\\nBcc: x\"", "one line"),
    ] {
        let error = config_error(&format!("{SPEC_EXAMPLE}\n[companies]\n{entry}\n"), false);
        assert_eq!(error.key, "companies", "{entry}");
        assert!(error.message.contains(says), "{entry}: {}", error.message);
    }
}

#[test]
fn init_writes_a_private_file_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/nudge/config.toml");
    nudge::commands::init(&path).expect("init writes the file");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), INIT_TEMPLATE);
    std::fs::write(&path, "# mine").unwrap();
    let error = nudge::commands::init(&path).unwrap_err();
    assert!(error.to_string().contains("exists"), "{error}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "# mine",
        "never overwritten"
    );
}

/// A config folder holding the SPEC example, its store in `<dir>/state/`.
fn private_setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config_dir = dir.path().join("nudge");
    std::fs::create_dir(&config_dir).unwrap();
    std::fs::set_permissions(&config_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
    let text = spec_with(
        "/home/kari/.local/state/nudge/nudge.db",
        state.join("nudge.db").to_str().unwrap(),
    );
    let path = config_dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    (dir, path)
}

fn refused_naming(path: &Path, config: &Path) -> ConfigError {
    let error = match Config::load(config) {
        Err(Error::Config(e)) => e,
        other => panic!(
            "{} writable by others must be refused: {other:?}",
            path.display()
        ),
    };
    let fix = format!("chmod go-w {}", path.display());
    assert!(error.message.contains(&fix), "{error}");
    error
}

#[test]
fn a_config_file_others_can_write_is_refused() {
    let (_dir, path) = private_setup();
    Config::load(&path).expect("a private setup loads");
    for mode in [0o620, 0o602, 0o666] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        refused_naming(&path, &path);
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    Config::load(&path).expect("readable by others but writable only by its owner");
}

#[test]
fn a_config_folder_others_can_write_is_refused() {
    let (_dir, path) = private_setup();
    let folder = path.parent().unwrap();
    for mode in [0o770, 0o707, 0o1777] {
        std::fs::set_permissions(folder, std::fs::Permissions::from_mode(mode)).unwrap();
        refused_naming(folder, &path);
    }
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o755)).unwrap();
    Config::load(&path).expect("a folder only its owner writes");
}

#[test]
fn a_templates_folder_or_template_others_can_write_is_refused() {
    let (_dir, path) = private_setup();
    let templates = path.parent().unwrap().join("templates");
    let english = templates.join("en");
    std::fs::create_dir_all(&english).unwrap();
    std::fs::set_permissions(&templates, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::set_permissions(&english, std::fs::Permissions::from_mode(0o700)).unwrap();
    let template = english.join("followup-1.txt.tera");
    std::fs::write(&template, "Hi").unwrap();
    std::fs::set_permissions(&template, std::fs::Permissions::from_mode(0o600)).unwrap();
    Config::load(&path).expect("private templates load");
    for target in [&templates, &english] {
        std::fs::set_permissions(target, std::fs::Permissions::from_mode(0o777)).unwrap();
        refused_naming(target, &path);
        std::fs::set_permissions(target, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    std::fs::set_permissions(&template, std::fs::Permissions::from_mode(0o666)).unwrap();
    refused_naming(&template, &path);
}

#[test]
fn a_store_folder_others_can_write_is_refused() {
    let (dir, path) = private_setup();
    let state = dir.path().join("state");
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
    let error = refused_naming(&state, &path);
    assert_eq!(error.key, "store.path");
}

#[test]
fn a_config_owned_by_another_user_is_refused() {
    // Only root can give a file away; the rule itself has a unit test in src/config/trust.rs.
    if effective_uid() != 0 {
        return;
    }
    let (_dir, path) = private_setup();
    std::os::unix::fs::chown(&path, Some(54321), None).unwrap();
    let error = match Config::load(&path) {
        Err(Error::Config(e)) => e,
        other => panic!("a config owned by another user must be refused: {other:?}"),
    };
    assert!(error.message.contains("uid 54321"), "{error}");
}

fn effective_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX)
}

#[test]
fn the_config_trust_refusal_exits_2() {
    let (_dir, path) = private_setup();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_nudge"))
        .args(["--config", path.to_str().unwrap(), "status"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("chmod go-w"), "{stderr}");
}

/// `[store]` names a SQLite file (`path`, or `url = "sqlite://PATH"`) or a PostgreSQL store
/// (`url = "postgres://…"`, the account's rows in a schema named after it unless `schema`
/// says otherwise). A password in the URL is a secret: refused in a file others can read,
/// never shown.
#[test]
fn the_store_is_a_sqlite_file_or_a_postgres_schema() {
    let spec_store = "path = \"/home/kari/.local/state/nudge/nudge.db\"";
    let sqlite = Config::parse(
        &spec_with(spec_store, "url = \"sqlite:///srv/nudge/kari.db\""),
        None,
        false,
    )
    .expect("a sqlite URL loads");
    assert_eq!(sqlite.store.path, Path::new("/srv/nudge/kari.db"));
    assert!(sqlite.store.postgres.is_none());

    let text = spec_with(
        spec_store,
        "url = \"postgres://nudge:s3cret@db.fjordsalg.no/sales\"",
    );
    let postgres = Config::parse(&text, None, true).expect("a private file may hold it");
    let pg = postgres
        .store
        .postgres
        .as_ref()
        .expect("a PostgreSQL store");
    assert_eq!(
        pg.url.expose(),
        "postgres://nudge:s3cret@db.fjordsalg.no/sales"
    );
    assert_eq!(
        pg.schema,
        nudge::config::default_schema("kari@fjordsalg.no")
    );
    assert!(
        pg.schema.starts_with("nudge_kari_fjordsalg_no_"),
        "{}",
        pg.schema
    );
    assert!(pg.schema.len() <= 63);
    assert_ne!(
        nudge::config::default_schema("kari.n@fjordsalg.no"),
        nudge::config::default_schema("kari_n@fjordsalg.no"),
        "addresses that read alike get schemas apart"
    );
    for shown in [format!("{:?}", postgres.store), pg.shown()] {
        assert!(!shown.contains("s3cret"), "{shown}");
    }
    assert!(
        pg.shown().contains("db.fjordsalg.no/sales"),
        "{}",
        pg.shown()
    );

    let refused = config_error(&text, false);
    assert_eq!(refused.key, "store.url");
    assert!(refused.message.contains("password"), "{}", refused.message);
    assert!(!refused.to_string().contains("s3cret"), "{refused}");

    let named = Config::parse(
        &spec_with(
            spec_store,
            "url = \"postgres:///sales?host=/run/postgresql&user=nudge\"\nschema = \"kari\"",
        ),
        None,
        false,
    )
    .expect("a URL without password loads from any file");
    assert_eq!(named.store.postgres.unwrap().schema, "kari");

    for (with, key) in [
        ("url = \"mysql://db/sales\"", "store.url"),
        ("url = \"sqlite://relative.db\"", "store.url"),
        ("path = \"/a.db\"\nurl = \"sqlite:///b.db\"", "store.url"),
        ("schema = \"kari\"", "store.schema"),
        (
            "url = \"postgres://db/sales\"\nschema = \"Kari; DROP\"",
            "store.schema",
        ),
    ] {
        let error = config_error(&spec_with(spec_store, with), true);
        assert_eq!(error.key, key, "{with}: {error}");
    }
}
