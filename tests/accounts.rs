//! Several accounts in one process: `--config` more than once or a folder of config files.
//! `nudge run` serves them all, each on its own, so one whose password is wrong backs off
//! alone while a reply in another's mailbox still withdraws its draft within seconds; the
//! commands that act on one account take `--account`.

mod support;

use std::time::Duration;

use chrono::{Duration as Days, Utc};
use support::colleagues::{config_for, dovecot_of, drafts_of, folder_of};
use support::daemon::{notifications, wait_until, Daemon};
use support::mailclient::crlf;
use support::nudge::{nudge_command, Nudge, PASSWORD, SELLER};
use support::sales;
use support::Dovecot;

const OLA: &str = "ola@fjordsalg.no";
const PER: &str = "per@fjordsalg.no";

/// The opener of `n` as `email` sent it, into `email`'s Sent.
fn opener_of(dovecot: &Dovecot, email: &str, n: usize, days_ago: i64) {
    let local = email.split('@').next().unwrap();
    let raw = sales::opener(n, &(Utc::now() - Days::days(days_ago)).to_rfc2822())
        .replace(
            "Kari Nordmann <kari@fjordsalg.no>",
            &format!("{local} <{email}>"),
        )
        .replace(&format!("opener{n}@"), &format!("opener{n}.{local}@"));
    dovecot.save_message(email, "Sent", crlf(&raw).as_bytes());
}

/// Prospect `n`'s reply to `email`'s opener, into `email`'s INBOX.
fn reply_to(dovecot: &Dovecot, email: &str, n: usize) {
    let local = email.split('@').next().unwrap();
    let raw = sales::reply(n, "a", &Utc::now().to_rfc2822())
        .replace(SELLER, email)
        .replace(&format!("opener{n}@"), &format!("opener{n}.{local}@"));
    dovecot.save_message(email, "INBOX", crlf(&raw).as_bytes());
}

fn run(args: &[&str]) -> (bool, String) {
    let output = nudge_command(None)
        .args(args)
        .env("NUDGE_OLA_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

fn three_sellers() -> (Dovecot, Nudge, tempfile::TempDir) {
    let dovecot = dovecot_of(&[SELLER, OLA, PER]);
    let kari = Nudge::new(&dovecot, sales::ALWAYS);
    let confd = folder_of(&kari, &[(OLA, "NUDGE_OLA_PASSWORD")]);
    (dovecot, kari, confd)
}

#[test]
fn commands_take_the_account_and_sync_serves_each() {
    let (dovecot, kari, confd) = three_sellers();
    opener_of(&dovecot, SELLER, 1, 14);
    opener_of(&dovecot, OLA, 2, 14);
    let folder = confd.path().to_str().unwrap();

    let (ok, text) = run(&["--config", folder, "status"]);
    assert!(!ok, "two accounts and no --account: {text}");
    assert!(
        text.contains("--account") && text.contains(OLA) && text.contains(SELLER),
        "{text}"
    );

    let (ok, text) = run(&["--config", folder, "sync"]);
    assert!(ok, "{text}");
    assert!(text.contains(&format!("Account {SELLER}")), "{text}");
    assert!(text.contains(&format!("Account {OLA}")), "{text}");
    assert_eq!(drafts_of(&dovecot, SELLER), 1, "{text}");
    assert_eq!(drafts_of(&dovecot, OLA), 1, "{text}");

    for (account, subject) in [(OLA, "Tilbud 2"), (SELLER, "Tilbud 1")] {
        let (ok, text) = run(&["--config", folder, "--account", account, "status", "--json"]);
        assert!(ok, "{text}");
        let rows: serde_json::Value = serde_json::from_str(&text).unwrap();
        let rows = rows.as_array().unwrap();
        assert_eq!(rows.len(), 1, "{account} sees only its own: {text}");
        assert_eq!(rows[0]["subject"], subject);
    }
    let (ok, text) = run(&[
        "--config",
        folder,
        "--account",
        "nobody@fjordsalg.no",
        "status",
    ]);
    assert!(
        !ok && text.contains("no account nobody@fjordsalg.no"),
        "{text}"
    );

    // --config twice is the same as the folder; one account twice is refused.
    let ola = confd.path().join("ola.toml");
    let (ok, text) = run(&[
        "--config",
        kari.config.to_str().unwrap(),
        "--config",
        ola.to_str().unwrap(),
        "--account",
        OLA,
        "show",
        "1",
    ]);
    assert!(ok && text.contains("Tilbud 2"), "{text}");
    let (ok, text) = run(&[
        "--config",
        folder,
        "--config",
        ola.to_str().unwrap(),
        "status",
    ]);
    assert!(!ok && text.contains("configured twice"), "{text}");
}

#[test]
fn one_process_serves_every_account_and_a_failing_one_backs_off_alone() {
    let (dovecot, kari, confd) = three_sellers();
    // Per's password is wrong: his account must back off without holding up the others.
    config_for(&kari, PER, "NUDGE_PER_PASSWORD", confd.path());
    opener_of(&dovecot, SELLER, 1, 14);
    opener_of(&dovecot, OLA, 2, 14);
    opener_of(&dovecot, PER, 3, 14);
    // systemd's side of the service: what the process tells it.
    let socket_path = kari.dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    let mut daemon = Daemon::start_with_args(
        &kari,
        &["--config", confd.path().to_str().unwrap()],
        &[
            ("NUDGE_OLA_PASSWORD", PASSWORD),
            ("NUDGE_PER_PASSWORD", "wrong"),
            ("NUDGE_TEST_TIME_DIVISOR", "60"),
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
        ],
    );
    let made = wait_until(Duration::from_secs(60), || {
        drafts_of(&dovecot, SELLER) == 1 && drafts_of(&dovecot, OLA) == 1
    });
    assert!(made.is_some(), "both drafts:\n{}", daemon.log());
    assert_eq!(drafts_of(&dovecot, PER), 0);
    // Per's refused login does not keep the service from being ready, and the service says
    // so once, when every account's first pass has ended.
    // (Dovecot answers a wrong password after a delay of its own.)
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut told = Vec::new();
    let mut buffer = [0u8; 512];
    let per_failed = format!("STATUS={PER}: authentication failed; retrying slowly");
    while !told.iter().any(|m| m == &per_failed) || !told.iter().any(|m| m == "READY=1") {
        let n = socket
            .recv(&mut buffer)
            .unwrap_or_else(|e| panic!("{e}: told {told:?}\n{}", daemon.log()));
        told.push(String::from_utf8_lossy(&buffer[..n]).into_owned());
    }
    told.extend(notifications(&socket));
    assert_eq!(
        told.iter().filter(|m| *m == "READY=1").count(),
        1,
        "{told:?}\n{}",
        daemon.log()
    );
    assert!(
        told.iter()
            .any(|m| m.starts_with(&format!("STATUS={OLA}: watching"))),
        "{told:?}"
    );

    // Ola's reply comes once his INBOX watcher is in place, so that the watcher sees it arrive
    // (a reply already there is found by the pass the watcher starts as it connects).
    let watching = wait_until(Duration::from_secs(15), || {
        daemon
            .log()
            .lines()
            .any(|l| l.contains(OLA) && l.contains("watching INBOX"))
    });
    assert!(watching.is_some(), "Ola's watcher:\n{}", daemon.log());
    reply_to(&dovecot, OLA, 2);
    let withdrawn = wait_until(Duration::from_secs(15), || drafts_of(&dovecot, OLA) == 0);
    assert!(
        withdrawn.is_some(),
        "Ola's draft withdrawn:\n{}",
        daemon.log()
    );
    assert_eq!(drafts_of(&dovecot, SELLER), 1, "Kari's stays");
    assert!(daemon.is_running(), "{}", daemon.log());

    let log = daemon.log();
    let per_lines: Vec<&str> = log.lines().filter(|l| l.contains(PER)).collect();
    assert!(
        per_lines.iter().any(|l| l.contains("ERROR")),
        "Per's refused login is logged under his address:\n{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains(OLA) && l.to_lowercase().contains("withdr")),
        "Ola's lines carry his address:\n{log}"
    );
    // The INBOX watcher runs in a task of its own, in the account's span too. Its line may
    // come after the draft is withdrawn: the pass the watcher started as it connected can
    // find the reply first, and Dovecot tells IDLE of a change about half a second late.
    let seen = wait_until(Duration::from_secs(10), || {
        daemon
            .log()
            .lines()
            .any(|l| l.contains(OLA) && l.contains("INBOX changed"))
    });
    assert!(
        seen.is_some(),
        "Ola's watcher saw the reply:\n{}",
        daemon.log()
    );
    let log = daemon.log();
    let watched: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("INBOX changed"))
        .collect();
    assert!(
        !watched.is_empty() && watched.iter().all(|l| l.contains("account")),
        "the watcher's lines name their account:\n{log}"
    );
    assert!(watched.iter().any(|l| l.contains(OLA)), "{log}");
    daemon.signal("TERM");
    assert!(
        daemon
            .wait_exit(Duration::from_secs(15))
            .is_some_and(|s| s.success()),
        "{}",
        daemon.log()
    );
}

/// The team's PostgreSQL is killed and stays down for 30 seconds under a running `nudge run` with two
/// accounts: nothing is lost or doubled, and both accounts catch up once it is back (a reply
/// that came meanwhile withdraws its draft; an opener sent meanwhile gets its follow-up).
#[test]
fn a_postgres_outage_of_thirty_seconds_loses_nothing_and_every_account_recovers() {
    let mut postgres = support::Postgres::start_durable();
    let url = postgres.create_database("outage");
    let dovecot = dovecot_of(&[SELLER, OLA]);
    let kari = Nudge::new_on(&dovecot, sales::ALWAYS, support::stores::Backend::Sqlite);
    // Both stores on this server, which the test stops and starts.
    let text = std::fs::read_to_string(&kari.config).unwrap();
    let text = text.replacen(
        "/nudge.db\"\n",
        &format!("/nudge.db\"\nurl = \"{url}\"\n"),
        1,
    );
    assert!(text.contains(&url), "{text}");
    let confd = tempfile::tempdir().unwrap();
    std::fs::write(confd.path().join("kari.toml"), &text).unwrap();
    std::fs::write(&kari.config, &text).unwrap();
    config_for(&kari, OLA, "NUDGE_OLA_PASSWORD", confd.path());
    opener_of(&dovecot, SELLER, 1, 14);
    opener_of(&dovecot, OLA, 2, 14);
    let mut daemon = Daemon::start_with_args(
        &kari,
        &["--config", confd.path().to_str().unwrap()],
        &[
            ("NUDGE_OLA_PASSWORD", PASSWORD),
            ("NUDGE_TEST_TIME_DIVISOR", "60"),
        ],
    );
    let made = wait_until(Duration::from_secs(60), || {
        drafts_of(&dovecot, SELLER) == 1 && drafts_of(&dovecot, OLA) == 1
    });
    assert!(made.is_some(), "both drafts:\n{}", daemon.log());

    // Killed, as a crash or the OOM killer would: no shutdown, sessions cut off.
    let pid = postgres.pid().expect("the server runs");
    // SAFETY: a plain signal to the server this test started.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGKILL) }, 0);
    postgres.stop();
    reply_to(&dovecot, SELLER, 1);
    opener_of(&dovecot, OLA, 3, 14);
    std::thread::sleep(Duration::from_secs(30));
    assert!(
        daemon.is_running(),
        "the outage stopped the service:\n{}",
        daemon.log()
    );
    assert_eq!(
        drafts_of(&dovecot, OLA),
        1,
        "nothing is drafted without the store"
    );
    postgres.restart();

    let caught_up = wait_until(Duration::from_secs(60), || {
        drafts_of(&dovecot, SELLER) == 0 && drafts_of(&dovecot, OLA) == 2
    });
    assert!(
        caught_up.is_some(),
        "after the outage: Kari's draft withdrawn, Ola's second drafted (Kari {}, Ola {}):\n{}",
        drafts_of(&dovecot, SELLER),
        drafts_of(&dovecot, OLA),
        daemon.log()
    );
    assert!(daemon.is_running(), "{}", daemon.log());
    daemon.signal("TERM");
    assert!(daemon.wait_exit(Duration::from_secs(15)).is_some());

    // Shutdown may cut a pass between a draft's APPEND and its record; the next pass finishes
    // that work from the store's note, as after a crash, and never drafts the same step twice.
    let folder = confd.path().to_str().unwrap();
    let (ok, text) = run(&["--config", folder, "sync"]);
    assert!(ok, "{text}");
    assert_eq!(drafts_of(&dovecot, SELLER), 0, "{text}");
    assert_eq!(drafts_of(&dovecot, OLA), 2, "no draft doubled: {text}");

    // Nothing lost or doubled: one conversation per opener, each as it should stand.
    let (ok, text) = run(&["--config", folder, "--account", SELLER, "status", "--json"]);
    assert!(ok, "{text}");
    let rows: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{text}");
    assert_eq!(rows[0]["state"], "replied", "{text}");
    let (ok, text) = run(&["--config", folder, "--account", OLA, "status", "--json"]);
    assert!(ok, "{text}");
    let rows: serde_json::Value = serde_json::from_str(&text).unwrap();
    let states: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["drafted", "drafted"], "{text}");
}
