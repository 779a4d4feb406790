//! `nudge check` against a real Dovecot: folder discovery for three layouts, and one clear
//! line with a distinct exit code for each way connecting can fail.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::{free_port, Dovecot, DovecotOptions, Layout, TestCa};

const USER: &str = "kari@fjordsalg.no";
const PASSWORD: &str = "secret-pass";

/// Connection settings to write into `[imap]`.
struct Imap<'a> {
    port: u16,
    security: &'a str,
    ca_file: PathBuf,
    auth: String,
    extra: &'a str,
}

impl<'a> Imap<'a> {
    fn tls(dovecot: &'a Dovecot) -> Imap<'a> {
        Imap {
            port: dovecot.imaps_port(),
            security: "tls",
            ca_file: dovecot.ca().ca_path(),
            auth: "password_env = \"NUDGE_TEST_PASSWORD\"".into(),
            extra: "",
        }
    }
}

fn write_config(dir: &Path, imap: &Imap<'_>) -> PathBuf {
    let text = format!(
        r#"[account]
email = "{USER}"
name = "Kari Nordmann"
own_domains = ["fjordsalg.no"]
timezone = "Europe/Oslo"
language = "nb"

[imap]
host = "127.0.0.1"
port = {port}
security = "{security}"
username = "{USER}"
{auth}
ca_file = "{ca}"
timeout_seconds = 10
{extra}

[store]
path = "{store}"
"#,
        port = imap.port,
        security = imap.security,
        auth = imap.auth,
        ca = imap.ca_file.display(),
        extra = imap.extra,
        store = dir.join("nudge.db").display(),
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn nudge_check(config: &Path, password: &str) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_nudge"))
        .arg("--config")
        .arg(config)
        .arg("check")
        .env("NUDGE_TEST_PASSWORD", password)
        .env_remove("RUST_LOG")
        .output()
        .expect("nudge runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts a failure: the exit code, exactly one line on stderr, and a word in it.
fn assert_fails(output: &Output, code: i32, word: &str) {
    let err = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(code),
        "stderr: {err}\nstdout: {}",
        stdout(output)
    );
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one clear line, got:\n{err}"
    );
    assert!(
        err.to_lowercase().contains(word),
        "expected {word:?} in: {err}"
    );
}

fn dovecot(layout: Layout, oauth2: bool) -> Dovecot {
    Dovecot::start(DovecotOptions {
        layout,
        users: vec![(USER.to_string(), PASSWORD.to_string())],
        oauth2,
        imap_capability: None,
    })
}

fn check_layout(layout: Layout, sent: &str, drafts: &str, reason: &str) {
    let server = dovecot(layout, false);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &Imap::tls(&server));
    let output = nudge_check(&config, PASSWORD);
    let out = stdout(&output);
    assert!(
        output.status.success(),
        "check failed: {}\n{out}",
        stderr(&output)
    );
    assert!(out.contains("IMAP4REV1"), "capabilities shown: {out}");
    assert!(
        out.contains(&format!("Sent    \"{sent}\" ({reason}")),
        "{out}"
    );
    assert!(
        out.contains(&format!("Drafts  \"{drafts}\" ({reason}")),
        "{out}"
    );
    assert!(out.contains("INBOX   \"INBOX\""), "{out}");
    assert!(out.trim_end().ends_with("OK"), "{out}");
}

#[test]
fn finds_folders_by_special_use_attributes() {
    check_layout(
        Layout::SpecialUse,
        "Sent",
        "Drafts",
        "special-use attribute",
    );
}

#[test]
fn finds_norwegian_folders_by_name() {
    check_layout(
        Layout::NorwegianNames,
        "Sendte elementer",
        "Utkast",
        "known name",
    );
}

#[test]
fn finds_nested_folders_with_a_dot_separator() {
    check_layout(
        Layout::NestedDot,
        "INBOX.Sent",
        "INBOX.Drafts",
        "known name",
    );
}

#[test]
fn starttls_and_plain_to_loopback_work() {
    let server = dovecot(Layout::SpecialUse, false);
    for security in ["starttls", "plain"] {
        let dir = tempfile::tempdir().unwrap();
        let imap = Imap {
            port: server.imap_port(),
            security,
            ..Imap::tls(&server)
        };
        let output = nudge_check(&write_config(dir.path(), &imap), PASSWORD);
        assert!(output.status.success(), "{security}: {}", stderr(&output));
        let expected = if security == "starttls" {
            "(STARTTLS)"
        } else {
            "(plain, loopback only)"
        };
        assert!(stdout(&output).contains(expected), "{}", stdout(&output));
    }
}

#[test]
fn a_certificate_from_another_ca_is_rejected() {
    let server = dovecot(Layout::SpecialUse, false);
    let dir = tempfile::tempdir().unwrap();
    let other_ca = TestCa::new(&dir.path().join("other-ca"));
    let imap = Imap {
        ca_file: other_ca.ca_path(),
        ..Imap::tls(&server)
    };
    let output = nudge_check(&write_config(dir.path(), &imap), PASSWORD);
    assert_fails(&output, 4, "certificate");
}

#[test]
fn a_wrong_password_is_an_authentication_error() {
    let server = dovecot(Layout::SpecialUse, false);
    let dir = tempfile::tempdir().unwrap();
    let output = nudge_check(&write_config(dir.path(), &Imap::tls(&server)), "wrong-pass");
    assert_fails(&output, 5, "authentication");
}

#[test]
fn xoauth2_logs_in_with_a_token_from_the_command() {
    let server = dovecot(Layout::SpecialUse, true);
    let dir = tempfile::tempdir().unwrap();
    let token = server.oauth_token(USER);
    let good = Imap {
        auth: format!("auth = \"xoauth2\"\noauth2_token_command = \"printf '%s' '{token}'\""),
        ..Imap::tls(&server)
    };
    let output = nudge_check(&write_config(dir.path(), &good), "");
    assert!(
        output.status.success(),
        "xoauth2 login: {}",
        stderr(&output)
    );

    let bad = Imap {
        auth: "auth = \"xoauth2\"\noauth2_token_command = \"echo not-a-valid-token\"".into(),
        ..Imap::tls(&server)
    };
    let output = nudge_check(&write_config(dir.path(), &bad), "");
    assert_fails(&output, 5, "authentication");
}

#[test]
fn a_closed_port_is_a_connection_error() {
    let server = dovecot(Layout::SpecialUse, false);
    let dir = tempfile::tempdir().unwrap();
    let imap = Imap {
        port: free_port(),
        ..Imap::tls(&server)
    };
    let output = nudge_check(&write_config(dir.path(), &imap), PASSWORD);
    assert_fails(&output, 3, "cannot connect");
}

#[test]
fn a_configured_folder_that_does_not_exist_is_reported() {
    let server = dovecot(Layout::NorwegianNames, false);
    let dir = tempfile::tempdir().unwrap();
    let imap = Imap {
        extra: "drafts_folder = \"Kladd\"",
        ..Imap::tls(&server)
    };
    let output = nudge_check(&write_config(dir.path(), &imap), PASSWORD);
    assert_fails(&output, 6, "drafts folder not found");
    assert!(
        stderr(&output).contains("Utkast"),
        "lists the folders there are"
    );
}

#[test]
fn a_config_error_names_the_key_and_line_without_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "unused").unwrap();
    let imap = Imap {
        port: 993,
        security: "tls",
        ca_file: ca,
        auth: "password_env = \"NUDGE_TEST_PASSWORD\"".into(),
        extra: "sent_folder = 7",
    };
    let output = nudge_check(&write_config(dir.path(), &imap), PASSWORD);
    assert_fails(&output, 2, "imap.sent_folder");
    assert!(stderr(&output).contains("line 16"), "{}", stderr(&output));
}

#[test]
fn a_failing_password_helper_is_reported_with_its_key_and_words() {
    // The daemon waits for a helper that fails (a locked keyring may open later); `check` is
    // asked once and says so at once, naming the key and the helper's own words.
    let server = dovecot(Layout::SpecialUse, false);
    let dir = tempfile::tempdir().unwrap();
    for (auth, key) in [
        (
            "password_command = \"echo 'gpg: decryption failed: No secret key' >&2; exit 2\"",
            "imap.password_command",
        ),
        (
            "auth = \"xoauth2\"\noauth2_token_command = \"true\"",
            "oauth2_token_command",
        ),
    ] {
        let imap = Imap {
            auth: auth.into(),
            ..Imap::tls(&server)
        };
        let output = nudge_check(&write_config(dir.path(), &imap), PASSWORD);
        assert_fails(&output, 2, key);
    }
    let imap = Imap {
        auth: "password_command = \"echo 'gpg: decryption failed: No secret key' >&2; exit 2\""
            .into(),
        ..Imap::tls(&server)
    };
    let output = nudge_check(&write_config(dir.path(), &imap), PASSWORD);
    assert!(
        stderr(&output).contains("decryption failed"),
        "{}",
        stderr(&output)
    );
    // The key and the exit status, never the command line (it may hold a password).
    assert!(
        stderr(&output).contains("exit status: 2") && !stderr(&output).contains("echo"),
        "{}",
        stderr(&output)
    );
}
