//! Network faults between nudge and its IMAP server: a proxy in the harness cuts the
//! connection in the middle of a FETCH, an APPEND or an IDLE, or holds an answer back past
//! nudge's timeout. Whatever breaks, the next pass (or the daemon, reconnecting) recovers
//! with nothing lost and nothing duplicated: every conversation tracked once, every due draft
//! made exactly once, no message stored twice, nothing quarantined for the link's fault.
//!
//! nudge reaches the server through the proxy with `security = "plain"` (loopback only), so
//! the proxy can see the commands it aims at.

mod support;

use std::time::Duration;

use chrono::Utc;
use support::daemon::{wait_until, Daemon};
use support::invariants::{self, nudge_drafts};
use support::nudge::{seller_dovecot, Nudge, PASSWORD};
use support::proxy::{Action, Fault, Proxy};
use support::sales::{count, opener, reply, save, ALWAYS};
use support::Dovecot;

const CONVERSATIONS: usize = 5;
/// Kari wrote her openers on Monday 16 November 2026.
const OPENED: &str = "Mon, 16 Nov 2026 10:00:00 +0100";
/// The first pass tracks them.
const FIRST: &str = "2026-11-16T12:00:00+01:00";
/// Follow-up 1 is due on Thursday 19 November at 08:30.
const DUE: &str = "2026-11-19T09:00:00+01:00";
const LATER: &str = "2026-11-19T09:10:00+01:00";
/// nudge's bound on every IMAP command in these scenarios.
const TIMEOUT: u64 = 2;

/// The seller's Dovecot with the openers in Sent, and nudge reaching it through a proxy.
fn world() -> (Dovecot, Proxy, Nudge) {
    let dovecot = seller_dovecot();
    for n in 0..CONVERSATIONS {
        save(&dovecot, "Sent", &opener(n, OPENED));
    }
    let proxy = Proxy::start(dovecot.imap_port());
    let nudge = Nudge::new(&dovecot, "");
    nudge.plain_imap_at(proxy.port());
    nudge.imap_timeout(TIMEOUT);
    (dovecot, proxy, nudge)
}

/// Runs a pass that the armed fault breaks: it fails, and the fault did fire.
fn broken_pass(nudge: &Nudge, proxy: &Proxy, now: &str) -> String {
    let result = nudge.try_sync(now);
    assert_eq!(proxy.armed(), 0, "the fault never fired: {result:?}");
    match result {
        Err(e) => e,
        Ok(out) => out,
    }
}

/// Every invariant holds, with every conversation tracked; the drafts in Drafts, by subject.
fn settled(dovecot: &Dovecot, nudge: &Nudge) -> Vec<String> {
    let view = invariants::check(dovecot, &nudge.store_config(), CONVERSATIONS)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        view.quarantined, 0,
        "nothing is quarantined for the link's fault"
    );
    invariants::draft_subjects(dovecot)
}

fn every_draft() -> Vec<String> {
    let mut all: Vec<String> = (0..CONVERSATIONS)
        .map(|n| format!("Re: Tilbud {n}"))
        .collect();
    all.sort();
    all
}

/// Tracks the openers, then makes the due drafts with `fault` armed: that pass breaks (with
/// the first draft in Drafts when `landed`, none otherwise), the next one finishes, and each
/// conversation ends with exactly one draft.
fn drafting_survives(fault: Fault, landed: bool) {
    let (dovecot, proxy, nudge) = world();
    nudge.sync(FIRST);
    assert_eq!(nudge.status().len(), CONVERSATIONS);
    proxy.arm(fault);
    let said = broken_pass(&nudge, &proxy, DUE);
    eprintln!("the broken pass said:\n{said}");
    assert_eq!(nudge_drafts(&dovecot).len(), usize::from(landed), "{said}");
    // Whatever the broken pass left, it is consistent already.
    invariants::check(&dovecot, &nudge.store_config(), CONVERSATIONS)
        .unwrap_or_else(|e| panic!("after the fault: {e}"));
    nudge.sync(LATER);
    assert_eq!(settled(&dovecot, &nudge), every_draft());
    assert_eq!(count(&dovecot, "Drafts"), CONVERSATIONS);
    assert!(
        nudge.status().iter().all(|c| c["state"] == "drafted"),
        "{:#?}",
        nudge.status()
    );
    // And a pass after that changes nothing.
    nudge.sync("2026-11-19T09:20:00+01:00");
    assert_eq!(settled(&dovecot, &nudge), every_draft());
}

#[test]
fn a_cut_as_the_first_fetch_is_sent_loses_no_conversation() {
    let (dovecot, proxy, nudge) = world();
    proxy.arm(Fault::on("UID FETCH", Action::Cut));
    let said = broken_pass(&nudge, &proxy, FIRST);
    assert!(said.contains("failed"), "{said}");
    nudge.sync("2026-11-16T12:05:00+01:00");
    invariants::check(&dovecot, &nudge.store_config(), CONVERSATIONS)
        .unwrap_or_else(|e| panic!("{e}"));
    nudge.sync(DUE);
    assert_eq!(settled(&dovecot, &nudge), every_draft());
}

#[test]
fn a_fetch_answer_broken_off_midway_loses_no_conversation() {
    let (dovecot, proxy, nudge) = world();
    // The answer stops in the middle of the first message's headers.
    proxy.arm(Fault::on("UID FETCH", Action::CutAfterServerBytes(300)));
    broken_pass(&nudge, &proxy, FIRST);
    nudge.sync("2026-11-16T12:05:00+01:00");
    nudge.sync(DUE);
    assert_eq!(settled(&dovecot, &nudge), every_draft());
}

#[test]
fn a_fetch_answer_held_past_the_timeout_is_asked_again() {
    let (dovecot, proxy, nudge) = world();
    proxy.arm(Fault::on(
        "UID FETCH",
        Action::Delay(Duration::from_secs(TIMEOUT + 2)),
    ));
    // The pass asks again on a new connection, or the next pass does.
    if let Err(e) = nudge.try_sync(FIRST) {
        eprintln!("the first pass failed: {e}");
        nudge.sync("2026-11-16T12:05:00+01:00");
    }
    assert_eq!(proxy.armed(), 0, "the delay happened");
    assert_eq!(nudge.status().len(), CONVERSATIONS);
    nudge.sync(DUE);
    assert_eq!(settled(&dovecot, &nudge), every_draft());
}

#[test]
fn a_cut_in_the_middle_of_an_append_literal_makes_each_draft_once() {
    // The command and the start of the message reach the server; the rest never does.
    drafting_survives(Fault::on("APPEND", Action::CutAfterForwarding(300)), false);
}

#[test]
fn an_append_the_server_did_but_never_confirmed_makes_each_draft_once() {
    // The server stores the draft; nudge never hears "OK".
    drafting_survives(Fault::on("APPEND", Action::CutWhenServerAnswers), true);
}

#[test]
fn an_append_confirmed_too_late_makes_each_draft_once() {
    drafting_survives(
        Fault::on("APPEND", Action::Delay(Duration::from_secs(TIMEOUT + 2))),
        true,
    );
}

#[test]
fn a_cut_while_looking_for_the_appended_draft_makes_each_draft_once() {
    // After the APPEND, nudge looks its draft up by Message-ID.
    drafting_survives(
        Fault::on("HEADER Message-ID \"<nudge.", Action::CutWhenServerAnswers),
        true,
    );
}

/// A daemon behind the proxy with every conversation's draft made; openers two weeks old.
/// `faults` are armed before it starts.
fn daemon_world(env: &[(&str, &str)], faults: Vec<Fault>) -> (Dovecot, Proxy, Nudge, Daemon) {
    let dovecot = seller_dovecot();
    let opened = (Utc::now() - chrono::Duration::days(14)).to_rfc2822();
    for n in 0..CONVERSATIONS {
        save(&dovecot, "Sent", &opener(n, &opened));
    }
    let proxy = Proxy::start(dovecot.imap_port());
    for fault in faults {
        proxy.arm(fault);
    }
    let nudge = Nudge::new(&dovecot, ALWAYS);
    nudge.plain_imap_at(proxy.port());
    nudge.imap_timeout(TIMEOUT);
    let daemon = Daemon::start(&nudge, PASSWORD, env);
    let made = wait_until(Duration::from_secs(60), || {
        count(&dovecot, "Drafts") == CONVERSATIONS
    });
    assert!(made.is_some(), "drafts were not made:\n{}", daemon.log());
    (dovecot, proxy, nudge, daemon)
}

/// The prospect of conversation `n` answers now.
fn answer(dovecot: &Dovecot, n: usize, tag: &str) {
    save(dovecot, "INBOX", &reply(n, tag, &Utc::now().to_rfc2822()));
}

/// Prospect `n` answers once the watcher is back in IDLE: its draft is withdrawn within
/// seconds (Sent and Drafts are polled only every minute, so IDLE saw it). How long it took.
fn reply_seen_through_idle(dovecot: &Dovecot, daemon: &Daemon, n: usize, tag: &str) -> Duration {
    std::thread::sleep(Duration::from_secs(2));
    answer(dovecot, n, tag);
    let took = wait_until(Duration::from_secs(20), || {
        count(dovecot, "Drafts") == CONVERSATIONS - 1
    });
    took.unwrap_or_else(|| panic!("the reply was not seen through IDLE:\n{}", daemon.log()))
}

/// Waits until the fault armed on IDLE fired (nudge went into IDLE), then until the watcher
/// opened a new connection.
fn idle_fault_then_reconnect(proxy: &Proxy, daemon: &Daemon) {
    let idling = wait_until(Duration::from_secs(30), || proxy.armed() == 0);
    assert!(
        idling.is_some(),
        "nudge never went into IDLE:\n{}",
        daemon.log()
    );
    let before = proxy.connections();
    let back = wait_until(Duration::from_secs(30), || proxy.connections() > before);
    assert!(
        back.is_some(),
        "the watcher did not reconnect:\n{}",
        daemon.log()
    );
}

#[test]
fn a_cut_in_the_middle_of_idle_is_reconnected_and_replies_still_seen_at_once() {
    // The watcher's first IDLE dies 3 s after it began.
    let (dovecot, proxy, nudge, mut daemon) = daemon_world(
        &[],
        vec![Fault::on("IDLE", Action::CutAfter(Duration::from_secs(3)))],
    );
    // The watcher connects again (about 2 s of backoff) and waits in IDLE again.
    idle_fault_then_reconnect(&proxy, &daemon);
    let took = reply_seen_through_idle(&dovecot, &daemon, 0, "after-cut");
    eprintln!("reply to withdrawal after the IDLE cut: {took:?}");
    assert!(daemon.is_running(), "{}", daemon.log());
    assert_eq!(nudge.conversation("Tilbud 0").unwrap()["state"], "replied");
    invariants::check(&dovecot, &nudge.store_config(), CONVERSATIONS)
        .unwrap_or_else(|e| panic!("{e}\n{}", daemon.log()));
}

#[test]
fn answers_held_past_the_timeout_are_survived_by_the_daemon() {
    // A poll every 2 s and backoffs of a fraction of a second, so the test is quick.
    let (dovecot, proxy, nudge, mut daemon) =
        daemon_world(&[("NUDGE_TEST_TIME_DIVISOR", "30")], Vec::new());
    // The next passes find every answer to their folder checks late, twice.
    for _ in 0..2 {
        proxy.arm(Fault::on(
            "EXAMINE",
            Action::Delay(Duration::from_secs(TIMEOUT + 2)),
        ));
    }
    let fired = wait_until(Duration::from_secs(60), || proxy.armed() == 0);
    assert!(fired.is_some(), "{}", daemon.log());
    answer(&dovecot, 1, "after-delay");
    let took = wait_until(Duration::from_secs(60), || {
        count(&dovecot, "Drafts") == CONVERSATIONS - 1
    });
    assert!(took.is_some(), "not recovered:\n{}", daemon.log());
    let log = daemon.log();
    assert!(log.contains("timed out"), "the delay was noticed:\n{log}");
    assert!(daemon.is_running(), "{log}");
    assert_eq!(nudge.conversation("Tilbud 1").unwrap()["state"], "replied");
    std::thread::sleep(Duration::from_secs(3));
    let view = invariants::check(&dovecot, &nudge.store_config(), CONVERSATIONS)
        .unwrap_or_else(|e| panic!("{e}\n{log}"));
    assert_eq!(view.quarantined, 0);
    assert_eq!(count(&dovecot, "Drafts"), CONVERSATIONS - 1);
}

/// A link that answers late again and again (a train's wifi) is the link's fault, not the
/// message's: the header fetch shrinks down to one message and times out alone, but nothing
/// is quarantined for it, and the next pass tracks every conversation.
#[test]
fn a_link_that_keeps_answering_late_quarantines_nothing() {
    let (dovecot, proxy, nudge) = world();
    for _ in 0..5 {
        proxy.arm(Fault::on(
            "UID FETCH",
            Action::Delay(Duration::from_secs(TIMEOUT + 2)),
        ));
    }
    let first = nudge.try_sync(FIRST);
    assert_eq!(proxy.armed(), 0, "every delay happened: {first:?}");
    if first.is_err() {
        nudge.sync("2026-11-16T12:05:00+01:00");
    }
    let view = invariants::check(&dovecot, &nudge.store_config(), CONVERSATIONS)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(view.quarantined, 0, "{first:?}");
    nudge.sync(DUE);
    assert_eq!(settled(&dovecot, &nudge), every_draft());
}

#[test]
fn a_cut_while_reading_texts_loses_nothing() {
    let (dovecot, proxy, nudge) = world();
    nudge.sync(FIRST);
    // The openers' texts are read when the drafts that quote them are made.
    proxy.arm(Fault::on(
        "BODY.PEEK[TEXT]<",
        Action::CutAfterServerBytes(120),
    ));
    broken_pass(&nudge, &proxy, DUE);
    nudge.sync(DUE);
    assert_eq!(settled(&dovecot, &nudge), every_draft());
    // Each draft quotes its opener: the text was read in the end.
    let drafts = invariants::listed(&dovecot, "Drafts");
    assert_eq!(drafts.len(), CONVERSATIONS);
    let text = dovecot.doveadm(&[
        "fetch",
        "-u",
        support::nudge::SELLER,
        "body",
        "mailbox",
        "Drafts",
        "ALL",
    ]);
    assert_eq!(
        text.matches("> Hei! Her er tilbudet").count(),
        CONVERSATIONS,
        "{text}"
    );
}

/// The weekly summary goes to INBOX (no SMTP configured): its APPEND is cut after the server
/// took it. The next attempt finds it there by its Message-ID: one summary, never two.
#[test]
fn a_summary_append_cut_before_its_answer_is_not_made_twice() {
    let (dovecot, proxy, nudge) = world();
    nudge.sync(FIRST);
    proxy.arm(Fault::on("APPEND \"INBOX\"", Action::CutWhenServerAnswers));
    // Monday 23 November, week 48: the summary is due.
    broken_pass(&nudge, &proxy, "2026-11-23T09:00:00+01:00");
    let summaries = || {
        invariants::listed(&dovecot, "INBOX")
            .iter()
            .filter(|m| m.message_id.starts_with("nudge."))
            .count()
    };
    assert_eq!(summaries(), 1, "the server took it");
    // After the retry delay, the next passes settle it without a second copy.
    nudge.sync("2026-11-23T10:00:00+01:00");
    nudge.sync("2026-11-23T11:00:00+01:00");
    assert_eq!(summaries(), 1);
    let view = invariants::check(&dovecot, &nudge.store_config(), CONVERSATIONS)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        view.summaries.values().any(|(state, _)| state == "sent"),
        "{:?}",
        view.summaries
    );
}

/// A reply withdraws the waiting draft (MOVE to Trash); the connection dies after the server
/// moved it, before nudge hears so. The next pass finds it gone: withdrawn once, nothing
/// moved twice, the conversation replied.
#[test]
fn a_withdrawal_cut_before_its_answer_is_settled_by_the_next_pass() {
    let (dovecot, proxy, nudge) = world();
    nudge.sync(FIRST);
    nudge.sync(DUE);
    assert_eq!(settled(&dovecot, &nudge), every_draft());
    save(
        &dovecot,
        "INBOX",
        &reply(2, "cut", "Thu, 19 Nov 2026 09:30:00 +0100"),
    );
    proxy.arm(Fault::on("UID MOVE", Action::CutWhenServerAnswers));
    broken_pass(&nudge, &proxy, LATER);
    assert_eq!(
        count(&dovecot, "Drafts"),
        CONVERSATIONS - 1,
        "the server moved it"
    );
    nudge.sync("2026-11-19T09:20:00+01:00");
    nudge.sync("2026-11-19T09:30:00+01:00");
    let mut expected = every_draft();
    expected.retain(|s| s != "Re: Tilbud 2");
    assert_eq!(settled(&dovecot, &nudge), expected);
    assert_eq!(count(&dovecot, "Trash"), 1);
    assert_eq!(nudge.conversation("Tilbud 2").unwrap()["state"], "replied");
    let view = invariants::StoreView::read(&nudge.store_config());
    assert_eq!(
        view.drafts.values().filter(|s| *s == "withdrawn").count(),
        1,
        "{:?}",
        view.drafts
    );
}

/// The daemon's first APPEND is cut after the server took the draft, and a later one is held
/// past the timeout: it reconnects, finds both drafts where it left them, and makes every
/// other draft once.
#[test]
fn a_daemon_whose_appends_break_makes_each_draft_once() {
    let (dovecot, proxy, nudge, mut daemon) = daemon_world(
        &[("NUDGE_TEST_TIME_DIVISOR", "30")],
        vec![
            Fault::on("APPEND", Action::CutWhenServerAnswers),
            Fault::on("APPEND", Action::Delay(Duration::from_secs(TIMEOUT + 2))),
        ],
    );
    assert_eq!(proxy.armed(), 0, "both faults fired");
    // A few more polls: nothing changes.
    std::thread::sleep(Duration::from_secs(5));
    assert!(daemon.is_running(), "{}", daemon.log());
    assert_eq!(count(&dovecot, "Drafts"), CONVERSATIONS, "{}", daemon.log());
    let mut subjects: Vec<String> = nudge_drafts(&dovecot)
        .into_iter()
        .map(|d| d.subject)
        .collect();
    subjects.sort();
    assert_eq!(subjects, every_draft());
    let view = invariants::check(&dovecot, &nudge.store_config(), CONVERSATIONS)
        .unwrap_or_else(|e| panic!("{e}\n{}", daemon.log()));
    assert_eq!(view.quarantined, 0);
    assert!(
        nudge.status().iter().all(|c| c["state"] == "drafted"),
        "{:#?}",
        nudge.status()
    );
}

/// The server's "+ idling" comes later than nudge waits for it: the watcher gives that
/// connection up, connects again, and a reply is still seen within seconds (Sent and Drafts
/// are polled only every minute here).
#[test]
fn an_idle_that_starts_too_late_is_reconnected() {
    let (dovecot, proxy, nudge, mut daemon) = daemon_world(
        &[],
        vec![Fault::on(
            "IDLE",
            Action::Stall(Duration::from_secs(TIMEOUT + 3)),
        )],
    );
    idle_fault_then_reconnect(&proxy, &daemon);
    let log = daemon.log();
    assert!(
        log.lines()
            .any(|l| l.contains("INBOX watcher") && l.contains("timed out")),
        "the watcher gave up on the late IDLE:\n{log}"
    );
    reply_seen_through_idle(&dovecot, &daemon, 3, "after-stall");
    assert!(daemon.is_running(), "{}", daemon.log());
    assert_eq!(nudge.conversation("Tilbud 3").unwrap()["state"], "replied");
    invariants::check(&dovecot, &nudge.store_config(), CONVERSATIONS)
        .unwrap_or_else(|e| panic!("{e}\n{}", daemon.log()));
}
