//! A pass over 5,000 open conversations on the morning 20 of them are due: how long
//! `nudge sync` takes and how much memory it needs (goal: under 2 s).
//!
//! The seller's Sent holds 5,000 openers, each to a prospect of its own organisation, none
//! answered. 20 were sent on Monday 16 November 2026, the others on the Tuesday and the
//! Wednesday; business days in Europe/Oslo with Norway's holidays (none that week), the default
//! cadence (follow-up 1 three business days after the touch, at 08:30). So:
//!
//! - `sync --now` Wednesday 17:00 (**T0**) is the first sync: it makes the store, and nothing is
//!   due (not measured for the table, shown for reference);
//! - `sync --now` Thursday 08:00 is a **quiet pass**: still nothing due;
//! - `sync --now` Thursday 09:00 (**T1**) is the pass measured: Monday's 20 are due (the daily
//!   limit is 20), the other 4,980 wait for Friday or the next Monday.
//!
//! Each run starts from a new Dovecot seeded anew, so that every T1 pass finds the same
//! mailbox and the same store. The bench checks that T1 drafted exactly Monday's 20 and that
//! Drafts holds 20 messages, so that the time is the time of a pass that did the work. Wall
//! time and peak RSS (wait4) of the whole process; `NUDGE_CADENCE_RUNS` runs (default 3), the
//! median shown. Run with `scripts/bench` (or `cargo bench --bench cadence`); needs Dovecot, as
//! the tests do.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::process::Command;

use chrono::{DateTime, Duration, Utc};

use support::mailbox::{seller_dovecot_with, Generated};
use support::mailclient::opener;
use support::measure::{measure, median};
use support::nudge::{nudge_binary, Nudge, PASSWORD, SELLER};
use support::Dovecot;

const OPEN: usize = 5_000;
const DUE: usize = 20;
/// When the openers were sent: the due ones on Monday, the rest spread over two days.
const MONDAY: &str = "2026-11-16T10:00:00+01:00";
const TUESDAY: &str = "2026-11-17T08:00:00+01:00";
const FIRST_SYNC: &str = "2026-11-18T17:00:00+01:00";
const QUIET: &str = "2026-11-19T08:00:00+01:00";
const DUE_PASS: &str = "2026-11-19T09:00:00+01:00";
const CONFIG: &str = "[cadence]\nholidays = [\"NO\"]\ndaily_limit = 20\n";

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).expect("a date").to_utc()
}

/// The openers: the first `DUE` on Monday morning, the others two a minute from Tuesday 08:00
/// (into the small hours of Wednesday, well before the first sync).
fn openers() -> Vec<Generated> {
    (0..OPEN)
        .map(|i| {
            let date = if i < DUE {
                at(MONDAY) + Duration::minutes(i as i64)
            } else {
                at(TUESDAY) + Duration::minutes((i - DUE) as i64 / 2)
            };
            let to = format!("Prospect {i} <p{i}@org{i}.example>");
            let raw = opener(
                i,
                &to,
                &date.format("%a, %d %b %Y %H:%M:%S +0000").to_string(),
                "Hei!

Takk for praten. Her er forslaget vi snakket om.

Vennlig hilsen
Kari",
            );
            Generated {
                folder: "Sent",
                date,
                raw,
            }
        })
        .collect()
}

fn sync(nudge: &Nudge, now: &str) -> (f64, u64, String) {
    let mut command = Command::new(nudge_binary());
    command
        .env("RUST_LOG", "nudge=debug")
        .env("NUDGE_TEST_PASSWORD", PASSWORD)
        .env_remove("NUDGE_CONFIG")
        .arg("--config")
        .arg(&nudge.config)
        .args(["sync", "--now", now]);
    measure(command)
}

/// The subjects of the conversations a pass drafted a first follow-up for (stdout and the log
/// both name them; a set counts each once).
fn drafted(output: &str) -> BTreeSet<String> {
    output
        .lines()
        .filter_map(|line| {
            let (head, _) = line.split_once(": drafted follow-up 1 to ")?;
            let (_, subject) = head[head.find('#')?..].split_once(' ')?;
            Some(subject.to_string())
        })
        .collect()
}

/// The pass's own account of where its time went (its `pass timing` log line).
fn timing(output: &str) -> String {
    output
        .lines()
        .find_map(|l| {
            l.split_once("pass timing ")
                .map(|(_, rest)| rest.to_string())
        })
        .unwrap_or_default()
}

fn drafts_in_mailbox(dovecot: &Dovecot) -> usize {
    dovecot
        .doveadm(&["search", "-u", SELLER, "mailbox", "Drafts", "ALL"])
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

struct Run {
    first: f64,
    first_rss: u64,
    quiet: f64,
    quiet_rss: u64,
    due: f64,
    due_rss: u64,
}

fn run(number: usize, messages: &[Generated]) -> Run {
    let dovecot = seller_dovecot_with(messages);
    let nudge = Nudge::new(&dovecot, CONFIG);

    let (first, first_rss, output) = sync(&nudge, FIRST_SYNC);
    assert!(
        drafted(&output).is_empty(),
        "nothing is due at the first sync:\n{output}"
    );
    let (quiet, quiet_rss, output) = sync(&nudge, QUIET);
    assert!(
        drafted(&output).is_empty(),
        "nothing is due before 08:30:\n{output}"
    );
    let quiet_timing = timing(&output);
    let (due, due_rss, output) = sync(&nudge, DUE_PASS);
    eprintln!(
        "  quiet pass: {quiet_timing}\n  due pass: {}",
        timing(&output)
    );
    let expected: BTreeSet<String> = (0..DUE).map(|i| format!("Tilbud {i}")).collect();
    assert_eq!(
        drafted(&output),
        expected,
        "Monday's openers, and only they, got a follow-up:\n{output}"
    );
    assert_eq!(
        drafts_in_mailbox(&dovecot),
        DUE,
        "Drafts holds the new drafts"
    );
    let open = nudge
        .status()
        .iter()
        .filter(|c| c["state"] == "waiting")
        .count();
    assert_eq!(open, OPEN - DUE, "the others are still waiting");
    eprintln!(
        "run {number}: first sync {first:.2} s ({} MiB), quiet pass {quiet:.2} s ({} MiB), \
         due pass {due:.2} s ({} MiB)",
        first_rss / 1024,
        quiet_rss / 1024,
        due_rss / 1024
    );
    Run {
        first,
        first_rss,
        quiet,
        quiet_rss,
        due,
        due_rss,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read from the command line.
    let runs: usize = std::env::var("NUDGE_CADENCE_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);
    let messages = openers();
    let results: Vec<Run> = (1..=runs).map(|n| run(n, &messages)).collect();
    let seconds = |f: fn(&Run) -> f64| median(results.iter().map(f).collect());
    let mib = |f: fn(&Run) -> u64| median(results.iter().map(|r| f(r) as f64).collect()) / 1024.0;
    println!();
    println!(
        "{OPEN} open conversations, {DUE} due; median of {runs} runs; seconds, peak RSS in MiB"
    );
    println!("| pass | wall | peak RSS |");
    println!("|---|---|---|");
    println!(
        "| first sync (makes the store; nothing due) | {:.2} | {:.0} |",
        seconds(|r| r.first),
        mib(|r| r.first_rss)
    );
    println!(
        "| quiet pass (nothing due) | {:.2} | {:.0} |",
        seconds(|r| r.quiet),
        mib(|r| r.quiet_rss)
    );
    println!(
        "| pass making the {DUE} due drafts | {:.2} | {:.0} |",
        seconds(|r| r.due),
        mib(|r| r.due_rss)
    );
    let worst = results.iter().map(|r| r.due).fold(0.0, f64::max);
    println!(
        "the due pass: median {:.2} s, worst {worst:.2} s (goal: under 2 s)",
        seconds(|r| r.due)
    );
}
