//! `nudge run` as systemd runs it, against a real Dovecot: reacting to a reply within seconds,
//! surviving an outage, stopping cleanly, never duplicating drafts across kills, backing off
//! from a wrong password, and telling systemd it is ready.
//!
//! Mail dates are relative to the real clock: the daemon runs in real time.

mod support;

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use chrono::{Duration as Days, Utc};
use support::daemon::{notifications, wait_until, Daemon};
use support::nudge::{seller_dovecot, Nudge, PASSWORD, SELLER};
use support::sales::{self, count, save};
use support::{Dovecot, SmtpOptions, SmtpSecurity, SmtpServer};

/// Holidays off, every day a workday from midnight to midnight, and a long lookback, so "two
/// weeks ago" is always due and drafting is open whatever the day and hour.
const CONFIG: &str = sales::ALWAYS;

fn rfc2822(days_ago: i64) -> String {
    (Utc::now() - Days::days(days_ago)).to_rfc2822()
}

/// Kari's opener to prospect `n`, two weeks old.
fn opener(n: usize) -> String {
    sales::opener(n, &rfc2822(14))
}

/// Prospect `n`'s reply, written now.
fn reply(n: usize, tag: &str) -> String {
    sales::reply(n, tag, &Utc::now().to_rfc2822())
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

/// SIGTERM in the middle of a pass, just after a draft was appended: the pass is given a
/// moment to finish, so the store says "drafted" at once, without waiting for the next start
/// to find the draft (a `nudge status` right after `systemctl stop` tells the truth).
#[test]
fn sigterm_lets_the_pass_in_flight_record_what_it_did() {
    let dovecot = seller_dovecot();
    save(&dovecot, "Sent", &opener(0));
    let nudge = Nudge::new(&dovecot, CONFIG);
    let hold = nudge.dir.path().join("hold-after-append");
    let hold_at = format!("after-append:{}", hold.display());
    let mut daemon = Daemon::start(&nudge, PASSWORD, &[("NUDGE_PAUSE_POINT", &hold_at)]);
    let paused = wait_until(Duration::from_secs(60), || hold.exists());
    assert!(
        paused.is_some(),
        "the pass reached its pause:\n{}",
        daemon.log()
    );
    assert_eq!(count(&dovecot, "Drafts"), 1, "the draft is appended");
    daemon.signal("TERM");
    std::thread::sleep(Duration::from_millis(500));
    std::fs::remove_file(&hold).unwrap();
    let status = daemon.wait_exit(Duration::from_secs(15));
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?}:\n{}",
        daemon.log()
    );
    let conversation = nudge.conversation("Tilbud 0").unwrap();
    assert_eq!(conversation["state"], "drafted", "{}", daemon.log());
    assert_eq!(conversation["draft"], true, "{}", daemon.log());
    assert_eq!(count(&dovecot, "Drafts"), 1);
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
        let store = nudge.store().await;
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
    let socket_path = nudge.dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    let socket_text = socket_path.to_string_lossy().into_owned();
    let mut daemon = Daemon::start(&nudge, "wrong-password", &[("NOTIFY_SOCKET", &socket_text)]);
    std::thread::sleep(Duration::from_secs(60));
    assert!(daemon.is_running(), "the daemon gave up:\n{}", daemon.log());
    // Started and retrying is as ready as the service gets: systemd is not left waiting
    // (and timing the start out) for a first pass that needs the seller.
    let told = notifications(&socket);
    assert_eq!(
        told.iter().filter(|m| *m == "READY=1").count(),
        1,
        "{told:?}"
    );
    assert!(
        told.contains(&"STATUS=authentication failed; retrying slowly".to_string()),
        "{told:?}"
    );
    let log = daemon.log();
    let errors = log
        .lines()
        .filter(|l| l.contains("ERROR") && l.contains("authentication as"))
        .count();
    let attempts = log
        .lines()
        .filter(|l| l.contains("authentication as"))
        .count();
    // 30 s, then 60 s (plus jitter): two tries in a minute, never a hot loop.
    assert!(
        (2..=3).contains(&attempts),
        "{attempts} authentication attempts in 60 s:\n{log}"
    );
    assert_eq!(
        errors, 1,
        "the first failure is an error, the same again is not:\n{log}"
    );
    assert!(log.contains("trying again in"), "{log}");
    eprintln!("authentication attempts in 60 s: {attempts}");
}

/// Lets the config's `[imap]` take its password from `command` instead of the environment.
fn imap_password_command(nudge: &Nudge, command: &str) {
    let text = std::fs::read_to_string(&nudge.config).unwrap();
    let imap_start = text.find("[imap]").unwrap();
    let line = "password_env = \"NUDGE_TEST_PASSWORD\"";
    let at = imap_start + text[imap_start..].find(line).unwrap();
    let text = format!(
        "{}password_command = \"{command}\"{}",
        &text[..at],
        &text[at + line.len()..]
    );
    std::fs::write(&nudge.config, text).unwrap();
}

/// Shortens the daemon's backoffs and poll 30 times: 30 s becomes 1 s.
const FAST: (&str, &str) = ("NUDGE_TEST_TIME_DIVISOR", "30");

fn lines_with<'a>(log: &'a str, level: &str, words: &str) -> Vec<&'a str> {
    log.lines()
        .filter(|l| l.contains(level) && l.contains(words))
        .collect()
}

#[test]
fn a_password_helper_that_fails_at_first_is_retried_until_it_works() {
    let dovecot = seller_dovecot();
    save(&dovecot, "Sent", &opener(0));
    let nudge = Nudge::new(&dovecot, CONFIG);
    // A keyring that is still locked for the first three asks, as at boot.
    let helper = nudge.dir.path().join("helper.sh");
    let calls = nudge.dir.path().join("calls");
    std::fs::write(
        &helper,
        format!(
            "n=$(cat {calls} 2>/dev/null || echo 0); n=$((n + 1)); echo $n > {calls}\n\
             if [ $n -le 3 ]; then echo 'the keyring is locked' >&2; exit 1; fi\n\
             printf '%s\\n' '{PASSWORD}'\n",
            calls = calls.display()
        ),
    )
    .unwrap();
    imap_password_command(&nudge, &format!("sh {}", helper.display()));
    let mut daemon = Daemon::start(&nudge, "not-used", &[FAST]);
    let made = wait_until(Duration::from_secs(45), || count(&dovecot, "Drafts") == 1);
    assert!(
        made.is_some(),
        "no draft: the daemon did not log in once the helper worked:\n{}",
        daemon.log()
    );
    assert!(daemon.is_running(), "the daemon stopped:\n{}", daemon.log());
    // The draft is in Drafts before the pass that made it ends; recovery is logged at its end.
    let recovered = wait_until(Duration::from_secs(15), || {
        daemon.log().contains("working again")
    });
    let log = daemon.log();
    assert!(recovered.is_some(), "recovery never logged:\n{log}");
    let errors = lines_with(&log, "ERROR", "the keyring is locked");
    let repeats = lines_with(&log, "INFO", "the keyring is locked");
    assert_eq!(errors.len(), 1, "{log}");
    assert!(
        errors[0].contains("imap.password_command"),
        "names the key: {log}"
    );
    assert_eq!(
        repeats.len(),
        2,
        "the same failure again is logged at info:\n{log}"
    );
    assert!(
        log.contains("working again after 3 failed attempts"),
        "{log}"
    );
    assert!(
        !log.contains(PASSWORD),
        "the secret is never logged:\n{log}"
    );
}

#[test]
fn a_refused_login_is_an_error_once_then_quieter_until_it_recovers() {
    let mut dovecot = seller_dovecot();
    let nudge = Nudge::new(&dovecot, CONFIG);
    let secret = nudge.dir.path().join("secret");
    std::fs::write(&secret, "wrong-password\n").unwrap();
    imap_password_command(&nudge, &format!("cat {}", secret.display()));
    let mut daemon = Daemon::start(&nudge, "not-used", &[FAST]);
    // 1 s, 2 s, 4 s: four attempts within about 10 s.
    let tried = wait_until(Duration::from_secs(30), || {
        daemon.log().matches("authentication as").count() >= 4
    });
    assert!(tried.is_some(), "{}", daemon.log());
    let log = daemon.log();
    assert_eq!(
        lines_with(&log, "ERROR", "authentication as").len(),
        1,
        "{log}"
    );
    assert!(
        lines_with(&log, "INFO", "still failing: authentication as").len() >= 3,
        "{log}"
    );
    // Fixed: logged in again, said once.
    std::fs::write(&secret, format!("{PASSWORD}\n")).unwrap();
    let recovered = wait_until(Duration::from_secs(30), || {
        daemon.log().contains("logged in and working again")
    });
    assert!(recovered.is_some(), "{}", daemon.log());
    // Broken anew (the server restarts and the password changed meanwhile): an error again.
    std::fs::write(&secret, "wrong-again\n").unwrap();
    dovecot.restart();
    let again = wait_until(Duration::from_secs(30), || {
        lines_with(&daemon.log(), "ERROR", "authentication as").len() == 2
    });
    assert!(again.is_some(), "{}", daemon.log());
    assert!(daemon.is_running(), "{}", daemon.log());
    assert!(
        !daemon.log().contains(PASSWORD),
        "the secret is never logged"
    );
}

#[test]
fn a_folder_that_vanishes_while_running_is_waited_for() {
    let dovecot = seller_dovecot();
    dovecot.doveadm(&["mailbox", "create", "-u", SELLER, "Utkast"]);
    let nudge = Nudge::new(&dovecot, CONFIG);
    let text = std::fs::read_to_string(&nudge.config).unwrap().replace(
        "timeout_seconds = 20\n",
        "timeout_seconds = 20\ndrafts_folder = \"Utkast\"\n",
    );
    std::fs::write(&nudge.config, text).unwrap();
    let mut daemon = Daemon::start(&nudge, PASSWORD, &[FAST]);
    let ready = wait_until(Duration::from_secs(30), || {
        daemon.log().contains("ready: first pass done")
    });
    assert!(ready.is_some(), "{}", daemon.log());
    // The seller deletes the folder from another client, and later makes it again.
    dovecot.doveadm(&["mailbox", "delete", "-u", SELLER, "Utkast"]);
    // Mail arrives: the daemon looks at once (IDLE), not only at its next poll.
    save(&dovecot, "INBOX", &reply(0, "wake"));
    let noticed = wait_until(Duration::from_secs(30), || {
        daemon.log().contains("folder not found")
    });
    assert!(noticed.is_some(), "{}", daemon.log());
    std::thread::sleep(Duration::from_secs(3));
    assert!(daemon.is_running(), "the daemon stopped:\n{}", daemon.log());
    dovecot.doveadm(&["mailbox", "create", "-u", SELLER, "Utkast"]);
    let back = wait_until(Duration::from_secs(30), || {
        daemon.log().contains("working again")
    });
    assert!(back.is_some(), "{}", daemon.log());
    let log = daemon.log();
    assert_eq!(
        lines_with(&log, "ERROR", "folder not found").len(),
        1,
        "{log}"
    );
}

#[test]
fn a_summary_the_server_was_down_for_is_sent_once_by_the_running_daemon() {
    let dovecot = seller_dovecot();
    let port = support::free_port();
    let weekday = support::sales::weekday_today();
    let nudge = Nudge::new(
        &dovecot,
        &format!(
            "{CONFIG}\n[summary]\nweekday = \"{weekday}\"\ntime = \"00:00\"\n\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"starttls\"\n\
             username = \"{SELLER}\"\npassword_env = \"NUDGE_TEST_PASSWORD\"\nca_file = \"{}\"\n",
            dovecot.ca().ca_path().display()
        ),
    );
    // nudge first ran in an earlier week, so this week's summary is due since midnight.
    nudge.sync(&(Utc::now() - Days::days(8)).to_rfc3339());
    // 5 minutes between attempts becomes 5 s; the poll of a minute becomes 1 s.
    let divisor = ("NUDGE_TEST_TIME_DIVISOR", "60");
    let daemon = Daemon::start(&nudge, PASSWORD, &[divisor]);
    let failed = wait_until(Duration::from_secs(30), || {
        daemon
            .log()
            .contains("did not reach the server (attempt 1)")
    });
    assert!(failed.is_some(), "{}", daemon.log());
    let smtp = SmtpServer::start_with(
        SmtpSecurity::StartTls,
        SELLER,
        PASSWORD,
        dovecot.ca(),
        SmtpOptions {
            port: Some(port),
            ..Default::default()
        },
    );
    let sent = wait_until(Duration::from_secs(30), || smtp.received().len() == 1);
    assert!(sent.is_some(), "not sent:\n{}", daemon.log());
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(smtp.received().len(), 1, "sent once:\n{}", daemon.log());
    let log = daemon.log();
    assert!(log.contains("sent the weekly summary"), "{log}");
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
