//! The draft's life (issue 12, items 4–9), end to end: the `nudge` binary runs `sync --now`
//! against a real Dovecot while the test acts as the seller's mail client — sending, editing,
//! autosaving, deleting, NeoMutt's postpone that keeps the Message-ID — also in the middle of a
//! pass (`NUDGE_PAUSE_POINT`), after a crash (`NUDGE_FAULT_POINT`), on a server that cannot
//! remove one message alone, and after Drafts was rebuilt under a new UIDVALIDITY.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nudge::store::Store;
use support::mailclient::{rewrite_headers, FolderMessage, MailClient, Message};
use support::nudge::{nudge_binary, nudge_command, Nudge, PASSWORD, SELLER};
use support::{Dovecot, DovecotOptions};

const OPENER_ID: &str = "a1@fjordsalg.no";
const SUBJECT: &str = "Tilbud på rammeavtale";
const SELLERS_OWN_DRAFT: &str = "<mine@fjordsalg.no>";

/// Kari's opener to Ingrid, Monday 16 November 2026 at 10:00 Oslo time: follow-up 1 is due
/// Thursday 19 November at 08:30.
fn opener() -> String {
    Message {
        from: "Kari Nordmann <kari@fjordsalg.no>",
        to: "Ingrid Berg <ingrid.berg@fjordkraft.no>",
        subject: SUBJECT,
        message_id: OPENER_ID,
        in_reply_to: None,
        date: "Mon, 16 Nov 2026 10:00:00 +0100",
        body: "Hei Ingrid,\n\nHer er tilbudet på rammeavtalen vi snakket om, med priser for tre \
               år.\n\nVennlig hilsen\nKari",
        extra: "",
    }
    .render()
}

fn reply(date: &str) -> String {
    Message {
        from: "Ingrid Berg <ingrid.berg@fjordkraft.no>",
        to: "Kari Nordmann <kari@fjordsalg.no>",
        subject: "SV: Tilbud på rammeavtale",
        message_id: "r1@fjordkraft.no",
        in_reply_to: Some(OPENER_ID),
        date,
        body: "Hei Kari, takk! La oss ta en prat på torsdag.",
        extra: "",
    }
    .render()
}

/// A server like Dovecot's own, but without MOVE and UIDPLUS: nothing can take one message
/// out of a folder alone.
const WITHOUT_MOVE_AND_UIDPLUS: &str = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT \
    SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND UNSELECT \
    CHILDREN NAMESPACE LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES \
    WITHIN CONTEXT=SEARCH LIST-STATUS BINARY SPECIAL-USE";

struct World {
    dovecot: Dovecot,
    nudge: Nudge,
    client: MailClient,
}

impl World {
    async fn new() -> World {
        World::with(DovecotOptions::default(), "").await
    }

    async fn with(options: DovecotOptions, extra_config: &str) -> World {
        World::on(options, extra_config, support::stores::backend()).await
    }

    async fn on(
        options: DovecotOptions,
        extra_config: &str,
        backend: support::stores::Backend,
    ) -> World {
        let dovecot = Dovecot::start(DovecotOptions {
            users: vec![(SELLER.to_string(), PASSWORD.to_string())],
            ..options
        });
        let nudge = Nudge::new_on(&dovecot, extra_config, backend);
        let mut client = MailClient::connect(&dovecot, SELLER, PASSWORD).await;
        client.append("Sent", &opener(), &["\\Seen"]).await;
        World {
            dovecot,
            nudge,
            client,
        }
    }

    async fn drafts(&mut self) -> Vec<FolderMessage> {
        self.client.messages("Drafts").await
    }

    /// nudge's one draft (in Drafts beside the seller's own draft, if any).
    async fn nudges_draft(&mut self) -> FolderMessage {
        let drafts: Vec<FolderMessage> = self
            .drafts()
            .await
            .into_iter()
            .filter(|d| d.header("Message-ID").as_deref() != Some(SELLERS_OWN_DRAFT))
            .collect();
        assert_eq!(drafts.len(), 1, "one draft of nudge's: {drafts:?}");
        drafts.into_iter().next().unwrap()
    }

    fn conversation(&self) -> serde_json::Value {
        self.nudge.conversation(SUBJECT).expect("tracked")
    }

    fn state(&self) -> (String, u64) {
        let c = self.conversation();
        (
            c["state"].as_str().unwrap_or_default().to_string(),
            c["step"].as_u64().unwrap_or(99),
        )
    }

    fn history(&self) -> String {
        let id = self.conversation()["id"].to_string();
        let output = self.nudge.run(&["show", &id]);
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The store's record of the conversation's drafts, oldest first (read while no nudge runs).
    async fn draft_states(&self) -> Vec<String> {
        let id = self.conversation()["id"].as_i64().expect("an id");
        let pool = self.nudge.raw_store().await;
        let states =
            sqlx::query_scalar("SELECT state FROM drafts WHERE conversation_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&pool)
                .await
                .expect("drafts");
        pool.close().await;
        states
    }
}

/// The store file as plain SQLite, for what the command line does not show.
async fn open_raw(path: &Path) -> sqlx::SqlitePool {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .foreign_keys(true),
        )
        .await
        .expect("the store opens")
}

/// A `nudge sync --now NOW` that stops at the pause point `point` of its pass; the test acts
/// as the mail client, then [`Paused::finish`] lets the pass go on.
struct Paused {
    child: Child,
    marker: PathBuf,
}

impl Paused {
    async fn start(nudge: &Nudge, now: &str, point: &str) -> Paused {
        let marker = nudge.dir.path().join(format!("paused-{point}"));
        let mut child = nudge_command(Some(&nudge.config))
            .args(["sync", "--now", now])
            .env("NUDGE_PAUSE_POINT", format!("{point}:{}", marker.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nudge runs");
        let deadline = Instant::now() + Duration::from_secs(60);
        while !marker.exists() {
            if let Some(status) = child.try_wait().expect("wait") {
                let output = child.wait_with_output().expect("output");
                panic!(
                    "the pass never paused at {point} ({status}):\n{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            assert!(Instant::now() < deadline, "no pause at {point} in a minute");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Paused { child, marker }
    }

    /// Lets the pass go on and returns its output; panics when it failed.
    fn finish(self) -> String {
        std::fs::remove_file(&self.marker).expect("remove the pause marker");
        let output = self.child.wait_with_output().expect("nudge ends");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "the paused pass failed:\n{text}");
        text
    }
}

// Item 4: a draft sent (or autosaved) during a pass is never read as deleted.

#[tokio::test]
async fn a_draft_sent_while_a_pass_runs_counts_as_the_touch_in_that_pass() {
    let mut w = World::new().await;
    w.nudge.sync("2026-11-19T08:30:00+01:00");
    let draft = w.nudges_draft().await;

    // The pass has read Sent, INBOX and Drafts when the seller presses Send.
    let paused = Paused::start(&w.nudge, "2026-11-19T10:05:00+01:00", "after-sync").await;
    w.client
        .send_draft("Drafts", "Sent", &draft, "Thu, 19 Nov 2026 10:00:00 +0100")
        .await;
    let out = paused.finish();

    assert_eq!(
        w.state(),
        ("waiting".into(), 1),
        "sent, not dismissed: {out}"
    );
    assert_eq!(
        w.conversation()["next_due"],
        "2026-11-30T07:30:00Z",
        "7 business days after the send"
    );
    let history = w.history();
    assert!(!history.contains("deleted follow-up"), "{history}");
    assert!(history.contains("the seller sent follow-up 1"), "{history}");
    assert_eq!(w.draft_states().await, vec!["sent"]);
}

#[tokio::test]
async fn a_draft_autosaved_while_a_pass_runs_stays_pending() {
    let mut w = World::new().await;
    w.nudge.sync("2026-11-19T08:30:00+01:00");
    let draft = w.nudges_draft().await;

    // The client autosaves the seller's edit after the pass read Drafts.
    let paused = Paused::start(&w.nudge, "2026-11-19T11:00:00+01:00", "after-sync").await;
    w.client
        .edit_draft("Drafts", &draft, "Jeg legger ved referansen fra Statkraft.")
        .await;
    let out = paused.finish();
    assert_eq!(w.state(), ("drafted".into(), 0), "{out}");
    w.nudge.sync("2026-11-19T12:00:00+01:00");
    assert_eq!(w.state(), ("drafted".into(), 0));
    let drafts = w.drafts().await;
    assert_eq!(drafts.len(), 1, "the seller's version stays");
    assert!(drafts[0].text().contains("Statkraft"));
    assert_eq!(w.draft_states().await, vec!["edited"]);
}

#[tokio::test]
async fn a_sent_copy_that_shows_up_after_a_dismissal_revises_it() {
    let mut w = World::new().await;
    w.nudge.sync("2026-11-19T08:30:00+01:00");
    let draft = w.nudges_draft().await;

    // The seller sends at 10:00; the client removes the draft at once but saves its copy to
    // Sent only later (a phone that was offline, a slow server-side copy).
    w.client.delete("Drafts", draft.uid).await;
    w.nudge.sync("2026-11-19T10:05:00+01:00");
    assert_eq!(
        w.state(),
        ("stopped".into(), 0),
        "no sent copy in sight yet: read as dismissed"
    );
    let copy = rewrite_headers(
        &draft.text(),
        "sent.late@client.example",
        Some("Thu, 19 Nov 2026 10:00:00 +0100"),
    );
    w.client.append("Sent", &copy, &["\\Seen"]).await;
    let out = w.nudge.sync("2026-11-19T10:30:00+01:00");

    assert_eq!(
        w.state(),
        ("waiting".into(), 1),
        "the touch counts as follow-up 1: {out}"
    );
    let c = w.conversation();
    assert_eq!(c["last_touch"], "2026-11-19T09:00:00Z");
    assert_eq!(
        c["next_due"], "2026-11-30T07:30:00Z",
        "7 business days after the send"
    );
    let history = w.history();
    assert!(history.contains("the dismissal is revised"), "{history}");
    assert_eq!(w.draft_states().await, vec!["sent"]);

    // Said once; the cadence goes on from there.
    w.nudge.sync("2026-11-19T11:00:00+01:00");
    assert_eq!(w.history().matches("revised").count(), 1);
    w.nudge.sync("2026-11-30T08:30:00+01:00");
    assert_eq!(w.state(), ("drafted".into(), 1), "follow-up 2 is drafted");
}

// Item 5: a UIDVALIDITY change on Drafts.

#[tokio::test]
async fn after_drafts_uidvalidity_changes_the_draft_is_found_again_by_message_id() {
    let mut w = World::new().await;
    w.nudge.sync("2026-11-19T08:30:00+01:00");
    let draft = w.nudges_draft().await;

    // The server rebuilds Drafts (a migration, a restore): same message, new UIDVALIDITY.
    w.client.recreate("Drafts").await;
    w.client
        .append("Drafts", &draft.text(), &["\\Draft", "\\Seen"])
        .await;
    let out = w.nudge.sync("2026-11-19T09:00:00+01:00");
    assert_eq!(w.state(), ("drafted".into(), 0), "not dismissed: {out}");
    assert_eq!(w.draft_states().await, vec!["pending"]);

    // Still nudge's own draft: withdrawn when Ingrid answers.
    w.client
        .append("INBOX", &reply("Thu, 19 Nov 2026 09:10:00 +0100"), &[])
        .await;
    w.nudge.sync("2026-11-19T09:15:00+01:00");
    assert_eq!(w.state().0, "replied");
    assert!(w.drafts().await.is_empty(), "the stale follow-up is gone");
    assert_eq!(w.client.messages("Trash").await.len(), 1, "moved to Trash");
}

// Item 6: only a draft that appeared after nudge's, threaded to it, replaces it.

#[tokio::test]
async fn an_older_draft_of_the_sellers_in_the_thread_is_not_a_replacement() {
    let mut w = World::new().await;
    // Tuesday: the seller began an answer in the thread and left it in Drafts.
    let own = Message {
        from: "Kari Nordmann <kari@fjordsalg.no>",
        to: "Ingrid Berg <ingrid.berg@fjordkraft.no>",
        subject: "Re: Tilbud på rammeavtale (utkast)",
        message_id: "mine@fjordsalg.no",
        in_reply_to: Some(OPENER_ID),
        date: "Tue, 17 Nov 2026 14:00:00 +0100",
        body: "Hei Ingrid, jeg tenkte på",
        extra: "",
    };
    w.client
        .append("Drafts", &own.render(), &["\\Draft", "\\Seen"])
        .await;
    w.nudge.sync("2026-11-19T08:30:00+01:00");
    let draft = w.nudges_draft().await;

    w.client.delete("Drafts", draft.uid).await;
    let out = w.nudge.sync("2026-11-19T12:00:00+01:00");
    assert_eq!(
        w.state(),
        ("stopped".into(), 0),
        "deleting nudge's draft is a dismissal: {out}"
    );
    assert!(w.history().contains("deleted follow-up 1"));
    let left = w.drafts().await;
    assert_eq!(left.len(), 1, "the seller's own draft stays");
    assert!(left[0].text().contains("jeg tenkte p"));
    assert_eq!(w.draft_states().await, vec!["dismissed"]);
}

// Item 7: crash recovery adopts only an unedited draft.

#[tokio::test]
async fn crash_recovery_never_adopts_a_draft_the_seller_edited_under_the_same_message_id() {
    let mut w = World::new().await;
    let crashed = w.nudge.run_with_env(
        &["sync", "--now", "2026-11-19T08:30:00+01:00"],
        &[("NUDGE_FAULT_POINT", "after-append")],
    );
    assert!(
        !crashed.status.success(),
        "the fault point stops the process"
    );
    let draft = w.nudges_draft().await;

    // NeoMutt: recall the postponed draft, rewrite it, postpone it again.
    let kept = w
        .client
        .postpone_keeping_id(
            "Drafts",
            &draft,
            "Hei Ingrid,\n\nJeg har skrevet om dette selv: kan vi ta en telefon fredag?\n\nKari",
        )
        .await;
    assert_eq!(
        draft.header("Message-ID").as_deref(),
        Some(format!("<{kept}>").as_str())
    );
    let out = w.nudge.sync("2026-11-19T09:00:00+01:00");
    assert!(out.contains("edited by the seller"), "{out}");
    assert_eq!(w.state(), ("drafted".into(), 0));
    assert_eq!(w.draft_states().await, vec!["edited"]);

    // Ingrid answers: the seller's own text is never taken away.
    w.client
        .append("INBOX", &reply("Thu, 19 Nov 2026 09:10:00 +0100"), &[])
        .await;
    w.nudge.sync("2026-11-19T09:15:00+01:00");
    assert_eq!(w.state().0, "replied");
    let drafts = w.drafts().await;
    assert_eq!(drafts.len(), 1, "the seller's edit stays in Drafts");
    assert!(drafts[0].text().contains("telefon fredag"));
    assert!(w.client.messages("Trash").await.is_empty());
}

#[tokio::test]
async fn crash_recovery_adopts_its_own_unedited_draft_and_withdraws_it_later() {
    let mut w = World::new().await;
    let crashed = w.nudge.run_with_env(
        &["sync", "--now", "2026-11-19T08:30:00+01:00"],
        &[("NUDGE_FAULT_POINT", "after-append")],
    );
    assert!(!crashed.status.success());
    let out = w.nudge.sync("2026-11-19T09:00:00+01:00");
    assert!(
        out.contains("found the draft appended before a stop"),
        "{out}"
    );
    assert_eq!(w.drafts().await.len(), 1, "no second draft");
    assert_eq!(w.draft_states().await, vec!["pending"]);
    w.client
        .append("INBOX", &reply("Thu, 19 Nov 2026 09:10:00 +0100"), &[])
        .await;
    w.nudge.sync("2026-11-19T09:15:00+01:00");
    assert!(w.drafts().await.is_empty());
    assert_eq!(w.client.messages("Trash").await.len(), 1);
}

// Item 8: a failed withdrawal is retried, never recorded as done.

#[tokio::test]
async fn a_failed_withdrawal_is_retried_until_the_draft_is_gone() {
    let mut w = World::with(
        DovecotOptions {
            imap_capability: Some(WITHOUT_MOVE_AND_UIDPLUS.to_string()),
            ..DovecotOptions::default()
        },
        "",
    )
    .await;
    w.nudge.sync("2026-11-19T08:30:00+01:00");
    assert_eq!(w.drafts().await.len(), 1);
    w.client
        .append("INBOX", &reply("Thu, 19 Nov 2026 09:10:00 +0100"), &[])
        .await;
    let out = w.nudge.sync("2026-11-19T09:15:00+01:00");
    assert_eq!(w.state().0, "replied");
    assert!(out.contains("could not be withdrawn"), "{out}");
    assert_eq!(w.drafts().await.len(), 1, "still there: nothing removed it");
    assert_eq!(w.draft_states().await, vec!["removing"]);
    w.nudge.sync("2026-11-19T09:30:00+01:00");
    assert_eq!(w.drafts().await.len(), 1);
    assert!(
        w.client.messages("Trash").await.is_empty(),
        "no copy left in Trash by a removal that could not finish"
    );

    // The server gains MOVE: the next pass takes the stale follow-up away.
    w.dovecot.restart_with_capability(None);
    w.client = MailClient::connect(&w.dovecot, SELLER, PASSWORD).await;
    w.nudge.sync("2026-11-19T10:00:00+01:00");
    assert!(w.drafts().await.is_empty(), "withdrawn at a later pass");
    assert_eq!(w.client.messages("Trash").await.len(), 1);
    assert_eq!(w.draft_states().await, vec!["withdrawn"]);
}

// Item 9: the record of a draft is on disk before the APPEND.

/// The syscall a line of `strace -f` output starts with (after the pid), if it starts one.
fn syscall(line: &str) -> Option<&str> {
    let rest = line
        .trim_start()
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start();
    let name = rest.split('(').next()?;
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some(name)
}

/// SQLite's own mechanism (`synchronous = FULL` for this one commit), on SQLite whatever the
/// run's backend: PostgreSQL's commit is durable when the server answers it.
#[tokio::test]
async fn the_record_of_a_draft_is_on_disk_before_the_append() {
    let w = World::on(
        DovecotOptions::default(),
        "",
        support::stores::Backend::Sqlite,
    )
    .await;
    assert!(
        Command::new("strace").arg("-V").output().is_ok(),
        "this test needs strace (apt-get install strace; scripts/test installs it)"
    );
    let trace = w.nudge.dir.path().join("strace.txt");
    let output: Output = Command::new("strace")
        .args(["-f", "-yy", "-qq", "-o"])
        .arg(&trace)
        .args([
            "-e",
            "trace=write,pwrite64,writev,pwritev,sendto,sendmsg,fsync,fdatasync",
        ])
        .arg(nudge_binary())
        .arg("--config")
        .arg(&w.nudge.config)
        .args(["sync", "--now", "2026-11-19T08:30:00+01:00"])
        .env_remove("NUDGE_CONFIG")
        .env("NUDGE_TEST_PASSWORD", PASSWORD)
        .env("NUDGE_FAULT_POINT", "after-append")
        .output()
        .expect("strace runs");
    let text = std::fs::read_to_string(&trace).unwrap_or_default();
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("fault point after-append"),
        "stopped right after the APPEND: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let wal = format!("{}-wal>", w.nudge.store_path().display());
    let lines: Vec<&str> = text.lines().collect();
    let is = |line: &str, names: &[&str]| syscall(line).is_some_and(|s| names.contains(&s));
    let last_wal_write = lines
        .iter()
        .rposition(|l| l.contains(&wal) && is(l, &["write", "pwrite64", "writev", "pwritev"]))
        .expect("the store was written");
    let after = &lines[last_wal_write + 1..];
    let first_network_write = after
        .iter()
        .position(|l| l.contains("<TCP") && is(l, &["write", "writev", "sendto", "sendmsg"]))
        .expect("the APPEND went out after the record was written");
    let synced = after[..first_network_write]
        .iter()
        .any(|l| l.contains(&wal) && is(l, &["fsync", "fdatasync"]));
    assert!(
        synced,
        "the WAL holding the draft's record is synced before the APPEND goes out:\n{}",
        after[..after.len().min(first_network_write + 3)].join("\n")
    );
}

// The migration that brings the new draft state keeps every row.

#[tokio::test]
async fn the_draft_life_migration_keeps_every_draft() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("migrations");
    std::fs::create_dir(&old).unwrap();
    for name in ["0001_init.sql", "0002_rules.sql"] {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(name),
            old.join(name),
        )
        .unwrap();
    }
    let path = dir.path().join("nudge.db");
    let pool = open_raw(&path).await;
    sqlx::migrate::Migrator::new(old.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let at = "2026-11-19T07:30:00+00:00";
    sqlx::query("INSERT INTO threads (id, created_at) VALUES (1, ?)")
        .bind(at)
        .execute(&pool)
        .await
        .unwrap();
    // One conversation per draft: at most one draft of a conversation is active.
    for id in 5..11 {
        sqlx::query("INSERT INTO threads (id, created_at) VALUES (?, ?)")
            .bind(id)
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO conversations (id, thread_id, state, first_touch_at, last_touch_at,
                 created_at, updated_at) VALUES (?, ?, 'drafted', ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(id)
        .bind(at)
        .bind(at)
        .bind(at)
        .bind(at)
        .execute(&pool)
        .await
        .unwrap();
    }
    let states = [
        "appending",
        "pending",
        "edited",
        "sent",
        "withdrawn",
        "dismissed",
    ];
    for (i, state) in states.iter().enumerate() {
        sqlx::query(
            "INSERT INTO drafts (id, conversation_id, step, template, variant, language,
                 message_id, folder, uidvalidity, uid, state, created_at, resolved_at)
             VALUES (?, ?, 1, 'followup-1', 2, 'nb', ?, 'Drafts', 7, ?, ?, ?, NULL)",
        )
        .bind(10 + i as i64)
        .bind(5 + i as i64)
        .bind(format!("d{i}@fjordsalg.no"))
        .bind(100 + i as i64)
        .bind(state)
        .bind(at)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;

    let store = Store::open(&path).await.expect("migrates");
    assert!(
        store.applied_migrations().await.unwrap().contains(&3),
        "the draft life migration ran"
    );
    let mut drafts = Vec::new();
    for id in 5..11 {
        drafts.extend(store.drafts_of(id).await.unwrap());
    }
    assert_eq!(drafts.len(), states.len());
    for (i, d) in drafts.iter().enumerate() {
        assert_eq!(d.id, 10 + i as i64);
        assert_eq!(d.state.as_str(), states[i]);
        assert_eq!(d.message_id, format!("d{i}@fjordsalg.no"));
        assert_eq!((d.uidvalidity, d.uid), (Some(7), Some(100 + i as u32)));
        assert_eq!((d.variant, d.language.as_str()), (2, "nb"));
    }
    store.integrity_check().await.unwrap();
    store.close().await;

    // The new state is allowed now; the new columns start empty.
    let pool = open_raw(&path).await;
    sqlx::query("UPDATE drafts SET state = 'removing' WHERE id = 11")
        .execute(&pool)
        .await
        .expect("'removing' is a draft state");
    let fresh: Vec<(Option<String>, i64)> =
        sqlx::query_as("SELECT fingerprint, removal_attempts FROM drafts ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("the new columns");
    assert!(fresh.iter().all(|row| *row == (None, 0)), "{fresh:?}");
    pool.close().await;
}
