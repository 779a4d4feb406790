//! The store: created private, WAL, migrations that keep data, append-only history. The tests
//! of files and of SQLite's own migrations are SQLite's; the others run on the backend the
//! suite tests (`NUDGE_TEST_STORE`).

mod support;

use std::os::unix::fs::PermissionsExt;

use chrono::{TimeZone, Utc};
use nudge::store::Store;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn database_is_created_private_in_a_private_folder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/nudge/nudge.db");
    let store = Store::open(&path).await.expect("store opens");
    assert_eq!(mode(&path), 0o600, "database file");
    assert_eq!(mode(path.parent().unwrap()), 0o700, "its folder");
    store
        .suppress("x@example.com", "manual", Utc::now())
        .await
        .unwrap();
    let wal = dir.path().join("state/nudge/nudge.db-wal");
    assert!(wal.exists(), "WAL mode keeps a -wal file while open");
    assert_eq!(mode(&wal), 0o600, "the WAL file is private too");
    store
        .integrity_check()
        .await
        .expect("integrity check passes");
    store.close().await;
}

#[tokio::test]
async fn an_existing_loose_file_is_tightened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nudge.db");
    std::fs::write(&path, b"").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = Store::open(&path)
        .await
        .expect("an empty file becomes a store");
    assert_eq!(mode(&path), 0o600);
    store.close().await;
}

#[tokio::test]
async fn reopening_reruns_migrations_and_keeps_rows() {
    let dir = tempfile::tempdir().unwrap();
    let config = support::stores::fresh_config(dir.path());
    let at = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap();
    let store = Store::connect(&config).await.unwrap();
    let migrations = store.applied_migrations().await.unwrap();
    assert!(!migrations.is_empty());
    assert!(store
        .suppress("Ingrid@Fjordkraft.example", "bounced", at)
        .await
        .unwrap());
    assert!(!store
        .suppress("ingrid@fjordkraft.example", "manual", at)
        .await
        .unwrap());
    store
        .meta_set_once("first_started_at", "2026-11-20T09:00:00Z")
        .await
        .unwrap();
    store.close().await;

    for _ in 0..2 {
        let store = Store::connect(&config).await.expect("reopens");
        assert_eq!(store.applied_migrations().await.unwrap(), migrations);
        let list = store.suppressions().await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].address, "ingrid@fjordkraft.example");
        assert_eq!(list[0].reason, "bounced", "the first reason is kept");
        assert_eq!(list[0].added_at, at);
        assert_eq!(
            store
                .meta_set_once("first_started_at", "later")
                .await
                .unwrap(),
            "2026-11-20T09:00:00Z",
            "set once, never moved"
        );
        store.close().await;
    }
}

#[tokio::test]
async fn suppressing_a_domain_covers_its_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let store = support::stores::fresh(dir.path()).await;
    store
        .suppress("competitor.example", "manual", Utc::now())
        .await
        .unwrap();
    assert!(store
        .is_suppressed("anna@competitor.example")
        .await
        .unwrap());
    assert!(!store.is_suppressed("anna@customer.example").await.unwrap());
    assert!(store.unsuppress("competitor.example").await.unwrap());
    assert!(!store.unsuppress("competitor.example").await.unwrap());
    assert!(!store
        .is_suppressed("anna@competitor.example")
        .await
        .unwrap());
}

#[tokio::test]
async fn history_is_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let config = support::stores::fresh_config(dir.path());
    let store = Store::connect(&config).await.unwrap();
    store.close().await;
    // Use a raw connection, as a careless tool would, to show the database itself refuses.
    let pool = support::stores::raw(&config).await;
    sqlx::query("INSERT INTO events (conversation_id, at, kind) VALUES (NULL, 0, 'test')")
        .execute(&pool)
        .await
        .unwrap();
    assert_history_refuses_changes(&pool).await;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn a_summary_attempt_is_claimed_once_and_again_only_after_a_certain_failure() {
    let dir = tempfile::tempdir().unwrap();
    let store = support::stores::fresh(dir.path()).await;
    let at = |m: u32| Utc.with_ymd_and_hms(2026, 11, 23, 6, m, 0).unwrap();
    let week = "2026-W48";
    let first = store
        .begin_summary(week, "a@x", at(30), false)
        .await
        .unwrap();
    assert_eq!(first.map(|a| a.number), Some(1));
    // In flight: nobody else gets it, not even `summary --send`.
    assert!(store
        .begin_summary(week, "b@x", at(31), true)
        .await
        .unwrap()
        .is_none());
    // Certainly failed: again from the retry time, with the first Message-ID.
    store
        .summary_failed(week, "connection refused", Some(at(35)), at(30))
        .await
        .unwrap();
    let record = store.summary_record(week).await.unwrap().unwrap();
    assert!(record.may_retry() && !record.is_sent());
    assert_eq!(record.retry_after, Some(at(35)));
    assert_eq!(record.last_error.as_deref(), Some("connection refused"));
    assert!(store
        .begin_summary(week, "c@x", at(34), false)
        .await
        .unwrap()
        .is_none());
    let second = store
        .begin_summary(week, "c@x", at(35), false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((second.number, second.message_id.as_str()), (2, "a@x"));
    assert!(store
        .begin_summary(week, "d@x", at(50), false)
        .await
        .unwrap()
        .is_none());
    // The outcome is unknown: never again, even when asked to.
    store
        .summary_failed(week, "connection lost after DATA", None, at(36))
        .await
        .unwrap();
    let record = store.summary_record(week).await.unwrap().unwrap();
    assert!(!record.may_retry());
    assert_eq!(record.attempts, 2);
    assert!(store
        .begin_summary(week, "e@x", at(59), true)
        .await
        .unwrap()
        .is_none());
    // Another week is another summary; a sent one is done.
    let next = store
        .begin_summary("2026-W49", "f@x", at(59), false)
        .await
        .unwrap();
    assert_eq!(next.map(|a| a.number), Some(1));
    store.summary_sent("2026-W49", at(59)).await.unwrap();
    assert!(store
        .summary_record("2026-W49")
        .await
        .unwrap()
        .unwrap()
        .is_sent());
    store.close().await;
}

/// A SQLite store at `path` as the migrations up to `version` left it, opened without nudge.
async fn store_of_version(path: &std::path::Path, version: i64) -> sqlx::SqlitePool {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    up_to(sqlx::migrate!("./migrations"), version)
        .run(&pool)
        .await
        .unwrap();
    pool
}

/// A connection to the store `config` names, made by the migrations up to `sqlite` on SQLite
/// or up to `postgres` on PostgreSQL (in the account's schema): a store an earlier nudge left.
async fn raw_store_of_version(
    config: &nudge::config::StoreConfig,
    sqlite: i64,
    postgres: i64,
) -> sqlx::AnyPool {
    match &config.postgres {
        None => {
            let pool = store_of_version(&config.path, sqlite).await;
            pool.close().await;
            support::stores::raw(config).await
        }
        Some(account) => {
            let pool = support::stores::raw(config).await;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "CREATE SCHEMA \"{}\"",
                account.schema
            )))
            .execute(&pool)
            .await
            .unwrap();
            up_to(sqlx::migrate!("./migrations/postgres"), postgres)
                .run(&pool)
                .await
                .unwrap();
            pool
        }
    }
}

/// The store itself refuses to change or delete a history row.
async fn assert_history_refuses_changes(pool: &sqlx::AnyPool) {
    let update = sqlx::query("UPDATE events SET kind = 'changed'")
        .execute(pool)
        .await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM events").execute(pool).await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}

/// The instant an RFC 3339 text names.
fn time(text: &str) -> chrono::DateTime<Utc> {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// A store of an earlier version (`sqlite`, `postgres`) in `dir`, raw, with thread 1.
async fn old_store_with_a_thread(
    dir: &tempfile::TempDir,
    sqlite: i64,
    postgres: i64,
) -> (nudge::config::StoreConfig, sqlx::AnyPool) {
    let config = support::stores::fresh_config(dir.path());
    let pool = raw_store_of_version(&config, sqlite, postgres).await;
    sqlx::query("INSERT INTO threads (id) VALUES (1)")
        .execute(&pool)
        .await
        .unwrap();
    (config, pool)
}

/// `migrator`'s migrations up to `version`, every one of them.
fn up_to(mut migrator: sqlx::migrate::Migrator, version: i64) -> sqlx::migrate::Migrator {
    let before: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version <= version)
        .cloned()
        .collect();
    assert_eq!(before.len(), version as usize);
    migrator.migrations = before.into();
    migrator
}

/// A store that migration 0006 left, with a conversation, its draft and its history, takes
/// the states of what the prospect said (0007) and keeps every row and every reference.
#[tokio::test]
async fn a_store_of_the_previous_version_gains_the_new_states_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nudge.db");
    let pool = store_of_version(&path, 6).await;
    for sql in [
        "INSERT INTO threads (id, created_at) VALUES (1, '2026-06-01T09:00:00+00:00')",
        "INSERT INTO conversations (id, thread_id, subject, prospects, state, step, first_touch_at,
             last_touch_at, created_at, updated_at, version)
         VALUES (4, 1, 'Tilbud', '[\"ingrid@fjordkraft.example\"]', 'drafted', 1,
             '2026-06-01T09:00:00+00:00', '2026-06-01T09:00:00+00:00',
             '2026-06-01T09:00:00+00:00', '2026-06-01T09:00:00+00:00', 3)",
        "INSERT INTO drafts (conversation_id, step, template, message_id, state, created_at)
         VALUES (4, 1, 'followup-1', '<d1@fjordsalg.example>', 'pending',
             '2026-06-04T07:30:00+00:00')",
        "INSERT INTO events (conversation_id, at, kind, detail, step)
         VALUES (4, '2026-06-01T09:00:00+00:00', 'tracked', 'the seller wrote', 0)",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    pool.close().await;

    let store = Store::open(&path).await.expect("migrates");
    assert!(store.applied_migrations().await.unwrap().contains(&7));
    let mut conversation = store.conversation(4).await.unwrap().expect("kept");
    assert_eq!(conversation.state, nudge::model::State::Drafted);
    assert_eq!((conversation.step, conversation.version), (1, 3));
    assert_eq!(store.events(4).await.unwrap().len(), 1);
    assert!(store.waiting_draft(4).await.unwrap().is_some());
    // The new states are allowed, and what was heard is kept with them.
    conversation.state = nudge::model::State::Departed;
    conversation.heard.departure = Some(nudge::model::Departure {
        phrase: "har sluttet".into(),
        replacements: vec!["per@fjordkraft.example".into()],
    });
    let event = nudge::model::Event {
        at: Utc.with_ymd_and_hms(2026, 6, 8, 9, 0, 0).unwrap(),
        kind: nudge::model::EventKind::Departed,
        detail: "has left".into(),
        step: None,
    };
    let now = Utc.with_ymd_and_hms(2026, 6, 8, 9, 0, 0).unwrap();
    store
        .commit_effects(
            None,
            &[nudge::rules::Effect::Update(conversation.clone(), event)],
            now,
        )
        .await
        .unwrap();
    let read = store.conversation(4).await.unwrap().unwrap();
    assert_eq!(read.state, nudge::model::State::Departed);
    assert_eq!(read.heard, conversation.heard);
    assert!(store.integrity_check().await.is_ok());
    store.close().await;
}

/// Migration 0007 commits its own work (it must switch foreign keys off, which a transaction
/// cannot) and is recorded after. A process killed between the two leaves the schema changed
/// and the migration unrecorded: the next start records it and goes on, instead of running it
/// again into "duplicate column" and refusing to start for good.
#[tokio::test]
async fn a_migration_that_committed_but_was_not_recorded_is_recorded_on_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nudge.db");
    let pool = store_of_version(&path, 6).await;
    let all = sqlx::migrate!("./migrations");
    sqlx::query("INSERT INTO suppressions (address, reason, added_at) VALUES (?, 'manual', ?)")
        .bind("ingrid@fjordkraft.example")
        .bind("2026-06-01T09:00:00+00:00")
        .execute(&pool)
        .await
        .unwrap();
    // What a kill right after the migration's COMMIT leaves: its work, and no record of it.
    let heard = all.migrations.iter().find(|m| m.version == 7).unwrap();
    assert!(heard.no_tx, "0007 runs outside a transaction");
    sqlx::raw_sql(heard.sql.clone())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let store = Store::open(&path)
        .await
        .expect("starts after a kill between the migration and its record");
    let applied = store.applied_migrations().await.unwrap();
    let every: Vec<i64> = all.migrations.iter().map(|m| m.version).collect();
    assert_eq!(applied, every, "0007 recorded and the later ones applied");
    let list = store.suppressions().await.unwrap();
    assert_eq!(list.len(), 1, "rows kept");
    assert!(store.integrity_check().await.is_ok());
    store.close().await;
    // And it stays startable.
    let store = Store::open(&path).await.expect("reopens");
    assert_eq!(store.applied_migrations().await.unwrap(), every);
    store.close().await;
}

/// A store in `dir` following one conversation per entry of `prospects`, with those
/// prospects, in threads 1, 2, … (conversation ids the same), tracked on 1 November 2026.
async fn tracking(dir: &tempfile::TempDir, prospects: &[&[&str]]) -> Store {
    let config = support::stores::fresh_config(dir.path());
    let store = Store::connect(&config).await.unwrap();
    let at = Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap();
    let pool = support::stores::raw(&config).await;
    for (thread, prospects) in (1_i64..).zip(prospects) {
        sqlx::query("INSERT INTO threads (id) VALUES ($1)")
            .bind(thread)
            .execute(&pool)
            .await
            .unwrap();
        let conversation = nudge::model::Conversation::new(
            thread,
            &format!("Thread {thread}"),
            prospects.iter().map(|p| p.to_string()).collect(),
            at,
            None,
        );
        let event = nudge::model::Event {
            at,
            kind: nudge::model::EventKind::Tracked,
            detail: "tracked".into(),
            step: None,
        };
        store
            .commit_effects(
                None,
                &[nudge::rules::Effect::Track(conversation, event)],
                at,
            )
            .await
            .unwrap();
    }
    pool.close().await;
    store
}

/// A pass of a few messages loads only the conversations they can concern: by thread, by a
/// prospect's address, or by a prospect's organisation (its subdomains too, never a domain
/// that merely contains its name).
#[tokio::test]
async fn the_conversations_a_message_can_concern_are_found_by_thread_address_and_organisation() {
    let dir = tempfile::tempdir().unwrap();
    let prospects: [&[&str]; 5] = [
        &["ola@fjordkraft.no"],
        &["kari@salg.fjordkraft.no", "per@other.example"],
        &["anne@fjordkraft.no.example"],
        &["\"odd \\\" name\"@mail.example"],
        &["bo@gmail.com"],
    ];
    let store = tracking(&dir, &prospects).await;
    let threads_of = |found: Vec<nudge::model::Conversation>| -> Vec<i64> {
        found.iter().map(|c| c.thread_id).collect()
    };
    let strings = |list: &[&str]| -> Vec<String> { list.iter().map(|s| s.to_string()).collect() };
    let found = store
        .conversations_concerning(&[], &[], &strings(&["per@other.example"]), &[])
        .await
        .unwrap();
    assert_eq!(threads_of(found), vec![2]);
    let found = store
        .conversations_concerning(&[], &[], &[], &strings(&["fjordkraft.no"]))
        .await
        .unwrap();
    assert_eq!(threads_of(found), vec![1, 2]);
    // By a public suffix (a team's suppression of a whole country), which has no rows.
    for (suffix, threads) in [("no", vec![1, 2]), ("example", vec![2, 3, 4])] {
        let found = store
            .conversations_concerning(&[], &[], &[], &strings(&[suffix]))
            .await
            .unwrap();
        assert_eq!(threads_of(found), threads, "{suffix}");
    }
    let found = store
        .conversations_concerning(
            &[5],
            &[],
            &strings(&["\"odd \\\" name\"@mail.example"]),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(threads_of(found), vec![4, 5]);
    let found = store
        .conversations_concerning(
            &[],
            &[],
            &strings(&["ola@nowhere.example"]),
            &strings(&["nowhere.example"]),
        )
        .await
        .unwrap();
    assert!(found.is_empty());
    store.close().await;
}

/// Where prospects are is kept with the conversation: a prospect added or replaced (a
/// departure's replacement) is found by its own organisation at once, and the one gone no
/// longer finds the conversation.
#[tokio::test]
async fn a_conversation_is_found_by_its_prospects_as_they_change() {
    let dir = tempfile::tempdir().unwrap();
    let store = tracking(&dir, &[&["ola@fjordkraft.no"], &["kari@havbruk.example"]]).await;
    let by_organisation = |organisation: &'static str| {
        let store = &store;
        async move {
            store
                .conversations_concerning(&[], &[], &[], &[organisation.to_string()])
                .await
                .unwrap()
                .iter()
                .map(|c| c.id)
                .collect::<Vec<i64>>()
        }
    };
    assert_eq!(by_organisation("fjordkraft.no").await, vec![1]);
    let mut conversation = store.conversation(1).await.unwrap().unwrap();
    conversation.prospects = vec!["per@salg.nordlys.example".into()];
    let now = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
    let event = nudge::model::Event {
        at: now,
        kind: nudge::model::EventKind::Departed,
        detail: "has left".into(),
        step: None,
    };
    store
        .commit_effects(
            None,
            &[nudge::rules::Effect::Update(conversation, event)],
            now,
        )
        .await
        .unwrap();
    assert!(by_organisation("fjordkraft.no").await.is_empty());
    assert_eq!(by_organisation("nordlys.example").await, vec![1]);
    assert_eq!(by_organisation("havbruk.example").await, vec![2]);
    let found = store
        .conversations_concerning(&[], &[], &["per@salg.nordlys.example".into()], &[])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    store.close().await;
}

/// A store made before nudge kept where prospects are learns it when it is opened: its
/// conversations are found by address and by organisation as before.
#[tokio::test]
async fn a_store_of_version_12_finds_its_conversations_by_organisation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nudge.db");
    let pool = store_of_version(&path, 12).await;
    for sql in [
        "INSERT INTO threads (id, created_at) VALUES (1, '2026-06-01T09:00:00+00:00')",
        "INSERT INTO threads (id, created_at) VALUES (2, '2026-06-01T09:00:00+00:00')",
        "INSERT INTO conversations (id, thread_id, subject, prospects, state, step, first_touch_at,
             last_touch_at, created_at, updated_at, version)
         VALUES (4, 1, 'Tilbud', '[\"ingrid@salg.fjordkraft.example\", \"bo@other.example\"]',
             'waiting', 0, '2026-06-01T09:00:00+00:00', '2026-06-01T09:00:00+00:00',
             '2026-06-01T09:00:00+00:00', '2026-06-01T09:00:00+00:00', 1)",
        "INSERT INTO conversations (id, thread_id, subject, prospects, state, step, first_touch_at,
             last_touch_at, created_at, updated_at, version)
         VALUES (5, 2, 'Avtale', '[\"per@fjordkraft.example.net\"]',
             'waiting', 0, '2026-06-01T09:00:00+00:00', '2026-06-01T09:00:00+00:00',
             '2026-06-01T09:00:00+00:00', '2026-06-01T09:00:00+00:00', 1)",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let store = Store::open(&path).await.expect("migrates");
    let ids = |found: Vec<nudge::model::Conversation>| -> Vec<i64> {
        found.iter().map(|c| c.id).collect()
    };
    let found = store
        .conversations_concerning(&[], &[], &[], &["fjordkraft.example".into()])
        .await
        .unwrap();
    assert_eq!(ids(found), vec![4]);
    let found = store
        .conversations_concerning(&[], &[], &["bo@other.example".into()], &[])
        .await
        .unwrap();
    assert_eq!(ids(found), vec![4]);
    let found = store
        .conversations_concerning(&[], &[], &[], &["example.net".into()])
        .await
        .unwrap();
    assert_eq!(ids(found), vec![5]);
    store.close().await;
}

/// A store made before Message-IDs were threaded by key keeps its threads: on SQLite a store
/// that migration 15 left with `thread_ids` still whole (a process stopped before nudge moved
/// its rows, or one that never got that far), on PostgreSQL one of schema version 3, whose
/// migration computes the keys in SQL. Each id, ASCII or not, finds its thread by the key nudge
/// computes, and `thread_ids` is gone.
#[tokio::test]
async fn a_store_threaded_by_message_id_text_is_threaded_by_key_after_opening() {
    let dir = tempfile::tempdir().unwrap();
    let config = support::stores::fresh_config(dir.path());
    let pool = raw_store_of_version(&config, 15, 3).await;
    let ids = [
        ("c1.t0@fjordsalg.no", 1),
        ("c1.t1@fjordkraft.example", 1),
        ("ø@æ.example", 2),
        ("gm:1234", 2),
    ];
    for thread in [1_i64, 2] {
        sqlx::query("INSERT INTO threads (id) VALUES ($1)")
            .bind(thread)
            .execute(&pool)
            .await
            .unwrap();
    }
    for (id, thread) in ids {
        sqlx::query("INSERT INTO thread_ids (message_id, thread_id) VALUES ($1, $2)")
            .bind(id)
            .bind(thread)
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;

    let store = Store::connect(&config).await.expect("migrates");
    for (id, thread) in ids {
        assert_eq!(store.thread_of(id).await.unwrap(), Some(thread), "{id}");
    }
    assert_eq!(store.thread_of("C1.t0@fjordsalg.no").await.unwrap(), None);
    assert_eq!(store.thread_of("nowhere@example.net").await.unwrap(), None);
    store.close().await;
    let pool = support::stores::raw(&config).await;
    let left: Result<i64, _> = sqlx::query_scalar("SELECT COUNT(*) FROM thread_ids")
        .fetch_one(&pool)
        .await;
    assert!(left.is_err(), "thread_ids is dropped: {left:?}");
    let keys: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM thread_keys")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(keys, 4);
    pool.close().await;
}

/// A store that kept message times as RFC 3339 text (SQLite before migration 16, PostgreSQL
/// before 5) reads the same instants after opening (to the second, as the store keeps times
/// since migrations 17 and 6), and orders them as before; a time a database cannot read (a
/// year beyond 9999) takes the message's other.
#[tokio::test]
async fn message_times_kept_as_text_read_the_same_after_opening() {
    let dir = tempfile::tempdir().unwrap();
    let (config, pool) = old_store_with_a_thread(&dir, 15, 4).await;
    let rows: [(i64, &str, Option<&str>, i64); 5] = [
        (
            1,
            "2016-11-21T12:02:00+00:00",
            Some("2016-11-21T12:03:00+00:00"),
            0,
        ),
        (
            2,
            "2026-12-03T11:26:55.999999700+00:00",
            Some("2026-12-03T11:26:55.268+00:00"),
            0,
        ),
        (
            3,
            "+20000-01-01T00:00:00+00:00",
            Some("2015-01-01T00:00:00+00:00"),
            0,
        ),
        (4, "2020-02-29T23:59:59.5+00:00", None, 1),
        // A hostile server's INTERNALDATE of the year 0, which PostgreSQL cannot read.
        (
            5,
            "0000-01-01T00:00:00+00:00",
            Some("0000-01-01T00:00:00+00:00"),
            1,
        ),
    ];
    for (id, date, arrived, processed) in rows {
        sqlx::query(
            "INSERT INTO messages (id, folder, uidvalidity, uid, thread_id, message_id, date,
                 arrived, processed)
             VALUES ($1, 'INBOX', 7, $2, 1, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(id)
        .bind(format!("m{id}@fjordkraft.example"))
        .bind(date)
        .bind(arrived)
        .bind(processed)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;

    let store = Store::connect(&config).await.expect("migrates");
    let read = |id| {
        let store = &store;
        async move { store.message(id).await.unwrap().expect("kept") }
    };
    let m = read(1).await;
    assert_eq!(m.date, time("2016-11-21T12:02:00Z"));
    assert_eq!(m.arrived, time("2016-11-21T12:03:00Z"));
    let m = read(2).await;
    assert_eq!(m.date, time("2026-12-03T11:26:55Z"), "cut, not rounded");
    assert_eq!(m.arrived, time("2026-12-03T11:26:55Z"));
    let m = read(3).await;
    assert_eq!(m.date, time("2015-01-01T00:00:00Z"), "an unreadable Date");
    assert_eq!(m.arrived, time("2015-01-01T00:00:00Z"));
    let m = read(4).await;
    assert_eq!(m.date, time("2020-02-29T23:59:59Z"));
    assert_eq!(m.arrived, m.date, "no arrival reads as the date");
    let m = read(5).await;
    assert!(m.date <= time("1970-01-01T00:00:00Z"), "{}", m.date);
    let order = support::stores::unprocessed_ids(&store).await;
    assert_eq!(order, [3, 1, 2], "by arrival");
    let order: Vec<i64> = store
        .thread_messages(1)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(order, [5, 3, 1, 4, 2], "by date");
    store.integrity_check().await.unwrap();
    store.close().await;
}

/// A store that kept conversations' and history times as RFC 3339 text and message times as
/// microseconds (SQLite before migration 17, PostgreSQL before 6) reads the same instants
/// after opening, to the second, orders and compares them as before, and its history is
/// still append-only; a time a database cannot read is none where a conversation may lack
/// it, else the epoch.
#[tokio::test]
async fn conversation_times_kept_as_text_read_the_same_after_opening() {
    let dir = tempfile::tempdir().unwrap();
    let config = support::stores::fresh_config(dir.path());
    let pool = raw_store_of_version(&config, 16, 5).await;
    // Id, first and last touch, last inbound, next due, waiting from.
    type Times<'a> = (
        i64,
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    );
    let conversations: [Times; 3] = [
        (
            1,
            "2026-11-02T09:00:00+00:00",
            "2026-11-04T10:15:30.999999700+00:00",
            Some("2026-11-05T08:00:00.25+00:00"),
            Some("2026-11-09T07:00:00+00:00"),
            Some("2026-11-04T10:15:30+00:00"),
        ),
        (
            2,
            "2026-10-01T09:00:00+00:00",
            "2026-10-01T09:00:00+00:00",
            None,
            Some("2026-11-06T07:00:00+00:00"),
            None,
        ),
        // Text neither database reads: a forged year, the year 0.
        (
            3,
            "0000-01-01T00:00:00+00:00",
            "2026-10-01T09:00:00+00:00",
            Some("+20000-01-01T00:00:00+00:00"),
            Some("+20000-01-01T00:00:00+00:00"),
            None,
        ),
    ];
    for (id, first, last, inbound, due, wait_from) in conversations {
        sqlx::query("INSERT INTO threads (id) VALUES ($1)")
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO conversations (id, thread_id, state, first_touch_at, last_touch_at,
                 last_inbound_at, next_due, wait_from, snoozed_until, created_at, updated_at,
                 version, planned_version, due_draft)
             VALUES ($1, $2, 'waiting', $3, $4, $5, $6, $7, NULL, $8, $9, 2, 2, 1)",
        )
        .bind(id)
        .bind(id)
        .bind(first)
        .bind(last)
        .bind(inbound)
        .bind(due)
        .bind(wait_from)
        .bind(first)
        .bind(last)
        .execute(&pool)
        .await
        .unwrap();
    }
    // Message times in microseconds, from before and after 1970: rounded down.
    for (id, micros) in [(1, 1_764_761_215_999_999_i64), (2, -1_500_000)] {
        sqlx::query(
            "INSERT INTO messages (id, folder, uidvalidity, uid, thread_id, message_id, date,
                 arrived, processed)
             VALUES ($1, 'INBOX', 7, $2, 1, $3, $4, $5, 1)",
        )
        .bind(id)
        .bind(id)
        .bind(format!("m{id}@fjordkraft.example"))
        .bind(micros)
        .bind(micros + 60_000_000)
        .execute(&pool)
        .await
        .unwrap();
    }
    for (conversation, at, kind) in [
        (1, "2026-11-02T09:00:00+00:00", "tracked"),
        (1, "2026-11-04T10:15:30.5+00:00", "touch"),
        (2, "2026-10-01T09:00:00+00:00", "tracked"),
        (3, "+20000-01-01T00:00:00+00:00", "tracked"),
    ] {
        sqlx::query(
            "INSERT INTO events (conversation_id, at, kind, detail, step)
             VALUES ($1, $2, $3, 'as it was', 0)",
        )
        .bind(conversation)
        .bind(at)
        .bind(kind)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;

    let store = Store::connect(&config).await.expect("migrates");
    let one = store.conversation(1).await.unwrap().expect("kept");
    assert_eq!(one.first_touch_at, time("2026-11-02T09:00:00Z"));
    assert_eq!(
        one.last_touch_at,
        time("2026-11-04T10:15:30Z"),
        "cut, not rounded"
    );
    assert_eq!(one.last_inbound_at, Some(time("2026-11-05T08:00:00Z")));
    assert_eq!(one.next_due, Some(time("2026-11-09T07:00:00Z")));
    assert_eq!(one.wait_from, Some(time("2026-11-04T10:15:30Z")));
    assert_eq!((one.snoozed_until, one.version), (None, 2));
    let two = store.conversation(2).await.unwrap().expect("kept");
    assert_eq!((two.last_inbound_at, two.wait_from), (None, None));
    let three = store.conversation(3).await.unwrap().expect("kept");
    assert!(three.first_touch_at <= time("1970-01-01T00:00:00Z"));
    assert_eq!((three.last_inbound_at, three.next_due), (None, None));

    let m = store.message(1).await.unwrap().expect("kept");
    assert_eq!(m.date, time("2025-12-03T11:26:55Z"));
    assert_eq!(m.arrived, time("2025-12-03T11:27:55Z"));
    let m = store.message(2).await.unwrap().expect("kept");
    assert_eq!(m.date, time("1969-12-31T23:59:58Z"));
    assert_eq!(m.arrived, time("1970-01-01T00:00:58Z"));

    // Compared as times: the earliest due after the 5th is the 6th, then the 9th.
    let due = store
        .next_planned_due(time("2026-11-05T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(due, Some(time("2026-11-06T07:00:00Z")));
    let due = store
        .next_planned_due(time("2026-11-06T07:00:00Z"))
        .await
        .unwrap();
    assert_eq!(due, Some(time("2026-11-09T07:00:00Z")));
    let history = store.events(1).await.unwrap();
    let at: Vec<_> = history.iter().map(|e| e.at).collect();
    assert_eq!(
        at,
        [time("2026-11-02T09:00:00Z"), time("2026-11-04T10:15:30Z")]
    );
    assert_eq!(history[1].detail, "as it was");
    let between = store
        .events_between(time("2026-10-01T09:00:00Z"), time("2026-11-04T10:15:30Z"))
        .await
        .unwrap();
    let ids: Vec<i64> = between.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [2, 1], "from the first instant, up to the last");
    store.integrity_check().await.unwrap();
    store.close().await;

    let pool = support::stores::raw(&config).await;
    assert_history_refuses_changes(&pool).await;
    pool.close().await;
}

/// A store that kept message classes by name (SQLite before migration 19, PostgreSQL before
/// 8) reads the same classes after opening; a name no nudge wrote reads as none, as before.
#[tokio::test]
async fn message_classes_kept_by_name_read_the_same_after_opening() {
    use nudge::model::MessageClass;
    let dir = tempfile::tempdir().unwrap();
    let (config, pool) = old_store_with_a_thread(&dir, 18, 7).await;
    let classes = [
        Some("bounce"),
        Some("auto_reply"),
        Some("opt_out"),
        Some("reply"),
        Some("automated"),
        Some("from a newer nudge"),
        None,
    ];
    for (id, class) in (1_i64..).zip(classes) {
        sqlx::query(
            "INSERT INTO messages (id, folder, uidvalidity, uid, thread_id, message_id, date,
                 arrived, class, processed)
             VALUES ($1, 'INBOX', 7, $2, 1, $3, 0, 0, $4, 1)",
        )
        .bind(id)
        .bind(id)
        .bind(format!("m{id}@fjordkraft.example"))
        .bind(class)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;
    let store = Store::connect(&config).await.expect("migrates");
    let mut read = Vec::new();
    for id in 1..=7 {
        read.push(store.message(id).await.unwrap().expect("kept").class);
    }
    assert_eq!(
        read,
        [
            Some(MessageClass::Bounce),
            Some(MessageClass::AutoReply),
            Some(MessageClass::OptOut),
            Some(MessageClass::Reply),
            Some(MessageClass::Automated),
            None,
            None
        ]
    );
    store.integrity_check().await.unwrap();
    store.close().await;
}

/// A pass plans again only the open conversations changed since they were planned, those
/// due by now to be let go, and of those due a draft, as many as the day has room for (the
/// first due); the others' due times still count for when to wake.
#[tokio::test]
async fn only_changed_and_due_conversations_are_planned_again() {
    use nudge::store::Planned;
    let dir = tempfile::tempdir().unwrap();
    let at = |day: u32| Utc.with_ymd_and_hms(2026, 11, day, 9, 0, 0).unwrap();
    let prospects: Vec<String> = (1..=5).map(|n| format!("p{n}@fjordkraft.no")).collect();
    let prospects: Vec<[&str; 1]> = prospects.iter().map(|p| [p.as_str()]).collect();
    let prospects: Vec<&[&str]> = prospects.iter().map(|p| &p[..]).collect();
    let store = tracking(&dir, &prospects).await;
    let ids = |read: &nudge::store::ToPlan| -> Vec<i64> {
        read.conversations.iter().map(|c| c.id).collect()
    };
    // Never planned: every one, and none of them counts as planned.
    let read = store.conversations_to_plan(at(2), 20).await.unwrap();
    assert_eq!(ids(&read), vec![1, 2, 3, 4, 5]);
    assert!(read.planned.is_empty());
    assert_eq!(read.more_due, 0);
    assert_eq!(store.next_planned_due(at(2)).await.unwrap(), None);
    // A draft due on the 5th (1) and the 6th (5), letting go on the 10th (2), nothing (3),
    // and 4 planned at a version it no longer has.
    let version = store.conversation(1).await.unwrap().unwrap().version;
    let planned = |id, day: Option<u32>, draft, version| Planned {
        id,
        version,
        due: day.map(at),
        draft,
    };
    store
        .set_planned(&[
            planned(1, Some(5), true, version),
            planned(2, Some(10), false, version),
            planned(3, None, false, version),
            planned(4, Some(3), true, version + 1),
            planned(5, Some(6), true, version),
        ])
        .await
        .unwrap();
    let read = store.conversations_to_plan(at(2), 20).await.unwrap();
    assert_eq!(ids(&read), vec![4]);
    assert!(read.planned.is_empty());
    assert_eq!(store.next_planned_due(at(2)).await.unwrap(), Some(at(5)));
    // On the 7th both drafts are due; with room for one, the first due is read and the
    // other counted.
    let read = store.conversations_to_plan(at(7), 1).await.unwrap();
    assert_eq!(ids(&read), vec![1, 4]);
    assert_eq!(read.planned.iter().copied().collect::<Vec<_>>(), vec![1]);
    assert_eq!(read.more_due, 1);
    let read = store.conversations_to_plan(at(7), 0).await.unwrap();
    assert_eq!(ids(&read), vec![4]);
    assert_eq!(read.more_due, 2);
    // On the 10th, letting go of 2 is due, room or not.
    let read = store.conversations_to_plan(at(10), 0).await.unwrap();
    assert_eq!(ids(&read), vec![2, 4]);
    assert_eq!(store.next_planned_due(at(10)).await.unwrap(), None);
    // A change to 5 makes it planned again, whenever it was due.
    let mut five = store.conversation(5).await.unwrap().unwrap();
    five.step = 1;
    let event = nudge::model::Event {
        at: at(3),
        kind: nudge::model::EventKind::Touch,
        detail: "the seller wrote".into(),
        step: None,
    };
    store
        .commit_effects(None, &[nudge::rules::Effect::Update(five, event)], at(3))
        .await
        .unwrap();
    let read = store.conversations_to_plan(at(3), 20).await.unwrap();
    assert_eq!(ids(&read), vec![4, 5]);
    assert_eq!(store.next_planned_due(at(3)).await.unwrap(), Some(at(5)));
    store.close().await;
}

/// A page of unprocessed messages (read as one JSON value) holds each message as reading it
/// alone does, text that JSON must escape included, and the pages follow the order the
/// messages arrived in, whatever order they were stored in.
#[tokio::test]
async fn pages_of_unprocessed_messages_read_every_field_as_a_lone_read_does() {
    use nudge::store::{FolderState, NewMessage};
    let dir = tempfile::tempdir().unwrap();
    let store = support::stores::fresh(dir.path()).await;
    let subjects = [
        "Tilbud \"rask\" levering \\ pris – ø 🚀",
        "Tab\there, and a control \u{1} character",
        "Re: Rammeavtale 2027",
        "Plain",
        "{\"not\": [\"json\"]}",
        "Ærlig talt, ØÅ",
        "Last",
    ];
    let start = Utc.with_ymd_and_hms(2026, 10, 1, 9, 0, 0).unwrap();
    let messages: Vec<NewMessage> = (0..subjects.len())
        .map(|n| {
            let raw = format!(
                "From: \"Ola \\\"Sjefen\\\" Nordmann\" <ola{n}@fjordkraft.no>\r\n\
                 To: Kari <kari@fjordsalg.no>, \"Per, Salg\" <per@fjordsalg.no>\r\n\
                 Cc: anne@fjordkraft.no\r\n\
                 Subject: {}\r\n\
                 Message-ID: <m{n}.\"odd\"@fjordkraft.no>\r\n\
                 References: <a{n}@fjordsalg.no> <b{n}@fjordsalg.no>\r\n\
                 Date: {}\r\n\r\n",
                subjects[n],
                (start - chrono::Duration::hours(n as i64)).to_rfc2822()
            );
            NewMessage {
                folder: "INBOX".into(),
                origin: nudge::model::Origin::Inbox,
                uidvalidity: 7,
                uid: n as u32 + 1,
                mail: nudge::mail::parse::parse(raw.as_bytes()).expect("parses"),
                gm_thrid: None,
                // Stored first, arrived last: the pages follow the arrival.
                internal_date: Some(start - chrono::Duration::hours(n as i64)),
                flags: vec![],
                from_seller: false,
                automated: n == 3,
                class: None,
            }
        })
        .collect();
    let state = FolderState {
        name: "INBOX".into(),
        uidvalidity: 7,
        last_uid: messages.len() as u32,
        highest_modseq: None,
    };
    let ids = store
        .store_messages(&messages, &state, "inbox", start)
        .await
        .unwrap();

    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let (page, next) = store.unprocessed_page(after.as_ref(), 3).await.unwrap();
        assert!(page.len() <= 3);
        paged.extend(page);
        match next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let in_arrival: Vec<i64> = ids.iter().rev().copied().collect();
    assert_eq!(paged.iter().map(|m| m.id).collect::<Vec<_>>(), in_arrival);
    for message in &paged {
        let alone = store.message(message.id).await.unwrap().expect("stored");
        assert_eq!(message, &alone);
    }
    let odd = paged.iter().find(|m| m.id == ids[0]).unwrap();
    assert_eq!(odd.subject, subjects[0]);
    assert_eq!(odd.from_name.as_deref(), Some("Ola \"Sjefen\" Nordmann"));

    let mut candidates = Vec::new();
    let mut after = None;
    loop {
        let (page, next) = store.text_candidates_page(after.as_ref(), 2).await.unwrap();
        candidates.extend(page);
        match next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    // The automated one has no text worth reading.
    let wanted: Vec<i64> = in_arrival
        .iter()
        .copied()
        .filter(|&id| id != ids[3])
        .collect();
    assert_eq!(candidates.iter().map(|c| c.id).collect::<Vec<_>>(), wanted);
    for candidate in &candidates {
        let alone = paged.iter().find(|m| m.id == candidate.id).unwrap();
        assert_eq!(candidate.subject, alone.subject);
        assert_eq!(candidate.message_id, alone.message_id);
        assert_eq!(candidate.from_addr, alone.from_addr);
        assert_eq!(candidate.thread_id, alone.thread_id);
        assert_eq!((candidate.uid, candidate.origin), (alone.uid, alone.origin));
    }
    store.close().await;
}
