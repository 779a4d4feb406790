//! Many processes, one store (SPEC 7): a dry run changes nothing, one pass at a time touches
//! the server, commands and the daemon never overwrite each other, and the daemon acts on a
//! command within a second or two.
//!
//! The daemon runs in real time, so its scenarios date their mail from the real clock and
//! allow drafts on every day at every hour.

mod support;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use support::daemon::{wait_until, Daemon};
use support::nudge::{nudge_command, seller_dovecot, Nudge, PASSWORD};
use support::sales::{count, opener, save, ALWAYS};
use support::Dovecot;

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The event kinds of `nudge show ID`'s history, oldest first.
fn history_kinds(nudge: &Nudge, id: &str) -> Vec<String> {
    stdout(&nudge.run(&["show", id]))
        .lines()
        .skip_while(|line| !line.starts_with("History:"))
        .skip(1)
        .filter_map(|line| line.split_whitespace().nth(2).map(str::to_string))
        .collect()
}

/// The seller's Dovecot with Kari's opener of Monday 16 November in Sent, and nudge
/// configured for it with the default settings.
fn opener_in_sent() -> (Dovecot, Nudge) {
    let dovecot = seller_dovecot();
    save(
        &dovecot,
        "Sent",
        &opener(1, "Mon, 16 Nov 2026 10:00:00 +0100"),
    );
    let nudge = Nudge::new(&dovecot, "");
    (dovecot, nudge)
}

/// `nudge ARGS` started in the background.
fn spawn(nudge: &Nudge, args: &[&str]) -> Child {
    spawn_with(nudge, args, &[])
}

/// `nudge ARGS` started in the background with more environment.
fn spawn_with(nudge: &Nudge, args: &[&str], env: &[(&str, &str)]) -> Child {
    nudge_command(Some(&nudge.config))
        .args(args)
        .envs(env.iter().copied())
        .env("NUDGE_TEST_PASSWORD", PASSWORD)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nudge starts")
}

/// SPEC 7: `sync --dry-run` changes nothing: not the conversations, their history, meta or
/// suppressions — even far in the future, where a real pass would let go and call recent
/// openers old.
#[tokio::test]
async fn a_dry_run_in_the_future_changes_nothing_in_the_store() {
    let (dovecot, nudge) = opener_in_sent();
    let far = "2027-03-01T09:00:00+01:00";
    let dry = nudge.run(&["sync", "--dry-run", "--now", far]);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(nudge.status().is_empty(), "the dry run tracked nothing");
    {
        let store = nudge.store().await;
        assert_eq!(store.meta("first_started_at").await.unwrap(), None);
        store.close().await;
    }
    // The real first pass, on the opener's day, still tracks it.
    nudge.sync("2026-11-16T12:00:00+01:00");
    let c = nudge.conversation("Tilbud 1").expect("tracked");
    assert_eq!(c["state"], "waiting");
    let id = c["id"].to_string();
    let history = stdout(&nudge.run(&["show", &id]));
    // Far in the future a real pass would let go (after every step): the dry run says so and
    // keeps it to itself.
    let dry = nudge.run(&["sync", "--dry-run", "--now", far]);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert_eq!(nudge.conversation("Tilbud 1").unwrap()["state"], "waiting");
    assert_eq!(stdout(&nudge.run(&["show", &id])), history);
    assert_eq!(count(&dovecot, "Drafts"), 0, "nothing on the server");
    let leftovers: Vec<_> = std::fs::read_dir(nudge.store_path().parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("dry-run"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// SPEC 7: only one pass at a time touches the server: two `nudge sync` at once make one
/// draft, and the second waits for the first rather than failing.
#[tokio::test]
async fn two_syncs_at_once_make_one_draft() {
    let (dovecot, nudge) = opener_in_sent();
    nudge.sync("2026-11-16T12:00:00+01:00");
    let due = "2026-11-19T09:00:00+01:00";
    let children: Vec<Child> = (0..3)
        .map(|_| spawn(&nudge, &["sync", "--now", due]))
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(count(&dovecot, "Drafts"), 1);
    assert_eq!(nudge.conversation("Tilbud 1").unwrap()["state"], "drafted");
}

/// SPEC 7: one daemon per store: a second `nudge run` says who runs already and stops.
#[test]
fn a_second_daemon_says_who_runs_and_stops() {
    let dovecot = seller_dovecot();
    let nudge = Nudge::new(&dovecot, ALWAYS);
    let mut first = Daemon::start_default(&nudge);
    let ready = wait_until(Duration::from_secs(30), || first.log().contains("ready"));
    assert!(ready.is_some(), "{}", first.log());
    let mut second = Daemon::start_default(&nudge);
    let status = second.wait_exit(Duration::from_secs(20)).expect("it stops");
    assert_eq!(status.code(), Some(7), "{}", second.log());
    assert!(second.log().contains("nudge run"), "{}", second.log());
    assert!(first.is_running());
}

/// SPEC 7: the daemon acts on the seller's commands at once, and commands, extra syncs and the
/// daemon never overwrite each other: after a burst of mixed commands each conversation ends
/// as its last command says, and no conversation has two drafts.
#[test]
fn commands_beside_the_daemon_are_never_lost_and_act_within_seconds() {
    const N: usize = 5;
    let dovecot = seller_dovecot();
    let two_weeks_ago = (Utc::now() - chrono::Duration::days(14)).to_rfc2822();
    for i in 0..N {
        save(&dovecot, "Sent", &opener(i, &two_weeks_ago));
    }
    let nudge = Nudge::new(&dovecot, ALWAYS);
    let mut daemon = Daemon::start_default(&nudge);
    let made = wait_until(Duration::from_secs(60), || count(&dovecot, "Drafts") == N);
    assert!(made.is_some(), "drafts were not made:\n{}", daemon.log());
    let id_of = |n: usize| {
        nudge.conversation(&format!("Tilbud {n}")).unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let ids: Vec<i64> = (0..N).map(id_of).collect();

    // One stop: the daemon withdraws that draft within a few seconds (it used to wait for its
    // next poll, up to a minute).
    let started = Instant::now();
    let out = nudge.run(&["stop", &ids[0].to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let gone = wait_until(Duration::from_secs(10), || {
        count(&dovecot, "Drafts") == N - 1
    });
    assert!(gone.is_some(), "the draft stayed:\n{}", daemon.log());
    eprintln!("stop to withdrawal: {:?}", started.elapsed());

    // A burst: 50 commands over the other conversations, and two extra passes, all at once.
    let mut children = Vec::new();
    for k in 0..50 {
        let n = 1 + k % (N - 1);
        let verb = match k % 3 {
            0 => "stop",
            1 => "resume",
            _ => "snooze",
        };
        let id = ids[n].to_string();
        let args: Vec<String> = if verb == "snooze" {
            vec![verb.into(), id, "2099-01-05".into()]
        } else {
            vec![verb.into(), id]
        };
        let child = {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            spawn(&nudge, &args)
        };
        children.push((verb, child));
        if k == 10 || k == 30 {
            children.push(("sync", spawn(&nudge, &["sync"])));
        }
    }
    // Each command either did what it says or refused with the seller's reason (a snooze of a
    // stopped conversation); none failed on the store or on another process.
    for (verb, child) in children {
        let out = child.wait_with_output().unwrap();
        let said = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
        assert!(
            out.status.success() || said.contains("only open conversations can be snoozed"),
            "{verb}: {said}"
        );
        for trouble in ["locked", "busy", "changed meanwhile", "store"] {
            assert!(!said.contains(trouble), "{verb}: {said}");
        }
    }
    // Every conversation is in a state one of its commands leaves, drafts agree with the
    // states, and no conversation has two drafts.
    let settled = wait_until(Duration::from_secs(15), || {
        let status = nudge.status();
        let drafted = status.iter().filter(|c| c["state"] == "drafted").count();
        count(&dovecot, "Drafts") == drafted
    });
    assert!(settled.is_some(), "{:#?}\n{}", nudge.status(), daemon.log());
    // No command lost: each conversation is in the state its latest history entry leaves.
    for c in nudge.status() {
        let state = c["state"].as_str().unwrap().to_string();
        let kinds = history_kinds(&nudge, &c["id"].to_string());
        let last = kinds
            .iter()
            .rev()
            .find(|k| ["stopped", "snoozed", "resumed", "drafted"].contains(&k.as_str()))
            .cloned()
            .unwrap_or_default();
        let expected = match last.as_str() {
            "stopped" => "stopped",
            "snoozed" => "snoozed",
            "drafted" => "drafted",
            _ => "waiting",
        };
        assert_eq!(state, expected, "{c:#?}\n{kinds:?}");
    }
    let store_config = nudge.store_config();
    let active: i64 = std::thread::spawn(move || {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let store = nudge::store::Store::connect(&store_config).await.unwrap();
            let waiting = store.waiting_drafts().await.unwrap();
            store.close().await;
            ids.iter()
                .map(|id| waiting.iter().filter(|d| d.conversation_id == *id).count() as i64)
                .max()
                .unwrap_or(0)
        })
    })
    .join()
    .unwrap();
    assert!(active <= 1, "a conversation has {active} drafts waiting");
    assert!(daemon.is_running(), "{}", daemon.log());
}

/// SPEC 7: every change is a conditional update of the current row: a `stop` written while a
/// pass holds an older copy of the conversation (it paused just before making drafts) is never
/// overwritten by that pass; the draft it made anyway is withdrawn.
#[tokio::test]
async fn a_stop_during_a_pass_is_never_overwritten() {
    let (dovecot, nudge) = opener_in_sent();
    nudge.sync("2026-11-16T12:00:00+01:00");
    let id = nudge.conversation("Tilbud 1").unwrap()["id"].to_string();
    let hold = nudge.dir.path().join("hold-before-drafts");
    let hold_at = format!("before-drafts:{}", hold.display());
    let pass = spawn_with(
        &nudge,
        &["sync", "--now", "2026-11-19T09:00:00+01:00"],
        &[("NUDGE_PAUSE_POINT", &hold_at)],
    );
    // The pass holds, with its copy of the conversations read, until the file is removed.
    let paused = wait_until(Duration::from_secs(30), || hold.exists());
    assert!(paused.is_some(), "the pass reached its pause");
    let stop = nudge.run(&["stop", &id]);
    assert!(
        stop.status.success(),
        "{}",
        String::from_utf8_lossy(&stop.stderr)
    );
    std::fs::remove_file(&hold).unwrap();
    let out = pass.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(nudge.conversation("Tilbud 1").unwrap()["state"], "stopped");
    nudge.sync("2026-11-19T09:10:00+01:00");
    assert_eq!(nudge.conversation("Tilbud 1").unwrap()["state"], "stopped");
    assert_eq!(
        count(&dovecot, "Drafts"),
        0,
        "the stopped conversation's draft is gone"
    );
}
