//! Logs under systemd: no timestamps and no colour when JOURNAL_STREAM is set (the journal
//! adds its own); no colour either when stderr is not a terminal; RUST_LOG chooses what is shown.

mod support;

use support::nudge::{Nudge, PASSWORD, SELLER};
use support::{Dovecot, DovecotOptions};

#[test]
fn under_the_journal_lines_carry_no_timestamp_or_colour() {
    let dovecot = Dovecot::start(DovecotOptions {
        users: vec![(SELLER.to_string(), PASSWORD.to_string())],
        ..Default::default()
    });
    // A fresh store for each run, so each run syncs (and logs) the folders anew.
    let fresh = || Nudge::new(&dovecot, "");
    let now = "2026-11-18T09:00:00+01:00";

    let plain = fresh().run_with_env(&["sync", "--now", now], &[("RUST_LOG", "nudge=info")]);
    let plain = String::from_utf8_lossy(&plain.stderr).into_owned();
    let first = plain
        .lines()
        .find(|l| l.contains("synced"))
        .expect("an info line");
    assert!(first.starts_with("20"), "timestamped: {first:?}");
    assert!(
        !plain.contains('\u{1b}'),
        "colour in a log that is not on a terminal: {plain:?}"
    );

    let journal = fresh().run_with_env(
        &["sync", "--now", now],
        &[("RUST_LOG", "nudge=info"), ("JOURNAL_STREAM", "8:12345")],
    );
    let journal = String::from_utf8_lossy(&journal.stderr).into_owned();
    let lines: Vec<&str> = journal.lines().filter(|l| l.contains("synced")).collect();
    assert!(!lines.is_empty(), "{journal}");
    for line in lines {
        assert!(
            !line.contains('\u{1b}'),
            "colour under the journal: {line:?}"
        );
        assert!(
            line.trim_start().starts_with("INFO"),
            "no timestamp under the journal: {line:?}"
        );
    }

    let quiet = fresh().run_with_env(&["sync", "--now", now], &[("RUST_LOG", "nudge=warn")]);
    assert!(
        !String::from_utf8_lossy(&quiet.stderr).contains("synced"),
        "RUST_LOG is obeyed"
    );
}
