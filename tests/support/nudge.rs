//! Running the `nudge` binary against a test Dovecot, as a seller would from a shell.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::mailclient::MailClient;
use super::{Dovecot, DovecotOptions, SmtpServer};

/// The seller every scenario uses.
pub const SELLER: &str = "kari@fjordsalg.no";
pub const PASSWORD: &str = "secret-pass";

/// The seller's account as the scenarios' config files describe it, for tests of the rules.
pub fn seller_account() -> nudge::config::Account {
    nudge::config::Account {
        email: SELLER.into(),
        name: "Kari Nordmann".into(),
        aliases: vec!["kari.nordmann@fjordsalg.no".into()],
        own_domains: vec!["fjordsalg.no".into()],
        timezone: chrono_tz::Europe::Oslo,
        language: nudge::config::Language::Nb,
        signature: None,
    }
}

/// A Dovecot with the seller's account.
pub fn seller_dovecot() -> Dovecot {
    Dovecot::start(DovecotOptions {
        users: vec![(SELLER.to_string(), PASSWORD.to_string())],
        ..Default::default()
    })
}

/// The seller's Dovecot, nudge configured for it with `extra`, and the seller's mail client.
pub async fn seller_world(extra: &str) -> (Dovecot, Nudge, MailClient) {
    let dovecot = seller_dovecot();
    let nudge = Nudge::new(&dovecot, extra);
    let client = MailClient::connect(&dovecot, SELLER, PASSWORD).await;
    (dovecot, nudge, client)
}

/// The `[account]` and `[imap]` sections of `email`, a seller of fjordsalg.no, on `dovecot`
/// (implicit TLS, the password from `NUDGE_TEST_PASSWORD`, the CA of the run), ending in a
/// blank line; `account_extra` lines go into `[account]`.
pub fn account_sections(email: &str, name: &str, account_extra: &str, dovecot: &Dovecot) -> String {
    format!(
        r#"[account]
email = "{email}"
name = "{name}"
{account_extra}own_domains = ["fjordsalg.no"]
timezone = "Europe/Oslo"
language = "nb"

[imap]
host = "127.0.0.1"
port = {port}
security = "tls"
username = "{email}"
password_env = "NUDGE_TEST_PASSWORD"
ca_file = "{ca}"
timeout_seconds = 20

"#,
        port = dovecot.imaps_port(),
        ca = dovecot.ca().ca_path().display(),
    )
}

/// An `[smtp]` section for the seller's account on `smtp` (STARTTLS, the seller's password
/// from the environment, the CA of `dovecot`'s run), ending in a blank line.
pub fn smtp_section(dovecot: &Dovecot, smtp: &SmtpServer) -> String {
    format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"starttls\"\nusername = \"{SELLER}\"\npassword_env = \"NUDGE_TEST_PASSWORD\"\nca_file = \"{}\"\n\n",
        smtp.port(),
        dovecot.ca().ca_path().display()
    )
}

/// A config file and a store in a temp dir, pointing at `dovecot` over TLS.
pub struct Nudge {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Nudge {
    /// `extra` is appended to the file (more sections, such as `[tracking]`).
    pub fn new(dovecot: &Dovecot, extra: &str) -> Nudge {
        Nudge::new_on(dovecot, extra, super::stores::backend())
    }

    /// [`Nudge::new`] with the store on `backend`, whatever the run tests.
    pub fn new_on(dovecot: &Dovecot, extra: &str, backend: super::stores::Backend) -> Nudge {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("config.toml");
        let text = format!(
            "{}\n{store}\n{extra}\n",
            account_sections(
                SELLER,
                "Kari Nordmann",
                "aliases = [\"kari.nordmann@fjordsalg.no\"]\n",
                dovecot
            ),
            store = super::stores::section_on(&dir.path().join("state/nudge.db"), backend),
        );
        std::fs::write(&config, text).expect("write config");
        Nudge { dir, config }
    }

    /// Points the config's `[imap]` at `port` on 127.0.0.1 without TLS (`security = "plain"`,
    /// allowed to loopback only): a proxy that must read the commands sits there.
    pub fn plain_imap_at(&self, port: u16) {
        let text = std::fs::read_to_string(&self.config).expect("read config");
        let start = text.find("[imap]").expect("an [imap] section");
        let end = start + text[start..].find("\n\n").expect("the end of [imap]");
        let imap: String = text[start..end]
            .lines()
            .map(|line| {
                if line.starts_with("port = ") {
                    format!("port = {port}")
                } else if line.starts_with("security = ") {
                    "security = \"plain\"".to_string()
                } else {
                    line.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let text = format!("{}{imap}{}", &text[..start], &text[end..]);
        std::fs::write(&self.config, text).expect("write config");
    }

    /// Sets `[imap] timeout_seconds`.
    pub fn imap_timeout(&self, seconds: u64) {
        let text = std::fs::read_to_string(&self.config)
            .expect("read config")
            .replace(
                "timeout_seconds = 20\n",
                &format!("timeout_seconds = {seconds}\n"),
            );
        std::fs::write(&self.config, text).expect("write config");
    }

    pub fn store_path(&self) -> PathBuf {
        self.dir.path().join("state/nudge.db")
    }

    /// The store this config names, whichever backend the run tests.
    pub fn store_config(&self) -> nudge::config::StoreConfig {
        nudge::config::Config::load(&self.config)
            .expect("the scenario's config loads")
            .store
    }

    /// The store this config names, open.
    pub async fn store(&self) -> nudge::store::Store {
        nudge::store::Store::connect(&self.store_config())
            .await
            .expect("the store opens")
    }

    /// Throws the store away, as a seller starting over would: the file's folder, and on
    /// PostgreSQL the account's schema.
    pub async fn reset_store(&self) {
        let config = self.store_config();
        if let Some(postgres) = &config.postgres {
            let pool = self.raw_store().await;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA \"{}\" CASCADE",
                postgres.schema
            )))
            .execute(&pool)
            .await
            .expect("drop the account's schema");
            pool.close().await;
        }
        let _ = std::fs::remove_dir_all(config.path.parent().expect("a folder"));
    }

    /// Plain connections to the store, for reading rows.
    pub async fn raw_store(&self) -> sqlx::AnyPool {
        super::stores::raw(&self.store_config()).await
    }

    /// Runs `nudge --config … ARGS`.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_env(args, &[])
    }

    /// Runs `nudge --config … ARGS` with extra environment variables.
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = nudge_command(Some(&self.config));
        command.args(args);
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().expect("nudge runs")
    }

    /// Runs `nudge sync --now NOW` and panics with its output when it fails.
    pub fn sync(&self, now: &str) -> String {
        self.try_sync(now).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs `nudge sync --now NOW`: its stdout and stderr, or what went wrong.
    pub fn try_sync(&self, now: &str) -> Result<String, String> {
        let output = self.run(&["sync", "--now", now]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if output.status.success() {
            Ok(text)
        } else {
            Err(format!("nudge sync --now {now} failed:\n{text}"))
        }
    }

    /// `nudge status --json`, parsed.
    pub fn status(&self) -> Vec<serde_json::Value> {
        let output = self.run(&["status", "--json"]);
        assert!(
            output.status.success(),
            "status failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("status --json is one JSON array")
    }

    /// The status element whose subject contains `subject`.
    pub fn conversation(&self, subject: &str) -> Option<serde_json::Value> {
        self.status()
            .into_iter()
            .find(|c| c["subject"].as_str().is_some_and(|s| s.contains(subject)))
    }
}

/// The nudge binary: `NUDGE_BIN` when set (the demo), else the one cargo built for the tests.
pub fn nudge_binary() -> PathBuf {
    std::env::var_os("NUDGE_BIN")
        .map(PathBuf::from)
        .or_else(|| option_env!("CARGO_BIN_EXE_nudge").map(PathBuf::from))
        .expect("NUDGE_BIN is set, or this is built as a test")
}

/// The binary, with `--config CONFIG` when given, the test password in its environment, the
/// log level of `NUDGE_TEST_LOG`, and no `NUDGE_CONFIG` from the caller's environment.
pub fn nudge_command(config: Option<&Path>) -> Command {
    let mut command = Command::new(nudge_binary());
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    command
        .env_remove("NUDGE_CONFIG")
        .env("NUDGE_TEST_PASSWORD", PASSWORD)
        .env(
            "RUST_LOG",
            std::env::var("NUDGE_TEST_LOG").unwrap_or_default(),
        );
    command
}

/// The stdout of a nudge run that must have succeeded (its stderr too when it did not).
pub fn ok(output: Output) -> String {
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    text
}
