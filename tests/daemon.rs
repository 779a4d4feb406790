//! `nudge run` as systemd runs it, against a real Dovecot: reacting to a reply within seconds,
//! surviving an outage, stopping cleanly, never duplicating drafts across kills, backing off
//! from a wrong password, and telling systemd it is ready.
//!
//! Mail dates are relative to the real clock: the daemon runs in real time.

mod support;

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use chrono::{Duration as Days, Utc};
use support::daemon::{wait_until, Daemon};
use support::mailclient::Message;
use support::nudge::{seller_dovecot, Nudge, PASSWORD, SELLER};
use support::Dovecot;

/// Holidays off, every day a workday from midnight to midnight, and a long lookback, so "two
/// weeks ago" is always due and drafting is open whatever the day and hour.
const CONFIG: &str = "[tracking]\nlookback_days = 60\n\n[cadence]\nholidays = []\n\
    workdays = [\"monday\", \"tuesday\", \"wednesday\", \"thursday\", \"friday\", \
    \"saturday\", \"sunday\"]\ndraft_time = \"00:00\"\nquiet_after = \"24:00\"\n";

fn rfc2822(days_ago: i64) -> String {
    (Utc::now() - Days::days(days_ago)).to_rfc2822()
}

fn opener(n: usize) -> String {
    let to = format!("Prospect {n} <p{n}@customer{n}.no>");
    let subject = format!("Tilbud {n}");
    let id = format!("opener{n}@fjordsalg.no");
    Message {
        from: "Kari Nordmann <kari@fjordsalg.no>",
        to: &to,
        subject: &subject,
        message_id: &id,
        in_reply_to: None,
        date: &rfc2822(14),
        body: "Hei! Her er tilbudet vi snakket om. Hilsen Kari",
        extra: "",
    }
    .render()
}

fn reply(n: usize, tag: &str) -> String {
    let from = format!("Prospect {n} <p{n}@customer{n}.no>");
    let subject = format!("SV: Tilbud {n}");
    let id = format!("reply{n}.{tag}@customer{n}.no");
    let parent = format!("opener{n}@fjordsalg.no");
    Message {
        from: &from,
        to: SELLER,
        subject: &subject,
        message_id: &id,
        in_reply_to: Some(&parent),
        date: &Utc::now().to_rfc2822(),
        body: "Takk, la oss snakkes på torsdag.",
        extra: "",
    }
    .render()
}

fn save(dovecot: &Dovecot, folder: &str, raw: &str) {
    dovecot.save_message(SELLER, folder, support::mailclient::crlf(raw).as_bytes());
}

/// Writes a message straight into INBOX's Maildir, as a delivery agent does.
fn deliver(dovecot: &Dovecot, raw: &str) {
    use std::os::unix::fs::MetadataExt;
    let maildir = dovecot.maildir_of(SELLER);
    let meta = std::fs::metadata(&maildir).expect("the Maildir exists");
    let path = maildir.join("new").join(format!(
        "{}.delivered.test",
        Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    std::fs::write(&path, support::mailclient::crlf(raw)).unwrap();
    std::os::unix::fs::chown(&path, Some(meta.uid()), Some(meta.gid())).unwrap();
}

fn count(dovecot: &Dovecot, folder: &str) -> usize {
    dovecot
        .doveadm(&["search", "-u", SELLER, "mailbox", folder, "ALL"])
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

/// A daemon with `n` overdue conversations, each with its draft made.
fn running_with_drafts(n: usize) -> (Dovecot, Nudge, Daemon) {
    let dovecot = seller_dovecot();
    for i in 0..n {
        save(&dovecot, "Sent", &opener(i));
    }
    let nudge = Nudge::new(&dovecot, CONFIG);
    let daemon = Daemon::start_default(&nudge);
    let made = wait_until(Duration::from_secs(60), || count(&dovecot, "Drafts") == n);
    assert!(made.is_some(), "drafts were not made:\n{}", daemon.log());
    (dovecot, nudge, daemon)
}

#[test]
fn a_reply_withdraws_the_waiting_draft_within_seconds() {
    let (dovecot, nudge, mut daemon) = running_with_drafts(1);
    save(&dovecot, "INBOX", &reply(0, "a"));
    let took = wait_until(Duration::from_secs(10), || count(&dovecot, "Drafts") == 0);
    assert!(
        took.is_some(),
        "the draft is still there after 10 s:\n{}",
        daemon.log()
    );
    eprintln!("reply to withdrawal: {:?}", took.unwrap());
    assert!(daemon.is_running());
    assert_eq!(nudge.conversation("Tilbud 0").unwrap()["state"], "replied");
}

#[test]
fn sigterm_stops_the_daemon_cleanly_within_ten_seconds() {
    let (_dovecot, _nudge, mut daemon) = running_with_drafts(1);
    daemon.signal("TERM");
    let status = daemon.wait_exit(Duration::from_secs(10));
    assert!(
        status.is_some(),
        "still running 10 s after SIGTERM:\n{}",
        daemon.log()
    );
    assert!(
        status.unwrap().success(),
        "exit status {status:?}:\n{}",
        daemon.log()
    );
    assert!(daemon.log().contains("stopped"), "{}", daemon.log());
}

#[test]
fn ready_and_status_reach_the_notify_socket() {
    let dovecot = seller_dovecot();
    save(&dovecot, "Sent", &opener(0));
    let nudge = Nudge::new(&dovecot, CONFIG);
    let socket_path = nudge.dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let socket_text = socket_path.to_string_lossy().into_owned();
    let daemon = Daemon::start(&nudge, PASSWORD, &[("NOTIFY_SOCKET", &socket_text)]);
    let mut seen = Vec::new();
    let mut buffer = [0u8; 512];
    while !(seen.iter().any(|m: &String| m == "READY=1")
        && seen.iter().any(|m| m.starts_with("STATUS=")))
    {
        let n = socket
            .recv(&mut buffer)
            .unwrap_or_else(|e| panic!("no notification ({e}); got {seen:?}:\n{}", daemon.log()));
        seen.push(String::from_utf8_lossy(&buffer[..n]).into_owned());
    }
    let status = seen.iter().find(|m| m.starts_with("STATUS=")).unwrap();
    assert!(
        status.contains("watching 1 conversations, 1 drafts waiting"),
        "{seen:?}"
    );
}

#[test]
fn an_outage_of_the_server_is_survived_and_caught_up() {
    let (mut dovecot, nudge, mut daemon) = running_with_drafts(1);
    dovecot.stop();
    // While the server is down, the prospect's reply is delivered to the mailbox (as an MTA
    // writing into the Maildir would).
    deliver(&dovecot, &reply(0, "outage"));
    std::thread::sleep(Duration::from_secs(30));
    assert!(
        daemon.is_running(),
        "the daemon died during the outage:\n{}",
        daemon.log()
    );
    dovecot.restart();
    let took = wait_until(Duration::from_secs(120), || count(&dovecot, "Drafts") == 0);
    assert!(
        took.is_some(),
        "not caught up after the restart:\n{}",
        daemon.log()
    );
    assert!(daemon.is_running());
    assert_eq!(nudge.conversation("Tilbud 0").unwrap()["state"], "replied");
}

#[test]
fn kills_in_the_middle_of_passes_never_duplicate_or_lose_anything() {
    const CONVERSATIONS: usize = 25;
    let dovecot = seller_dovecot();
    for i in 0..CONVERSATIONS {
        save(&dovecot, "Sent", &opener(i));
    }
    let nudge = Nudge::new(
        &dovecot,
        &CONFIG.replace("[cadence]\n", "[cadence]\ndaily_limit = 100\n"),
    );
    for round in 0..20u64 {
        let mut daemon = Daemon::start_default(&nudge);
        // Somewhere in the first pass (sync, texts, drafts), by a round-dependent moment.
        std::thread::sleep(Duration::from_millis(40 + (round * 97) % 900));
        daemon.signal("KILL");
        daemon.wait_exit(Duration::from_secs(5));
    }
    let daemon = Daemon::start_default(&nudge);
    let done = wait_until(Duration::from_secs(60), || {
        count(&dovecot, "Drafts") >= CONVERSATIONS
    });
    assert!(done.is_some(), "drafts not completed:\n{}", daemon.log());
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        count(&dovecot, "Drafts"),
        CONVERSATIONS,
        "exactly one draft each"
    );
    let status = nudge.status();
    assert_eq!(status.len(), CONVERSATIONS, "no conversation lost");
    assert!(status.iter().all(|c| c["state"] == "drafted"), "{status:?}");
    drop(daemon);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = nudge::store::Store::open(&nudge.store_path())
            .await
            .unwrap();
        store
            .integrity_check()
            .await
            .expect("integrity check passes");
    });
}

#[test]
fn a_wrong_password_keeps_the_daemon_up_and_retrying_slowly() {
    let dovecot = seller_dovecot();
    let nudge = Nudge::new(&dovecot, CONFIG);
    let mut daemon = Daemon::start(&nudge, "wrong-password", &[]);
    std::thread::sleep(Duration::from_secs(60));
    assert!(daemon.is_running(), "the daemon gave up:\n{}", daemon.log());
    let log = daemon.log();
    let errors = log
        .lines()
        .filter(|l| l.contains("ERROR") && l.contains("authentication as"))
        .count();
    let attempts = log
        .lines()
        .filter(|l| l.contains("authentication as"))
        .count();
    assert_eq!(
        attempts, errors,
        "every attempt is the main loop's, logged once:\n{log}"
    );
    // 30 s, then 60 s (plus jitter): two tries in a minute, never a hot loop.
    assert!(
        (1..=3).contains(&errors),
        "{errors} authentication errors in 60 s:\n{log}"
    );
    assert!(log.contains("trying again in"), "{log}");
    eprintln!("authentication errors logged in 60 s: {errors}");
}

#[test]
fn an_idle_daemon_uses_almost_no_cpu() {
    let (_dovecot, _nudge, daemon) = running_with_drafts(3);
    std::thread::sleep(Duration::from_secs(2));
    let before = daemon.cpu_time();
    std::thread::sleep(Duration::from_secs(60));
    let used = daemon.cpu_time() - before;
    eprintln!("CPU time over 60 s idle: {used:?}");
    assert!(
        used < Duration::from_secs(1),
        "{used:?} of CPU in 60 s idle"
    );
}

#[test]
fn a_rejected_certificate_stops_the_daemon_with_the_reason() {
    let dovecot = seller_dovecot();
    let nudge = Nudge::new(&dovecot, CONFIG);
    // Trust another CA than the server's.
    let other = support::TestCa::new(&nudge.dir.path().join("other-ca"));
    let text = std::fs::read_to_string(&nudge.config).unwrap().replace(
        &dovecot.ca().ca_path().display().to_string(),
        &other.ca_path().display().to_string(),
    );
    std::fs::write(&nudge.config, text).unwrap();
    let mut daemon = Daemon::start_default(&nudge);
    let status = daemon.wait_exit(Duration::from_secs(30));
    assert_eq!(status.and_then(|s| s.code()), Some(4), "{}", daemon.log());
    assert!(daemon.log().contains("certificate"), "{}", daemon.log());
}

#[test]
fn commands_work_while_the_daemon_runs_and_it_picks_them_up() {
    let (dovecot, nudge, daemon) = running_with_drafts(1);
    let id = nudge.conversation("Tilbud 0").unwrap()["id"].to_string();
    let stop = nudge.run(&["stop", &id]);
    assert!(
        stop.status.success(),
        "{}",
        String::from_utf8_lossy(&stop.stderr)
    );
    // The next pass (at most a minute away) withdraws the draft; no restart.
    let took = wait_until(Duration::from_secs(90), || count(&dovecot, "Drafts") == 0);
    assert!(
        took.is_some(),
        "the stop was not picked up:\n{}",
        daemon.log()
    );
    assert_eq!(nudge.conversation("Tilbud 0").unwrap()["state"], "stopped");
}
