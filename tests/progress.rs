//! The progress bar of `nudge sync`: drawn on a terminal, never into a pipe. Piped, the output
//! is the contract scripts parse (SPEC 12) and stays exactly as it was. The bar's one-second
//! delay is set to nothing here (`NUDGE_PROGRESS_AFTER_MS=0`), so that whether it is drawn
//! never depends on how fast the machine is.

mod support;

use std::process::Command;

use chrono::{DateTime, Utc};

use support::mailbox::{generate, seller_dovecot_with};
use support::nudge::{nudge_binary, ok, Nudge, PASSWORD};
use support::Dovecot;

/// Enough for INBOX to take more than one batch of headers.
const MESSAGES: usize = 1_500;
const NOW: &str = "2026-11-18T09:00:00+01:00";

/// A Dovecot holding a generated seller mailbox, and nudge configured to read all of it.
fn seeded() -> (Dovecot, Nudge) {
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339(NOW).unwrap().to_utc();
    let dovecot = seller_dovecot_with(&generate(MESSAGES, 11, now));
    let nudge = Nudge::new(&dovecot, "[tracking]\nlookback_days = 3650\n");
    (dovecot, nudge)
}

/// The INBOX count of the report's "New messages: sent N, inbox M, drafts K" line.
fn inbox_count(report: &str) -> usize {
    let line = report
        .lines()
        .find(|l| l.starts_with("New messages: "))
        .unwrap_or_else(|| panic!("no New messages line in:\n{report}"));
    line.split(", ")
        .find_map(|part| part.strip_prefix("inbox ")?.parse().ok())
        .unwrap_or_else(|| panic!("no INBOX count in {line:?}"))
}

#[test]
fn piped_output_carries_no_bar_and_is_the_same_whatever_the_delay() {
    let (_dovecot, nudge) = seeded();
    let args = ["sync", "--dry-run", "--now", NOW];
    let at_once = ok(nudge.run_with_env(&args, &[("NUDGE_PROGRESS_AFTER_MS", "0")]));
    let plain = ok(nudge.run(&args));
    assert_eq!(at_once, plain, "a pipe never gets a bar");
    assert!(
        !at_once.contains(['\x1b', '\r']) && !at_once.contains("msg/s"),
        "no escape codes, carriage returns or rate in piped output:\n{at_once:?}"
    );
    let lines: Vec<&str> = at_once.lines().collect();
    assert!(lines[0].starts_with("Pass at "), "{at_once}");
    assert!(lines[1].starts_with("New messages: sent "), "{at_once}");
    assert!(
        inbox_count(&at_once) > 500,
        "INBOX took more than one batch: {}",
        lines[1]
    );
    assert_eq!(
        lines.last(),
        Some(&"Dry run: nothing was changed on the server."),
        "{at_once}"
    );
}

#[test]
fn on_a_terminal_the_bar_shows_each_folder_fetched_of_total_then_the_report() {
    let (_dovecot, nudge) = seeded();
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let line = format!(
        "{} --config {} sync --dry-run --now {NOW}",
        quote(&nudge_binary().display().to_string()),
        quote(&nudge.config.display().to_string()),
    );
    // `script` runs the command on a pseudo-terminal of its own and copies what it draws.
    let output = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_remove("NUDGE_CONFIG")
        .env("NUDGE_TEST_PASSWORD", PASSWORD)
        .env("NUDGE_PROGRESS_AFTER_MS", "0")
        .env("RUST_LOG", "warn")
        .env("TERM", "xterm")
        .output()
        .expect("script (util-linux) runs");
    let screen = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{screen}");
    let inbox = inbox_count(&screen);
    let bar = screen
        .rfind(&format!("/{inbox} "))
        .unwrap_or_else(|| panic!("no INBOX bar of {inbox} messages in:\n{screen:?}"));
    let drawn = &screen[..bar];
    assert!(
        drawn[drawn.rfind('\n').map_or(0, |n| n + 1)..].contains("INBOX ["),
        "{screen:?}"
    );
    assert!(screen[bar..].contains("msg/s"), "{screen:?}");
    let report = screen.find("Pass at ").expect("the report");
    assert!(report > bar, "the report comes after the bar: {screen:?}");
    assert!(
        screen[report..].contains("New messages: sent "),
        "{screen:?}"
    );
}
