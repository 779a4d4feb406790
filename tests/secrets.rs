//! Secrets never reach the output, whatever RUST_LOG says (SPEC 13): a full `nudge sync` and a
//! few seconds of `nudge run` at `RUST_LOG=trace`, logging in with a password from a helper and
//! with an XOAUTH2 token from a command, show neither the password, nor the token, nor the
//! helpers' command lines.

mod support;

use std::time::Duration;

use chrono::{Duration as Days, Utc};
use support::daemon::{wait_until, Daemon};
use support::mailclient::Message;
use support::nudge::{Nudge, PASSWORD, SELLER};
use support::{Dovecot, DovecotOptions};

/// A file name that only the helper's command line holds.
const HELPER_MARK: &str = "helper-mark-4711";

fn dovecot(oauth2: bool) -> Dovecot {
    Dovecot::start(DovecotOptions {
        users: vec![(SELLER.to_string(), PASSWORD.to_string())],
        oauth2,
        ..Default::default()
    })
}

fn mail(dovecot: &Dovecot) {
    let date = (Utc::now() - Days::days(14)).to_rfc2822();
    let opener = Message {
        from: "Kari Nordmann <kari@fjordsalg.no>",
        to: "Per <per@customer.no>",
        subject: "Tilbud",
        message_id: "opener@fjordsalg.no",
        in_reply_to: None,
        date: &date,
        body: "Hei! Her er tilbudet. Hilsen Kari",
        extra: "",
    }
    .render();
    let now = Utc::now().to_rfc2822();
    let reply = Message {
        from: "Per <per@customer.no>",
        to: SELLER,
        subject: "SV: Tilbud",
        message_id: "reply@customer.no",
        in_reply_to: Some("opener@fjordsalg.no"),
        date: &now,
        body: "Takk, la oss snakkes.",
        extra: "",
    }
    .render();
    let crlf = support::mailclient::crlf;
    dovecot.save_message(SELLER, "Sent", crlf(&opener).as_bytes());
    dovecot.save_message(SELLER, "INBOX", crlf(&reply).as_bytes());
}

/// A config for `dovecot` whose `[imap]` logs in with `auth` (instead of `password_env`).
fn nudge_with(dovecot: &Dovecot, auth: &str) -> Nudge {
    let nudge = Nudge::new(
        dovecot,
        "[tracking]\nlookback_days = 60\n\n[cadence]\nholidays = []\n",
    );
    let text = std::fs::read_to_string(&nudge.config).unwrap();
    let text = text.replace("password_env = \"NUDGE_TEST_PASSWORD\"", auth);
    std::fs::write(&nudge.config, text).unwrap();
    nudge
}

fn assert_clean(output: &str, secrets: &[&str]) {
    assert!(
        output.contains("TRACE") || output.contains("DEBUG"),
        "the trace level is on:\n{output}"
    );
    for secret in secrets {
        assert!(
            !output.contains(secret),
            "{secret:?} appears in the output:\n{output}"
        );
    }
}

fn sync_at_trace(nudge: &Nudge) -> String {
    sync_with_log(nudge, "trace")
}

fn sync_with_log(nudge: &Nudge, rust_log: &str) -> String {
    let output = nudge.run_with_env(
        &["sync", "--now", &Utc::now().to_rfc3339()],
        &[("RUST_LOG", rust_log), ("NUDGE_TEST_PASSWORD", "")],
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "sync failed:\n{text}");
    text
}

#[test]
fn trace_logging_shows_no_password_or_helper_command() {
    let dovecot = dovecot(false);
    mail(&dovecot);

    // A password from a helper: its command line names a file only it knows.
    let secrets = tempfile::tempdir().unwrap();
    let password = secrets.path().join(HELPER_MARK);
    std::fs::write(&password, format!("{PASSWORD}\n")).unwrap();
    let nudge = nudge_with(
        &dovecot,
        &format!("password_command = \"cat '{}'\"", password.display()),
    );
    let text = sync_at_trace(&nudge);
    assert_clean(&text, &[PASSWORD, HELPER_MARK]);
    // Asking for the IMAP library by name, and more specifically than its crate, is no way
    // around it either.
    let text = sync_with_log(
        &nudge,
        "nudge=trace,async_imap=trace,async_imap::client=trace,imap_proto=trace,rustls=trace",
    );
    assert_clean(&text, &[PASSWORD, HELPER_MARK]);

    // The daemon, for a few seconds: its first pass and its IDLE.
    let mut daemon = Daemon::start(&nudge, "", &[("RUST_LOG", "trace")]);
    assert!(
        wait_until(Duration::from_secs(30), || daemon
            .log()
            .contains("first pass done"))
        .is_some(),
        "the daemon finishes its first pass:\n{}",
        daemon.log()
    );
    // Long enough for the INBOX watcher to log in and enter IDLE.
    std::thread::sleep(Duration::from_secs(3));
    daemon.signal("TERM");
    let _ = daemon.wait_exit(Duration::from_secs(10));
    assert!(!daemon.is_running());
    assert_clean(&daemon.log(), &[PASSWORD, HELPER_MARK]);
}

#[test]
fn trace_logging_shows_no_xoauth2_token_or_token_command() {
    let dovecot = dovecot(true);
    let secrets = tempfile::tempdir().unwrap();
    // An XOAUTH2 token printed by a command; its base64 SASL form must not show either.
    let token = dovecot.oauth_token(SELLER);
    let token_file = secrets.path().join(HELPER_MARK);
    std::fs::write(&token_file, &token).unwrap();
    let nudge = nudge_with(
        &dovecot,
        &format!(
            "auth = \"xoauth2\"\noauth2_token_command = \"cat '{}'\"",
            token_file.display()
        ),
    );
    let text = sync_at_trace(&nudge);
    let sasl = base64_sasl(SELLER, &token);
    assert_clean(&text, &[PASSWORD, HELPER_MARK, &token, &sasl]);
}

/// The XOAUTH2 initial response as it travels, base64 of `user=…^Aauth=Bearer …^A^A`.
fn base64_sasl(user: &str, token: &str) -> String {
    let raw = format!("user={user}\x01auth=Bearer {token}\x01\x01");
    const TABLE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = raw.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn a_template_calling_get_env_is_refused_without_showing_the_value() {
    let dovecot = dovecot(false);
    let nudge = Nudge::new(&dovecot, "");
    let dir = nudge.config.parent().unwrap().join("templates/en");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("followup-1.txt.tera"),
        "Hi {{ prospect_first_name }}, {{ get_env(name=\"NUDGE_TEST_PASSWORD\") }}",
    )
    .unwrap();
    for args in [
        &["templates", "list"][..],
        &["sync", "--now", "2026-11-19T08:30:00+01:00"],
    ] {
        let output = nudge.run(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains("get_env is disabled"), "{args:?}: {stderr}");
        assert!(stderr.contains("followup-1.txt.tera"), "{args:?}: {stderr}");
        assert!(
            !stderr.contains(PASSWORD) && !stdout.contains(PASSWORD),
            "{args:?}: {stdout}{stderr}"
        );
    }
}
