//! Crash safety: nudge is killed with SIGKILL at 100 moments of a busy scenario (25
//! conversations due for drafts, replies arriving, the weekly summary due), chosen by a
//! seeded RNG over the duration of an unkilled pass, and started again each time. After
//! every kill: the store passes `PRAGMA integrity_check`, no conversation is lost or doubled,
//! at most one draft waits per conversation (in the store and in Drafts), and every nudge
//! draft in Drafts is known to the store. At the end one clean pass converges: exactly the
//! expected drafts, one summary.
//!
//! Both kinds of process are killed: `nudge sync --now` (60 kills) and the daemon,
//! `nudge run` (40 kills). `NUDGE_CRASH_SEED` picks another sequence of moments.

mod support;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use support::daemon::{wait_until, Daemon};
use support::invariants::{self, draft_subjects, listed, nudge_drafts};
use support::mailclient::MailClient;
use support::nudge::{nudge_command, seller_dovecot, Nudge, PASSWORD, SELLER};
use support::sales::{opener, reply, save, ALWAYS};
use support::Dovecot;

const CONVERSATIONS: usize = 25;
/// Kills of `nudge sync` and of `nudge run`: 100 in all.
const SYNC_KILLS: usize = 60;
const DAEMON_KILLS: usize = 40;
/// A reply arrives before every this many rounds (for the next conversation in turn).
const REPLY_EVERY: usize = 5;
/// Every this many rounds of `nudge sync`, one pass is left to finish and timed.
const CALIBRATE_EVERY: usize = 10;

/// The RNG of the kill moments: the same sequence every run unless `NUDGE_CRASH_SEED` says.
fn rng(salt: u64) -> fastrand::Rng {
    let seed = std::env::var("NUDGE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(20261201);
    eprintln!("kill moments from seed {seed} (NUDGE_CRASH_SEED)");
    fastrand::Rng::with_seed(seed ^ salt)
}

/// Every invariant after a kill, or a panic that says which round broke it.
fn check(dovecot: &Dovecot, nudge: &Nudge, round: usize, log: &str) {
    if let Err(wrong) = invariants::check(dovecot, &nudge.store_config(), CONVERSATIONS) {
        panic!("after kill {round}:\n{wrong}\n--- nudge said ---\n{log}");
    }
}

/// nudge's summaries in INBOX (their Message-IDs are nudge's).
fn summaries(dovecot: &Dovecot) -> usize {
    listed(dovecot, "INBOX")
        .iter()
        .filter(|m| m.message_id.starts_with("nudge."))
        .count()
}

/// The drafts expected when the first `replied` prospects have answered and the seller sent
/// the drafts of conversations `sent`.
fn expected_drafts(replied: usize, sent: &[usize]) -> Vec<String> {
    let mut subjects: Vec<String> = (replied..CONVERSATIONS)
        .filter(|n| !sent.contains(n))
        .map(|n| format!("Re: Tilbud {n}"))
        .collect();
    subjects.sort();
    subjects
}

/// Checks the end state once clean passes ran: the drafts and the states.
fn converged(dovecot: &Dovecot, nudge: &Nudge, replied: usize, sent: &[usize]) {
    check(dovecot, nudge, usize::MAX, "");
    assert_eq!(draft_subjects(dovecot), expected_drafts(replied, sent));
    for c in nudge.status() {
        let subject = c["subject"].as_str().unwrap_or_default();
        let n: usize = subject
            .trim_start_matches("Tilbud ")
            .parse()
            .unwrap_or(usize::MAX);
        let expected = if n < replied {
            "replied"
        } else if sent.contains(&n) {
            // The sent draft counted as follow-up 1; follow-up 2 is a week away.
            "waiting"
        } else {
            "drafted"
        };
        assert_eq!(c["state"], expected, "{c:#}");
    }
}

// ---- nudge sync --now, on a clock that moves a day per round ----

/// Kari's openers of Monday 16 November 2026, tracked by a pass the same day (week 47).
const OPENED: &str = "Mon, 16 Nov 2026 10:00:00 +0100";
const FIRST: &str = "2026-11-16T12:00:00+01:00";

/// Every day a workday, and two drafts a day at most: the drafting is spread over many
/// rounds, as is the weekly summary (Monday 07:30), so that most passes have work to do.
const SYNC_CONFIG: &str = "[cadence]\ndaily_limit = 2\nholidays = []\ndraft_time = \"00:00\"\n\
    quiet_after = \"24:00\"\nworkdays = [\"monday\", \"tuesday\", \"wednesday\", \"thursday\", \
    \"friday\", \"saturday\", \"sunday\"]\n";

/// The time of round `round`'s pass: 09:00 in Oslo, `round` days after Thursday 19 November
/// (when every follow-up 1 falls due).
fn day(round: usize) -> chrono::DateTime<Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-19T09:00:00+01:00")
        .unwrap()
        .with_timezone(&Utc)
        + chrono::Duration::days(round as i64)
}

/// A Dovecot with the openers, and nudge having tracked them (no SMTP: the summary goes to
/// INBOX).
fn sync_world() -> (Dovecot, Nudge) {
    let dovecot = seller_dovecot();
    for n in 0..CONVERSATIONS {
        save(&dovecot, "Sent", &opener(n, OPENED));
    }
    let nudge = Nudge::new(&dovecot, SYNC_CONFIG);
    nudge.sync(FIRST);
    assert_eq!(nudge.status().len(), CONVERSATIONS);
    (dovecot, nudge)
}

fn spawn_sync(nudge: &Nudge, now: &str) -> Child {
    nudge_command(Some(&nudge.config))
        .args(["sync", "--now", now])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nudge sync starts")
}

/// The weeks whose summary the store records as sent.
fn sent_weeks(nudge: &Nudge) -> usize {
    invariants::StoreView::read(&nudge.store_config())
        .summaries
        .values()
        .filter(|(state, _)| state == "sent")
        .count()
}

#[test]
fn sixty_kills_of_sync_passes_lose_and_duplicate_nothing() {
    // How long a busy pass takes when nothing kills it (Monday 23 November: two drafts and
    // the summary), in a world of its own.
    let duration = {
        let (dovecot, nudge) = sync_world();
        let started = Instant::now();
        nudge.sync(&day(4).to_rfc3339());
        let took = started.elapsed();
        assert_eq!(nudge_drafts(&dovecot).len(), 2);
        assert_eq!(summaries(&dovecot), 1);
        took
    };
    eprintln!("an unkilled busy pass takes {duration:?}");

    let (dovecot, nudge) = sync_world();
    let mut rng = rng(1);
    let mut window = duration;
    let (mut kills, mut rounds, mut replied, mut completed) = (0, 0, 0, 0);
    let started = Instant::now();
    while kills < SYNC_KILLS {
        assert!(rounds < SYNC_KILLS * 3, "only {kills} kills landed");
        if rounds % REPLY_EVERY == REPLY_EVERY - 1 && replied < CONVERSATIONS / 2 {
            let date = (day(rounds) - chrono::Duration::hours(1)).to_rfc2822();
            save(&dovecot, "INBOX", &reply(replied, "crash", &date));
            replied += 1;
        }
        // Every tenth round runs to its end: the window follows how long a pass takes now
        // (the store grows, the machine is busier or not), and the mailbox moves on.
        let delay = if rounds % CALIBRATE_EVERY == CALIBRATE_EVERY - 1 {
            Duration::MAX
        } else {
            window.mul_f64(rng.f64())
        };
        let pass_started = Instant::now();
        let mut child = spawn_sync(&nudge, &day(rounds).to_rfc3339());
        rounds += 1;
        let ended = loop {
            if child.try_wait().expect("try_wait").is_some() {
                break Some(pass_started.elapsed());
            }
            if pass_started.elapsed() >= delay {
                break None;
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let landed = ended.is_none();
        match ended {
            None => {
                child.kill().expect("SIGKILL");
                kills += 1;
            }
            // The pass ended before the moment: later moments are picked within such a pass.
            Some(took) => {
                window = took;
                completed += 1;
            }
        }
        let output = child.wait_with_output().expect("reap nudge");
        let said = String::from_utf8_lossy(&output.stderr).into_owned();
        if !landed {
            assert!(output.status.success(), "an unkilled pass failed:\n{said}");
        }
        check(&dovecot, &nudge, kills, &said);
    }
    let drafted_meanwhile = nudge_drafts(&dovecot).len();
    eprintln!(
        "{kills} kills landed in {rounds} rounds ({completed} passes completed), {:?}; \
         {replied} replies arrived, {drafted_meanwhile} drafts and {} summaries made meanwhile",
        started.elapsed(),
        summaries(&dovecot)
    );
    // Clean passes, a day apart, until the daily limit let every draft be made.
    for extra in 0..=CONVERSATIONS / 2 {
        nudge.sync(&day(rounds + extra).to_rfc3339());
    }
    converged(&dovecot, &nudge, replied, &[]);
    assert!(summaries(&dovecot) >= 1);
    assert_eq!(summaries(&dovecot), sent_weeks(&nudge));
}

// ---- nudge run, in real time ----

/// Drafts on any day, at any hour, up to 100 a day; the summary due since midnight today.
fn always(weekday: &str) -> String {
    format!(
        "{}\n[summary]\nweekday = \"{weekday}\"\ntime = \"00:00\"\n",
        ALWAYS.replace("[cadence]\n", "[cadence]\ndaily_limit = 100\n")
    )
}

/// Openers two weeks old, tracked by a pass an hour after them (so that nudge first started
/// in an earlier week and this week's summary is due).
fn daemon_world() -> (Dovecot, Nudge) {
    let dovecot = seller_dovecot();
    let opened = Utc::now() - chrono::Duration::days(14);
    for n in 0..CONVERSATIONS {
        save(&dovecot, "Sent", &opener(n, &opened.to_rfc2822()));
    }
    let weekday = support::sales::weekday_today();
    let nudge = Nudge::new(&dovecot, &always(weekday));
    nudge.sync(&(opened + chrono::Duration::hours(1)).to_rfc3339());
    assert_eq!(nudge.status().len(), CONVERSATIONS);
    (dovecot, nudge)
}

/// The daemon is done with its busy first pass: every draft and the summary are there.
fn daemon_done(dovecot: &Dovecot, replied: usize, sent: &[usize]) -> bool {
    summaries(dovecot) == 1 && draft_subjects(dovecot) == expected_drafts(replied, sent)
}

/// The seller sends, from the mail client, the draft of the highest-numbered conversation
/// that has one and whose prospect will not reply; returns that conversation.
async fn send_a_draft(client: &mut MailClient, sent: &[usize]) -> Option<usize> {
    let drafts = client.messages("Drafts").await;
    let (n, draft) = drafts
        .iter()
        .filter_map(|d| {
            let subject = d.header("Subject")?;
            let n: usize = subject.strip_prefix("Re: Tilbud ")?.parse().ok()?;
            (n >= CONVERSATIONS / 2 && !sent.contains(&n)).then_some((n, d))
        })
        .max_by_key(|(n, _)| *n)?;
    let now = Utc::now().to_rfc2822();
    client.send_draft("Drafts", "Sent", draft, &now).await;
    Some(n)
}

#[test]
fn forty_kills_of_the_daemon_lose_and_duplicate_nothing() {
    let duration = {
        let (dovecot, nudge) = daemon_world();
        let started = Instant::now();
        let daemon = Daemon::start_default(&nudge);
        let done = wait_until(Duration::from_secs(60), || daemon_done(&dovecot, 0, &[]));
        assert!(done.is_some(), "{}", daemon.log());
        started.elapsed()
    };
    eprintln!("an unkilled daemon makes every draft and the summary in {duration:?}");

    let (dovecot, nudge) = daemon_world();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut client = runtime.block_on(MailClient::connect(&dovecot, SELLER, PASSWORD));
    let mut rng = rng(2);
    let mut window = duration;
    let (mut replied, mut busy) = (0, 0);
    // Conversations whose draft the seller sent between two kills.
    let mut sent: Vec<usize> = Vec::new();
    let started = Instant::now();
    for kill in 1..=DAEMON_KILLS {
        // Between two runs the mailbox moves on: a prospect replies, the seller sends a draft.
        if kill % REPLY_EVERY == 0 && replied < CONVERSATIONS / 2 {
            let now = Utc::now().to_rfc2822();
            save(&dovecot, "INBOX", &reply(replied, "crash", &now));
            replied += 1;
        }
        if let Some(n) = runtime.block_on(send_a_draft(&mut client, &sent)) {
            sent.push(n);
        }
        let delay = window.mul_f64(rng.f64());
        let run_started = Instant::now();
        let mut daemon = Daemon::start_default(&nudge);
        // Watch for the end of its first pass meanwhile: later moments are picked within a
        // first pass as long as such a run's.
        let mut ready = None;
        while run_started.elapsed() < delay {
            if ready.is_none() && daemon.log().contains("ready: first pass done") {
                ready = Some(run_started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(daemon.is_running(), "the daemon stopped:\n{}", daemon.log());
        daemon.kill();
        match ready {
            Some(took) => window = took,
            None => busy += 1,
        }
        check(&dovecot, &nudge, kill, &daemon.log());
    }
    eprintln!(
        "{DAEMON_KILLS} kills in {:?} ({busy} before the first pass of the run ended); {replied} \
         replies arrived and {} drafts were sent meanwhile",
        started.elapsed(),
        sent.len()
    );
    let daemon = Daemon::start_default(&nudge);
    let done = wait_until(Duration::from_secs(60), || {
        daemon_done(&dovecot, replied, &sent)
    });
    assert!(done.is_some(), "not converged:\n{}", daemon.log());
    std::thread::sleep(Duration::from_secs(2));
    drop(daemon);
    converged(&dovecot, &nudge, replied, &sent);
    assert_eq!(
        summaries(&dovecot),
        1,
        "exactly one weekly summary in INBOX"
    );
    runtime.block_on(client.logout());
}

// ---- the weekly summary, killed around its delivery to INBOX ----

/// A pass killed at `point` of the summary's delivery, then clean passes: one summary.
fn summary_survives_a_kill_at(point: &str) {
    let (dovecot, nudge) = sync_world();
    // Monday 23 November: this week's summary is due.
    let monday = day(4);
    let output = nudge.run_with_env(
        &["sync", "--now", &monday.to_rfc3339()],
        &[("NUDGE_FAULT_POINT", point)],
    );
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it stopped at {point}:\n{said}");
    assert!(said.contains(point), "{said}");
    check(&dovecot, &nudge, 1, &said);
    nudge.sync(&(monday + chrono::Duration::hours(1)).to_rfc3339());
    check(&dovecot, &nudge, 1, "");
    assert_eq!(summaries(&dovecot), 1, "this week's summary is in INBOX");
    assert_eq!(sent_weeks(&nudge), 1);
    // And it stays one.
    nudge.sync(&day(5).to_rfc3339());
    assert_eq!(summaries(&dovecot), 1);
}

/// The summary was claimed in the store, but the process died before its APPEND: nothing
/// reached INBOX, so the next pass delivers it (the store alone cannot tell this from a
/// delivery, INBOX can).
#[test]
fn a_kill_between_claiming_and_appending_the_summary_does_not_lose_it() {
    summary_survives_a_kill_at("after-summary-claim");
}

/// The summary reached INBOX, but the process died before recording it: never a second copy.
#[test]
fn a_kill_after_appending_the_summary_does_not_duplicate_it() {
    summary_survives_a_kill_at("after-summary-delivered");
}

/// The summary reached INBOX, the process died before recording it, and the next pass came
/// only the week after: the earlier week is recorded as delivered, never sent again, and the
/// new week's summary goes out as usual.
#[test]
fn a_summary_delivered_by_a_killed_pass_is_recorded_in_a_later_week() {
    let (dovecot, nudge) = sync_world();
    let monday = day(4);
    let output = nudge.run_with_env(
        &["sync", "--now", &monday.to_rfc3339()],
        &[("NUDGE_FAULT_POINT", "after-summary-delivered")],
    );
    assert!(!output.status.success());
    assert_eq!(summaries(&dovecot), 1);
    assert_eq!(sent_weeks(&nudge), 0, "the kill came before the record");
    let next_monday = monday + chrono::Duration::days(7);
    nudge.sync(&next_monday.to_rfc3339());
    assert_eq!(summaries(&dovecot), 2, "last week's copy and this week's");
    assert_eq!(sent_weeks(&nudge), 2, "both weeks recorded as sent");
    check(&dovecot, &nudge, 1, "");
}
