//! The cost of a sync per message, in counts that do not drift with the machine's speed: IMAP
//! commands (from Dovecot's own log) and SQL statements (from sqlx's statement log), over a
//! generated 2,000-message seller mailbox (`scripts/bench` measures the time).
//!
//! The bounds, and why:
//! - IMAP: headers are fetched 500 messages to a command and texts 100 to a command, so a
//!   first sync needs about one command per 50 messages whatever the mailbox's size; a fixed
//!   allowance covers login, LIST, EXAMINE and the searches. A command per message (a FETCH
//!   each, a SEARCH each) breaks it at once.
//! - SQL: a fetched batch is stored in a handful of statements (its rows go in 64 to an
//!   INSERT, the odd ones 8 or 1 to one, so that every statement is prepared once), and
//!   applied a chunk of messages to a transaction in a handful more (each conversation
//!   written once per chunk, the facts the rules need read once per pass); what is left is
//!   per due draft, not per message. Measured: 0.28 per message. A statement per message in
//!   any step (a lookup, an update, a history row) adds at least 1 and breaks the bound of 0.5.
//! - A pass with no change costs a fixed number of both, whatever the mailbox's size.
//! - A pass with one new reply reads the conversations the reply can concern and the open
//!   ones the cadence looks at, not every conversation: rows read stay below the open
//!   conversations plus a small allowance.

mod support;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use support::mailbox::{generate, seller_dovecot_with};
use support::nudge::Nudge;
use support::Dovecot;

const MESSAGES: usize = 2_000;
const NOW: &str = "2026-11-18T09:00:00+01:00";
const LATER: &str = "2026-11-18T09:05:00+01:00";
const LATER_STILL: &str = "2026-11-18T09:10:00+01:00";

/// The IMAP commands Dovecot finished for the seller so far, by name.
fn imap_commands(dovecot: &Dovecot) -> BTreeMap<String, usize> {
    let mut commands = BTreeMap::new();
    for line in dovecot.log().lines() {
        if let Some((_, rest)) = line.split_once("Command finished: ") {
            let name = rest
                .split_whitespace()
                .take(if rest.starts_with("UID ") { 2 } else { 1 })
                .collect::<Vec<_>>()
                .join(" ");
            *commands.entry(name).or_insert(0) += 1;
        }
    }
    commands
}

fn total(counts: &BTreeMap<String, usize>) -> usize {
    counts.values().sum()
}

fn since(
    after: &BTreeMap<String, usize>,
    before: &BTreeMap<String, usize>,
) -> BTreeMap<String, usize> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect()
}

/// Rows the statements of a sqlx statement log returned, in all.
fn rows_returned(log: &str) -> usize {
    log.lines()
        .filter_map(|line| line.split_once("rows_returned=").map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<usize>().ok())
        .sum()
}

/// Runs `nudge sync ARGS` with sqlx's statement log on: its output and the statements run,
/// by their first words.
fn sync_counting(nudge: &Nudge, args: &[&str]) -> (String, BTreeMap<String, usize>) {
    let output = nudge.run_with_env(args, &[("RUST_LOG", "warn,sqlx::query=debug")]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "sync failed:\n{}",
        &text[..text.len().min(4000)]
    );
    let mut statements = BTreeMap::new();
    for line in text.lines() {
        if let Some((_, rest)) = line.split_once("summary=\"") {
            let words: String = rest
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ");
            *statements.entry(words).or_insert(0) += 1;
        }
    }
    (text, statements)
}

/// Appends to INBOX a reply to the newest opener in Sent, with Message-ID `<ID@example.net>`,
/// dated `TIME` UTC on the day of [`NOW`].
fn reply_to_newest_opener(
    dovecot: &Dovecot,
    messages: &[support::mailbox::Generated],
    id: &str,
    time: &str,
) {
    let opener = messages
        .iter()
        .rev()
        .find(|m| m.folder == "Sent")
        .expect("an opener");
    let opener_id = support::mailclient::header_value(&opener.raw, "Message-ID").unwrap();
    let to = support::mailclient::header_value(&opener.raw, "To").unwrap();
    let reply = format!(
        "From: {to}\nTo: {}\nSubject: Re: scale\nDate: Wed, 18 Nov 2026 {time} +0000\n\
         Message-ID: <{id}@example.net>\nIn-Reply-To: {opener_id}\nReferences: {opener_id}\n\n\
         Takk, vi tar en prat.\n",
        support::nudge::SELLER
    );
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut client = support::mailclient::MailClient::connect(
            dovecot,
            support::nudge::SELLER,
            support::nudge::PASSWORD,
        )
        .await;
        client.append("INBOX", &reply, &[]).await;
        client.logout().await;
    });
}

fn seeded() -> (Dovecot, Vec<support::mailbox::Generated>) {
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339(NOW).unwrap().to_utc();
    let messages = generate(MESSAGES, 7, now);
    (seller_dovecot_with(&messages), messages)
}

#[test]
fn a_first_sync_costs_a_bounded_number_of_commands_and_statements_per_message() {
    let (dovecot, messages) = seeded();
    assert_eq!(messages.len(), MESSAGES);
    let nudge = Nudge::new(&dovecot, "[tracking]\nlookback_days = 3650\n");
    let before = imap_commands(&dovecot);
    let (output, statements) = sync_counting(&nudge, &["sync", "--dry-run", "--now", NOW]);
    let commands = since(&imap_commands(&dovecot), &before);
    let per_message = total(&statements) as f64 / MESSAGES as f64;
    eprintln!("IMAP commands: {commands:?}\nSQL statements ({per_message:.2} per message): {statements:?}");
    assert!(
        output.contains("New messages") || output.contains("new"),
        "the sync reported what it read:\n{}",
        &output[..output.len().min(2000)]
    );
    // Every message was looked at: the generated mailbox has conversations to track.
    assert!(
        statements
            .keys()
            .any(|k| k.starts_with("INSERT INTO conversations")),
        "{statements:?}"
    );
    assert!(
        total(&commands) <= 20 + MESSAGES / 50,
        "{} IMAP commands for {MESSAGES} messages: {commands:?}",
        total(&commands)
    );
    assert!(
        per_message <= 0.5,
        "{per_message:.2} SQL statements per message: {statements:?}"
    );
}

#[test]
fn a_pass_with_no_change_costs_the_same_at_any_size() {
    let (dovecot, _) = seeded();
    let nudge = Nudge::new(&dovecot, "[tracking]\nlookback_days = 3650\n");
    nudge.sync(NOW);
    // The first pass made drafts; the second reads them back from Drafts.
    nudge.sync(LATER);
    let before = imap_commands(&dovecot);
    let (_, statements) = sync_counting(&nudge, &["sync", "--now", LATER_STILL]);
    let commands = since(&imap_commands(&dovecot), &before);
    eprintln!("IMAP commands: {commands:?}\nSQL statements: {statements:?}");
    assert!(
        total(&commands) <= 20,
        "a pass with no change: {commands:?}"
    );
    assert!(
        total(&statements) <= 60,
        "a pass with no change ran {} statements: {statements:?}",
        total(&statements)
    );
}

#[test]
fn a_pass_with_one_reply_reads_what_the_reply_concerns() {
    let (dovecot, messages) = seeded();
    let nudge = Nudge::new(&dovecot, "[tracking]\nlookback_days = 3650\n");
    nudge.sync(NOW);
    nudge.sync(LATER);
    let status = nudge.status();
    let open = status
        .iter()
        .filter(|c| {
            matches!(
                c["state"].as_str(),
                Some("waiting" | "drafted" | "closing" | "snoozed" | "deferred")
            )
        })
        .count();
    reply_to_newest_opener(&dovecot, &messages, "scale-reply", "08:00:00");
    let before = imap_commands(&dovecot);
    let log_before = dovecot.log();
    let (log, statements) = sync_counting(&nudge, &["sync", "--now", LATER_STILL]);
    let commands = since(&imap_commands(&dovecot), &before);
    assert!(log.contains("replied"), "the reply was applied: {log}");
    // INBOX is opened once: the reply's text is read there, still open from its sync
    // (Dovecot takes a quarter of a second to open a large INBOX with new mail). Each
    // folder is opened once to sync, and Drafts once more to settle the drafts.
    let server_log = dovecot.log();
    let inbox = server_log
        .lines()
        .filter(|l| l.contains("Command finished: EXAMINE \"INBOX\""))
        .count();
    let inbox_before = log_before
        .lines()
        .filter(|l| l.contains("Command finished: EXAMINE \"INBOX\""))
        .count();
    assert_eq!(inbox - inbox_before, 1, "{commands:?}");
    assert!(commands.get("EXAMINE") <= Some(&4), "{commands:?}");
    let rows = rows_returned(&log);
    eprintln!(
        "{} conversations, {open} open; the pass read {rows} rows in {} statements",
        status.len(),
        total(&statements)
    );
    assert!(
        status.len() > open + 200,
        "the mailbox has many ended conversations"
    );
    assert!(
        rows <= open + 100,
        "a one-reply pass read {rows} rows ({open} open of {} conversations): {statements:?}",
        status.len()
    );
}

/// A first sync reads years of mail: the changes that old mail tells are the conversations'
/// history, logged at debug and counted in one line at info, not a line each in the journal.
/// A change told by mail that arrives later is logged at info; the report lists both.
#[test]
fn a_first_sync_logs_its_history_in_one_line_and_new_changes_each() {
    let (dovecot, messages) = seeded();
    let nudge = Nudge::new(&dovecot, "[tracking]\nlookback_days = 3650\n");
    let info = [("RUST_LOG", "nudge=info")];
    let stderr = |output: &std::process::Output| {
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    // Lines of changes the pass applied from mail (the drafts it makes now are news).
    let change_lines = |log: &str| {
        log.lines()
            .filter(|l| l.split_whitespace().any(|w| w.starts_with('#')) && l.contains(": "))
            .filter(|l| !l.contains(": drafted "))
            .count()
    };
    let first = nudge.run_with_env(&["sync", "--now", NOW], &info);
    let report = String::from_utf8_lossy(&first.stdout).into_owned();
    let log = stderr(&first);
    let counted = log
        .lines()
        .find(|l| l.contains("mail from before nudge first started changed conversations"))
        .unwrap_or_else(|| panic!("no count of the history's changes:\n{log}"));
    let changes: usize = counted
        .split_once("changes=")
        .and_then(|(_, n)| n.split_whitespace().next()?.parse().ok())
        .unwrap_or_default();
    assert!(changes > 100, "{counted}");
    assert_eq!(change_lines(&log), 0, "a line per old change:\n{log}");
    assert!(
        report.lines().filter(|l| l.contains('#')).count() > 100,
        "the report still lists the changes:\n{report}"
    );
    // The same run at debug has a line for each.
    let again = Nudge::new(&dovecot, "[tracking]\nlookback_days = 3650\n");
    let debug =
        stderr(&again.run_with_env(&["sync", "--now", NOW], &[("RUST_LOG", "nudge=debug")]));
    assert!(change_lines(&debug) >= changes, "{changes} changes");

    // A reply that arrives after nudge started is news: its change is logged at info.
    reply_to_newest_opener(&dovecot, &messages, "news-reply", "08:07:00");
    let later = stderr(&nudge.run_with_env(&["sync", "--now", LATER_STILL], &info));
    assert!(
        change_lines(&later) >= 1,
        "the reply's change at info:\n{later}"
    );
    assert!(
        !later.contains("mail from before nudge first started"),
        "{later}"
    );
}

/// A first sync leaves no room free in the store's pages that compacting it would give back
/// (SQLite; PostgreSQL keeps its own pages): a copy of the store, vacuumed, is no smaller.
#[test]
fn a_first_sync_leaves_the_store_compact() {
    if matches!(
        support::stores::backend(),
        support::stores::Backend::Postgres
    ) {
        return;
    }
    let (dovecot, _) = seeded();
    let nudge = Nudge::new(&dovecot, "[tracking]\nlookback_days = 3650\n");
    nudge.sync(NOW);
    let copy = tempfile::tempdir().unwrap();
    let mut config = nudge.store_config();
    config.path = copy.path().join("copy.db");
    std::fs::copy(nudge.store_path(), &config.path).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (before, after) = runtime.block_on(async {
        let pool = support::stores::raw(&config).await;
        let pages = || async {
            sqlx::query_scalar::<_, i64>("PRAGMA page_count")
                .fetch_one(&pool)
                .await
                .unwrap()
        };
        let before = pages().await;
        sqlx::query("VACUUM").execute(&pool).await.unwrap();
        (before, pages().await)
    });
    assert!(before > 100, "{before} pages");
    assert!(
        after * 100 >= before * 99,
        "{before} pages, {after} when compacted"
    );
}

/// A first sync stores thousands of rows into tables the query planner has never measured;
/// it leaves them measured, so the passes right after it (a reply withdrawing a draft) are
/// planned on what the tables hold. A pass storing a few messages leaves the work to the
/// database's own upkeep.
#[test]
fn a_first_sync_of_many_messages_leaves_the_planner_statistics() {
    let (dovecot, _) = seeded();
    let nudge = Nudge::new(&dovecot, "[tracking]\nlookback_days = 3650\n");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let measured = |table: &str| -> bool {
        runtime.block_on(async {
            let pool = nudge.raw_store().await;
            let query = match support::stores::backend() {
                support::stores::Backend::Sqlite => {
                    // The table itself exists from the migrations on; its rows are ANALYZE's.
                    let exists: i64 = sqlx::query_scalar(
                        "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'",
                    )
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                    if exists == 0 {
                        return false;
                    }
                    "SELECT count(*) FROM sqlite_stat1 WHERE tbl = $1"
                }
                // ANALYZE sets the row estimate; a table never measured says -1.
                support::stores::Backend::Postgres => {
                    "SELECT count(*) FROM pg_class WHERE relname = $1 \
                     AND relnamespace = current_schema()::regnamespace AND reltuples > 0"
                }
            };
            let rows: i64 = sqlx::query_scalar(query)
                .bind(table)
                .fetch_one(&pool)
                .await
                .unwrap();
            rows > 0
        })
    };
    nudge.sync(NOW);
    for table in ["messages", "conversations", "threads"] {
        assert!(
            measured(table),
            "{table} has statistics after the first sync"
        );
    }
}

/// The store keeps what belongs to a message and is read, and no more: of its flags only
/// `\Flagged` (never `\Seen`, nor `\Recent`, which belongs to the session that saw it
/// first), recipients as lines, without a name written as `null`.
#[test]
fn stored_messages_keep_their_own_flags_and_no_empty_names() {
    let (dovecot, _) = seeded();
    let nudge = Nudge::new(&dovecot, "[tracking]\nlookback_days = 3650\n");
    nudge.sync(NOW);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let count = |sql: &'static str| -> i64 {
        runtime.block_on(async {
            let pool = nudge.raw_store().await;
            sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
        })
    };
    let stored = count("SELECT count(*) FROM messages");
    assert!(stored > 1000, "{stored} messages stored");
    assert_eq!(
        count("SELECT count(*) FROM messages WHERE flags <> '' AND flags <> '\\Flagged'"),
        0,
        "only \\Flagged is kept"
    );
    // Whom a message addresses is kept of the seller's own mail only.
    assert_eq!(
        count("SELECT count(*) FROM messages WHERE from_seller = 0 AND (to_addrs <> '' OR cc_addrs <> '')"),
        0,
        "no recipients of mail from others"
    );
    assert!(count("SELECT count(*) FROM messages WHERE from_seller = 0") > 0);
    // Recipients as lines, address and a tab and the name; no JSON for plain names, and
    // never a name that is not there.
    assert!(count("SELECT count(*) FROM messages WHERE to_addrs LIKE '%\t%'") > 0);
    assert_eq!(
        count("SELECT count(*) FROM messages WHERE to_addrs LIKE '[%'"),
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM messages WHERE to_addrs LIKE '%\"name\":null%'"),
        0
    );
}
