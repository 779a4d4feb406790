//! What must hold after any crash or network fault, read from both sides: the store (read
//! directly, SQLite or PostgreSQL) and the seller's mailbox on the test Dovecot.
//!
//! - the store passes `PRAGMA integrity_check`;
//! - no conversation is lost or doubled: one per prospect, as many as expected;
//! - at most one draft waits per conversation, in the store and in the Drafts folder;
//! - every nudge draft in Drafts (Message-ID `nudge.…`) is known to the store as waiting;
//! - no message is stored twice (same folder, same Message-ID);
//! - every nudge summary in INBOX is a week's known to the store, and none is there twice.

use std::collections::BTreeMap;
use std::path::Path;

use nudge::config::StoreConfig;

use super::nudge::SELLER;
use super::Dovecot;

/// A message in a folder, as doveadm reads it.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Without angle brackets.
    pub message_id: String,
    pub subject: String,
}

/// Every message in `folder` of the seller's mailbox, with its Message-ID and Subject.
pub fn listed(dovecot: &Dovecot, folder: &str) -> Vec<Listed> {
    let out = dovecot.doveadm(&[
        "fetch",
        "-u",
        SELLER,
        "hdr.message-id hdr.subject",
        "mailbox",
        folder,
        "ALL",
    ]);
    out.split('\x0c')
        .filter_map(|block| {
            let value = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.trim().to_string())
            };
            let message_id = value("hdr.message-id:")?;
            Some(Listed {
                message_id: message_id.trim_matches(['<', '>']).to_string(),
                subject: value("hdr.subject:").unwrap_or_default(),
            })
        })
        .collect()
}

/// nudge's own drafts in Drafts (its Message-IDs start with `nudge.`).
pub fn nudge_drafts(dovecot: &Dovecot) -> Vec<Listed> {
    listed(dovecot, "Drafts")
        .into_iter()
        .filter(|m| m.message_id.starts_with("nudge."))
        .collect()
}

/// What the store says, read in one go.
#[derive(Debug, Clone, Default)]
pub struct StoreView {
    /// `PRAGMA integrity_check`'s answer.
    pub integrity: String,
    /// Conversations per prospect list (JSON, as stored).
    pub conversations_by_prospects: BTreeMap<String, i64>,
    /// Conversation states, by id.
    pub states: BTreeMap<i64, String>,
    /// Waiting drafts (appending, pending, edited) per conversation id.
    pub waiting_per_conversation: BTreeMap<i64, i64>,
    /// Message-ID → state of every draft row.
    pub drafts: BTreeMap<String, String>,
    /// (folder, Message-ID) stored more than once.
    pub duplicate_messages: Vec<(String, String, i64)>,
    /// Messages quarantined.
    pub quarantined: i64,
    /// The weekly summaries: week → (state, Message-ID).
    pub summaries: BTreeMap<String, (String, Option<String>)>,
}

impl StoreView {
    /// Reads the store `store` names (from a thread of its own: callers may be inside a
    /// runtime).
    pub fn read(store: &StoreConfig) -> StoreView {
        let store = store.clone();
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(read_store(&store))
        })
        .join()
        .expect("reading the store")
    }
}

async fn read_store(store: &StoreConfig) -> StoreView {
    let db = super::stores::raw(store).await;
    let integrity: Vec<(String,)> = if store.postgres.is_some() {
        // PostgreSQL keeps its pages whole itself.
        vec![("ok".to_string(),)]
    } else {
        sqlx::query_as("PRAGMA integrity_check")
            .fetch_all(&db)
            .await
            .expect("integrity_check")
    };
    let by_prospects: Vec<(String, i64)> =
        sqlx::query_as("SELECT prospects, COUNT(*) FROM conversations GROUP BY prospects")
            .fetch_all(&db)
            .await
            .expect("conversations");
    let states: Vec<(i64, String)> = sqlx::query_as("SELECT id, state FROM conversations")
        .fetch_all(&db)
        .await
        .expect("states");
    let waiting: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT conversation_id, COUNT(*) FROM drafts \
         WHERE state IN ('appending', 'pending', 'edited') GROUP BY conversation_id",
    )
    .fetch_all(&db)
    .await
    .expect("drafts");
    let drafts: Vec<(String, String)> = sqlx::query_as("SELECT message_id, state FROM drafts")
        .fetch_all(&db)
        .await
        .expect("drafts");
    let duplicate_messages: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT folder, message_id, COUNT(*) FROM messages WHERE message_id IS NOT NULL \
         GROUP BY folder, message_id HAVING COUNT(*) > 1",
    )
    .fetch_all(&db)
    .await
    .expect("messages");
    let (quarantined,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM messages WHERE quarantined_at IS NOT NULL")
            .fetch_one(&db)
            .await
            .expect("quarantined");
    let summaries: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT week, state, message_id FROM summaries")
            .fetch_all(&db)
            .await
            .expect("summaries");
    db.close().await;
    StoreView {
        integrity: integrity
            .into_iter()
            .map(|(l,)| l)
            .collect::<Vec<_>>()
            .join("\n"),
        conversations_by_prospects: by_prospects.into_iter().collect(),
        states: states.into_iter().collect(),
        waiting_per_conversation: waiting.into_iter().collect(),
        drafts: drafts.into_iter().collect(),
        duplicate_messages,
        quarantined,
        summaries: summaries
            .into_iter()
            .map(|(week, state, id)| (week, (state, id)))
            .collect(),
    }
}

/// Checks every invariant after a crash or a fault; `conversations` is how many must be
/// tracked (0: the store may not have tracked anything yet). Returns what is wrong, if anything.
pub fn check(
    dovecot: &Dovecot,
    store: &StoreConfig,
    conversations: usize,
) -> Result<StoreView, String> {
    let mut wrong = Vec::new();
    if !exists(store) {
        if conversations == 0 && nudge_drafts(dovecot).is_empty() {
            return Ok(StoreView::default());
        }
        return Err(format!("no store at {}", store.path.display()));
    }
    let view = StoreView::read(store);
    if view.integrity != "ok" {
        wrong.push(format!("integrity_check: {}", view.integrity));
    }
    let total: i64 = view.conversations_by_prospects.values().sum();
    if conversations > 0 && total as usize != conversations {
        wrong.push(format!(
            "{total} conversations, expected {conversations}: {:?}",
            view.conversations_by_prospects
        ));
    }
    for (prospects, n) in &view.conversations_by_prospects {
        if *n > 1 {
            wrong.push(format!("{n} conversations with {prospects}"));
        }
    }
    for (id, n) in &view.waiting_per_conversation {
        if *n > 1 {
            wrong.push(format!(
                "conversation {id} has {n} drafts waiting in the store"
            ));
        }
    }
    let in_drafts = nudge_drafts(dovecot);
    let mut per_subject: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &in_drafts {
        *per_subject.entry(d.subject.as_str()).or_default() += 1;
        match view.drafts.get(&d.message_id).map(String::as_str) {
            Some("appending" | "pending" | "edited" | "removing") => {}
            Some(state) => wrong.push(format!(
                "draft {} ({}) is in Drafts but the store says {state}",
                d.message_id, d.subject
            )),
            None => wrong.push(format!(
                "draft {} ({}) is in Drafts but unknown to the store",
                d.message_id, d.subject
            )),
        }
    }
    for (subject, n) in per_subject {
        if n > 1 {
            wrong.push(format!("{n} drafts of \"{subject}\" in Drafts"));
        }
    }
    // nudge's summaries in INBOX: each one a week's, none twice.
    let mut summaries: BTreeMap<String, usize> = BTreeMap::new();
    for m in listed(dovecot, "INBOX") {
        if m.message_id.starts_with("nudge.") {
            *summaries.entry(m.message_id).or_default() += 1;
        }
    }
    for (id, n) in summaries {
        if n > 1 {
            wrong.push(format!("the summary {id} is in INBOX {n} times"));
        }
        if !view
            .summaries
            .values()
            .any(|(_, known)| known.as_deref() == Some(id.as_str()))
        {
            wrong.push(format!("the summary {id} in INBOX is unknown to the store"));
        }
    }
    for (folder, id, n) in &view.duplicate_messages {
        wrong.push(format!("{id} stored {n} times in {folder}"));
    }
    if wrong.is_empty() {
        Ok(view)
    } else {
        Err(wrong.join("\n"))
    }
}

/// The subjects of nudge's drafts in Drafts, sorted.
pub fn draft_subjects(dovecot: &Dovecot) -> Vec<String> {
    let mut subjects: Vec<String> = nudge_drafts(dovecot)
        .into_iter()
        .map(|d| d.subject)
        .collect();
    subjects.sort();
    subjects
}

/// Whether nudge made the store yet: the file, or the account's tables on PostgreSQL.
fn exists(store: &StoreConfig) -> bool {
    let Some(postgres) = &store.postgres else {
        return store.path.exists();
    };
    let (store, schema) = (store.clone(), postgres.schema.clone());
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let db = super::stores::raw(&store).await;
                let found: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM information_schema.tables
                     WHERE table_schema = $1 AND table_name = 'meta'",
                )
                .bind(schema)
                .fetch_one(&db)
                .await
                .expect("the catalog reads");
                db.close().await;
                found > 0
            })
    })
    .join()
    .expect("looking for the store")
}
