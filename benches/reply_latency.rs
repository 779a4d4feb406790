//! How fast `nudge run` withdraws a waiting draft once the prospect's reply lands in INBOX,
//! set against how fast the server itself tells an IDLE client about the reply: 20 trials
//! against a real Dovecot, median, best and worst. Run with `cargo bench --bench reply_latency`
//! (needs Dovecot, as the tests do).
//!
//! Each trial appends the reply over IMAP (one `APPEND` with a non-synchronising literal, on a
//! connection of its own) and times from the moment the command is written:
//!
//! - **floor**: a raw IDLE client (TLS, `SELECT INBOX`, `IDLE`, nothing else) reads
//!   `* n EXISTS`. Dovecot holds change notifications back for about half a second, whoever
//!   waits for them: no client reacts to a reply sooner than this.
//! - **notified**: the daemon's `INBOX changed` log line (its IDLE connection was told).
//! - **withdrawn**: the daemon's log line for the withdrawal (`#id subject: draft withdrawn
//!   (replied)`), written once the draft has left Drafts and the store says so. Read from the
//!   timestamp `nudge run` puts on the line (`RUST_LOG=nudge=debug`, microseconds, the same
//!   clock), not by polling the mailbox, so the figure is not rounded up to a polling period.
//! - **nudge's own share**: withdrawn − floor, trial by trial: what nudge adds to what the
//!   server imposes. The goal is 50 ms or less, median.
//!
//! The daemon runs with the drafting day stretched to every hour of every day, so that the
//! drafts the trials withdraw are made whenever the bench runs.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use chrono::{DateTime, Duration as Days, Utc};

use support::daemon::{log_lines, wait_until, Daemon};
use support::mailclient::{crlf, opener, Message};
use support::measure::median;
use support::nudge::{Nudge, PASSWORD, SELLER};
use support::rawimap::{append_watched, Appended, RawImap, PATIENCE};
use support::{Dovecot, DovecotOptions};

const TRIALS: usize = 20;

fn count(dovecot: &Dovecot, folder: &str) -> usize {
    dovecot
        .doveadm(&["search", "-u", SELLER, "mailbox", folder, "ALL"])
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

/// Milliseconds from `from` to `to`.
fn ms(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_microseconds().expect("a short span") as f64 / 1000.0
}

struct Trial {
    acknowledged: f64,
    floor: f64,
    notified: f64,
    withdrawn: f64,
}

/// One reply: appended while the raw client idles, timed to its `EXISTS` and to the daemon's
/// log lines.
async fn trial(
    i: usize,
    dovecot: &Dovecot,
    daemon: &Daemon,
    idle: &mut RawImap,
    appender: &mut RawImap,
) -> Trial {
    let from = format!("p{i}@customer{i}.no");
    let subject = format!("SV: Tilbud {i}");
    let id = format!("reply{i}@customer{i}.no");
    let parent = format!("opener{i}@fjordsalg.no");
    let raw = crlf(
        &Message {
            from: &from,
            to: SELLER,
            subject: &subject,
            message_id: &id,
            in_reply_to: Some(&parent),
            date: &Utc::now().to_rfc2822(),
            body: "Takk, la oss snakkes.",
            extra: "",
        }
        .render(),
    );
    let before = count(dovecot, "Drafts");
    let Appended {
        wall,
        floor,
        acknowledged,
    } = append_watched(idle, appender, &raw).await;

    // The daemon's own account: when it was told, and when the draft was gone.
    let withdrawal = format!("Tilbud {i}: draft withdrawn");
    let mut lines = Vec::new();
    let seen = wait_until(PATIENCE, || {
        lines = log_lines(&daemon.log());
        let Some(at) = lines
            .iter()
            .position(|(_, text)| text.contains(&withdrawal))
        else {
            return false;
        };
        // Wait for the end of that pass too, so that the next trial finds the daemon idle.
        lines[at..]
            .iter()
            .any(|(_, text)| text.contains("pass timing"))
    });
    assert!(
        seen.is_some(),
        "trial {i}: draft not withdrawn:\n{}",
        daemon.log()
    );
    let withdrawn = lines
        .iter()
        .find(|(_, text)| text.contains(&withdrawal))
        .map(|(at, _)| *at)
        .expect("the withdrawal line");
    let notified = lines
        .iter()
        .find(|(at, text)| *at >= wall && text.contains("INBOX changed"))
        .map(|(at, _)| *at)
        .expect("the daemon's IDLE saw the reply");
    assert_eq!(
        count(dovecot, "Drafts"),
        before - 1,
        "trial {i}: exactly the replied conversation's draft left Drafts"
    );
    Trial {
        acknowledged: acknowledged.as_secs_f64() * 1000.0,
        floor: floor.as_secs_f64() * 1000.0,
        notified: ms(wall, notified),
        withdrawn: ms(wall, withdrawn),
    }
}

/// Median, best and worst of `values`, in milliseconds.
fn row(what: &str, mut values: Vec<f64>) -> String {
    values.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    format!(
        "| {what} | {:.0} | {:.0} | {:.0} |",
        values[values.len() / 2],
        values[0],
        values[values.len() - 1]
    )
}

fn main() {
    let dovecot = Dovecot::start(DovecotOptions {
        users: vec![(SELLER.to_string(), PASSWORD.to_string())],
        ..Default::default()
    });
    for i in 0..TRIALS {
        let to = format!("p{i}@customer{i}.no");
        let date = (Utc::now() - Days::days(14)).to_rfc2822();
        let raw = opener(i, &to, &date, "Hei! Her er tilbudet vi snakket om.");
        dovecot.save_message(SELLER, "Sent", crlf(&raw).as_bytes());
    }
    let nudge = Nudge::new(
        &dovecot,
        "[tracking]\nlookback_days = 60\n\n[cadence]\nholidays = []\ndaily_limit = 100\n\
         draft_time = \"00:00\"\nquiet_after = \"24:00\"\n\
         workdays = [\"monday\", \"tuesday\", \"wednesday\", \"thursday\", \"friday\", \
         \"saturday\", \"sunday\"]\n",
    );
    let daemon = Daemon::start_default(&nudge);
    wait_until(Duration::from_secs(60), || {
        count(&dovecot, "Drafts") == TRIALS
    })
    .unwrap_or_else(|| panic!("drafts not made:\n{}", daemon.log()));
    std::thread::sleep(Duration::from_secs(1));

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let trials: Vec<Trial> = runtime.block_on(async {
        let mut idle = RawImap::login(&dovecot, SELLER, PASSWORD).await;
        idle.command("S SELECT INBOX\r\n").await;
        let mut appender = RawImap::login(&dovecot, SELLER, PASSWORD).await;
        let mut trials = Vec::new();
        for i in 0..TRIALS {
            trials.push(trial(i, &dovecot, &daemon, &mut idle, &mut appender).await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        trials
    });
    assert_eq!(count(&dovecot, "Drafts"), 0, "every draft was withdrawn");

    let column = |f: fn(&Trial) -> f64| trials.iter().map(f).collect::<Vec<f64>>();
    let rows = [
        ("APPEND acknowledged", column(|t| t.acknowledged)),
        ("raw IDLE client reads EXISTS (floor)", column(|t| t.floor)),
        ("nudge notified (its IDLE)", column(|t| t.notified)),
        ("draft withdrawn by nudge", column(|t| t.withdrawn)),
        (
            "nudge's own share (withdrawn − floor)",
            column(|t| t.withdrawn - t.floor),
        ),
        (
            "nudge: notified → withdrawn",
            column(|t| t.withdrawn - t.notified),
        ),
    ];
    println!();
    println!("a reply appended to INBOX, {TRIALS} trials; milliseconds from the APPEND");
    println!("| until | median | best | worst |");
    println!("|---|---|---|---|");
    for (what, values) in &rows {
        println!("{}", row(what, values.clone()));
    }
    println!(
        "nudge's own share, median {:.0} ms (goal: 50 ms or less)",
        median(column(|t| t.withdrawn - t.floor))
    );
}
