//! Messages, threads, contacts and per-folder sync state.

use chrono::{DateTime, Utc};
// Dynamic SQL here is built from constant column lists and '?' placeholders only.
use super::numbered;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use super::{parse_time, placeholders, read_time, Store, IN_CHUNK};
use crate::error::Result;
use crate::mail::address::{domain, is_freemail, organisation_domain};
use crate::mail::classify::Classification;
use crate::mail::parse::Mail;
use crate::model::{Heard, Message as StoredMessage, MessageClass, Origin};
use crate::rules::machine::Transition;

/// Where the sync of one folder stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderState {
    pub name: String,
    pub uidvalidity: u32,
    /// The highest UID already stored.
    pub last_uid: u32,
    pub highest_modseq: Option<u64>,
}

/// A message nudge could not process, set aside (SPEC 13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    pub folder: String,
    pub uid: u32,
    pub message_id: Option<String>,
    pub subject: String,
    pub at: DateTime<Utc>,
    pub reason: String,
}

/// A message as it arrives from the server, before it is stored.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub folder: String,
    /// The role of the folder (only Sent holds the seller's touches).
    pub origin: Origin,
    pub uidvalidity: u32,
    pub uid: u32,
    pub mail: Mail,
    pub gm_thrid: Option<u64>,
    pub internal_date: Option<DateTime<Utc>>,
    pub flags: Vec<String>,
    /// From a seller identity.
    pub from_seller: bool,
    /// List mail, Auto-Submitted, or nudge's own summary: never a touch or a reply.
    pub automated: bool,
    /// What the headers alone say the message is (inbound mail): kept when its text can
    /// never be read, refined when it is.
    pub class: Option<MessageClass>,
}

/// What a message's text says, as [`Store::set_message_texts`] records it.
#[derive(Debug, Clone)]
pub struct MessageText {
    pub id: i64,
    /// Its class (inbound mail); `None` for the seller's own.
    pub class: Option<Classification>,
    /// The start of its new text.
    pub snippet: String,
    pub heard: Heard,
}

const MESSAGE_COLUMNS: &str = "id, folder, uid, thread_id, message_id, in_reply_to, refs, \
    from_addr, from_name, to_addrs, cc_addrs, subject, date, arrived, flags, from_seller, \
    automated, class, return_date, bounced_message_id, bounced_recipient, snippet, has_body, \
    heard, organization, (SELECT role FROM folders WHERE folders.name = messages.folder) AS role";

/// A stored message's columns ([`MESSAGE_COLUMNS`]) as the store holds them, read from a
/// row or, in their order, from a JSON array ([`Store::unprocessed_rows`]).
#[derive(serde::Deserialize)]
struct MessageRow {
    id: i64,
    folder: String,
    uid: i64,
    thread_id: i64,
    message_id: Option<String>,
    in_reply_to: String,
    refs: String,
    from_addr: String,
    from_name: Option<String>,
    to_addrs: String,
    cc_addrs: String,
    subject: String,
    date: i64,
    arrived: Option<i64>,
    flags: String,
    from_seller: i64,
    automated: i64,
    class: Option<i64>,
    return_date: Option<String>,
    bounced_message_id: Option<String>,
    bounced_recipient: Option<String>,
    snippet: String,
    has_body: i64,
    heard: Option<String>,
    organization: Option<String>,
    role: Option<String>,
}

impl MessageRow {
    fn of(row: &sqlx::any::AnyRow) -> MessageRow {
        MessageRow {
            id: row.get("id"),
            folder: row.get("folder"),
            uid: row.get("uid"),
            thread_id: row.get("thread_id"),
            message_id: row.get("message_id"),
            in_reply_to: row.get("in_reply_to"),
            refs: row.get("refs"),
            from_addr: row.get("from_addr"),
            from_name: row.get("from_name"),
            to_addrs: row.get("to_addrs"),
            cc_addrs: row.get("cc_addrs"),
            subject: row.get("subject"),
            date: row.get("date"),
            arrived: row.get("arrived"),
            flags: row.get("flags"),
            from_seller: row.get("from_seller"),
            automated: row.get("automated"),
            class: row.get("class"),
            return_date: row.get("return_date"),
            bounced_message_id: row.get("bounced_message_id"),
            bounced_recipient: row.get("bounced_recipient"),
            snippet: row.get("snippet"),
            has_body: row.get("has_body"),
            heard: row.get("heard"),
            organization: row.get("organization"),
            role: row.get("role"),
        }
    }

    /// Where it stands in the order unprocessed messages are applied.
    fn place(&self) -> (i64, i64) {
        (self.arrived.unwrap_or(i64::MIN), self.id)
    }
}

/// The names a list of result columns gives its values, in order: each column's last word
/// (its own name, or the alias `AS` gives an expression). The columns are nudge's constant
/// lists, with no comma inside an expression.
fn output_names(columns: &str) -> String {
    columns
        .split(',')
        .map(|column| column.split_whitespace().last().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn split_ids(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

impl Store {
    /// The sync state of a folder, if it was synced before.
    pub async fn folder_state(&self, name: &str) -> Result<Option<FolderState>> {
        let row = sqlx::query(
            "SELECT uidvalidity, last_uid, highestmodseq FROM folders WHERE name = $1 AND uidvalidity IS NOT NULL",
        )
        .bind(name)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        Ok(row.map(|row| FolderState {
            name: name.to_string(),
            uidvalidity: row.get::<i64, _>(0) as u32,
            last_uid: row.get::<i64, _>(1) as u32,
            highest_modseq: row.get::<Option<i64>, _>(2).map(|m| m as u64),
        }))
    }

    /// Stores a batch of new messages, threads them, and records the folder's new state, all
    /// in one transaction: after a crash the batch is fetched again, never half-stored.
    /// Returns the store ids of the batch, in order.
    pub async fn store_messages(
        &self,
        messages: &[NewMessage],
        state: &FolderState,
        role: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        let mut tx = self.write().await.map_err(|e| self.error(e))?;
        let ids = super::batch::store_batch(&mut tx, messages, now)
            .await
            .map_err(|e| self.error(e))?;
        sqlx::query(
            "INSERT INTO folders (name, role, uidvalidity, last_uid, highestmodseq, synced_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT(name) DO UPDATE SET role = excluded.role,
                 uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,
                 highestmodseq = excluded.highestmodseq, synced_at = excluded.synced_at",
        )
        .bind(&state.name)
        .bind(role)
        .bind(i64::from(state.uidvalidity))
        .bind(i64::from(state.last_uid))
        .bind(state.highest_modseq.map(|m| m as i64))
        .bind(now.to_rfc3339())
        .execute(&mut *tx)
        .await
        .map_err(|e| self.error(e))?;
        tx.commit().await.map_err(|e| self.error(e))?;
        Ok(ids)
    }

    /// Records the folder's HIGHESTMODSEQ after its flags were looked at.
    pub async fn set_highest_modseq(&self, folder: &str, modseq: u64) -> Result<()> {
        sqlx::query("UPDATE folders SET highestmodseq = $1 WHERE name = $2")
            .bind(modseq as i64)
            .bind(folder)
            .execute(self.pool())
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Marks the messages `uids` of a folder as flagged by the seller. Those that were not
    /// flagged before are applied again (tracking mode `flagged` starts following them).
    /// Returns how many became flagged.
    pub async fn mark_flagged(
        &self,
        folder: &str,
        uidvalidity: u32,
        uids: &[u32],
    ) -> Result<usize> {
        let mut tx = self.write().await.map_err(|e| self.error(e))?;
        let mut changed = 0;
        for uid in uids {
            let done = sqlx::query(
                "UPDATE messages SET flags = trim(flags || ' \\Flagged'), processed = 0
                 WHERE folder = $1 AND uidvalidity = $2 AND uid = $3
                   AND (' ' || flags || ' ') NOT LIKE '% \\Flagged %' ESCAPE '!'",
            )
            .bind(folder)
            .bind(i64::from(uidvalidity))
            .bind(i64::from(*uid))
            .execute(&mut *tx)
            .await
            .map_err(|e| self.error(e))?;
            changed += done.rows_affected() as usize;
        }
        tx.commit().await.map_err(|e| self.error(e))?;
        Ok(changed)
    }

    /// Records what the message's text says (inbound class) and a short snippet of it.
    pub async fn set_message_text(
        &self,
        id: i64,
        class: Option<&Classification>,
        snippet: &str,
    ) -> Result<()> {
        let text = MessageText {
            id,
            class: class.cloned(),
            snippet: snippet.to_string(),
            heard: Heard::default(),
        };
        self.set_message_texts(&[text]).await
    }

    /// [`Store::set_message_text`] for many messages, a few hundred to a statement.
    pub async fn set_message_texts(&self, texts: &[MessageText]) -> Result<()> {
        for chunk in texts.chunks(500) {
            let sql = format!(
                "UPDATE messages SET class = v.column2, return_date = v.column3,
                     bounced_message_id = v.column4, bounced_recipient = v.column5,
                     snippet = v.column6, heard = v.column7, has_body = 1
                 FROM (VALUES {}) AS v WHERE messages.id = v.column1",
                vec!["(?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(numbered(self.backend(), sql)).persistent(false);
            for text in chunk {
                let class = text.class.as_ref();
                query = query
                    .bind(text.id)
                    .bind(class.map(|c| c.class.code()))
                    .bind(class.and_then(|c| c.return_date).map(|d| d.to_string()))
                    .bind(class.and_then(|c| c.returned_message_id.clone()))
                    .bind(class.and_then(|c| c.failed_recipient.clone()))
                    .bind(text.snippet.as_str())
                    .bind(text.heard.to_json());
            }
            query
                .execute(self.pool())
                .await
                .map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    /// Whom the seller has reached, as far as `messages` can ask [`SellerReach::may_concern`]:
    /// their threads that hold the seller's mail, and the contacts among their senders and
    /// their organisations. A few indexed lookups per page, whatever the mailbox's size.
    pub async fn seller_reach_of<'m>(
        &self,
        messages: impl IntoIterator<Item = (i64, &'m str)>,
    ) -> Result<SellerReach> {
        let mut threads = std::collections::BTreeSet::new();
        let mut addresses = std::collections::BTreeSet::new();
        for (thread, from) in messages {
            threads.insert(thread);
            if !from.is_empty() {
                addresses.insert(from.to_string());
            }
        }
        let threads: Vec<i64> = threads.into_iter().collect();
        let addresses: Vec<String> = addresses.into_iter().collect();
        let organisations: Vec<String> = addresses
            .iter()
            .map(|a| organisation_domain(&domain(a)))
            .filter(|o| !o.is_empty())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut reach = SellerReach::default();
        let mut tx = self.pool().begin().await.map_err(|e| self.error(e))?;
        for chunk in threads.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT DISTINCT thread_id FROM messages WHERE from_seller = 1 AND thread_id IN ({})",
                placeholders(chunk.len())
            );
            let mut query =
                sqlx::query_scalar::<_, i64>(numbered(self.backend(), sql)).persistent(false);
            for thread in chunk {
                query = query.bind(*thread);
            }
            let found = query.fetch_all(&mut *tx).await.map_err(|e| self.error(e))?;
            reach.threads.extend(found);
        }
        for (column, keys, set) in [
            ("address", &addresses, &mut reach.addresses),
            ("org_domain", &organisations, &mut reach.organisations),
        ] {
            for chunk in keys.chunks(IN_CHUNK) {
                let sql = format!(
                    "SELECT DISTINCT {column} FROM contacts WHERE {column} IN ({})",
                    placeholders(chunk.len())
                );
                let mut query = sqlx::query_scalar::<_, String>(numbered(self.backend(), sql))
                    .persistent(false);
                for key in chunk {
                    query = query.bind(key.as_str());
                }
                let found = query.fetch_all(&mut *tx).await.map_err(|e| self.error(e))?;
                set.extend(found);
            }
        }
        tx.commit().await.map_err(|e| self.error(e))?;
        Ok(reach)
    }

    /// Messages whose effect on conversations is not applied yet, oldest first.
    pub async fn unprocessed_messages(&self) -> Result<Vec<StoredMessage>> {
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let (page, next) = self.unprocessed_page(after.as_ref(), 1000).await?;
            all.extend(page);
            match next {
                Some(next) => after = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// Up to `limit` of [`Store::unprocessed_messages`], those after `after`, and where the
    /// page ended (`None` at the end): a pass over a large first sync holds a page of
    /// messages at a time, not the mailbox.
    pub async fn unprocessed_page(
        &self,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<(Vec<StoredMessage>, Option<Cursor>)> {
        let (rows, next) = self
            .unprocessed_rows(MESSAGE_COLUMNS, "", after, limit, MessageRow::place)
            .await?;
        let page = rows
            .into_iter()
            .map(|r| self.message_of(r))
            .collect::<Result<_>>()?;
        Ok((page, next))
    }

    /// Up to `limit` unprocessed, unquarantined messages (`columns` of them, those `filter`
    /// keeps) after `after`, in the order of the partial index on them, and where the page
    /// ended. `arrived` is always set (migrations 0002 and 0016 filled it for older rows):
    /// the order is the index's, read from where the last page ended; `place` reads a row's
    /// arrival and id.
    ///
    /// The page comes back as one JSON array of the rows' values, each row an array in the
    /// order of `columns`: a first sync reads every message it stored, and a row at a time
    /// each row would cross from SQLite's thread to this one alone, a wake-up of each thread
    /// for each message. An aggregate promises no order: the rows are sorted here.
    async fn unprocessed_rows<T: serde::de::DeserializeOwned>(
        &self,
        columns: &str,
        filter: &str,
        after: Option<&Cursor>,
        limit: usize,
        place: impl Fn(&T) -> (i64, i64),
    ) -> Result<(Vec<T>, Option<Cursor>)> {
        let (arrived, id) = after.map_or((i64::MIN, 0), |c| (c.arrived, c.id));
        let names = output_names(columns);
        let rows = match self.backend() {
            super::Backend::Sqlite => format!("json_group_array(json_array({names}))"),
            super::Backend::Postgres => format!("json_agg(json_build_array({names}))::text"),
        };
        let sql = format!(
            "SELECT {rows} FROM (SELECT {columns} FROM messages
                 WHERE processed = 0 AND quarantined_at IS NULL
                   AND (arrived, id) > (?, ?) {filter}
                 ORDER BY arrived, id LIMIT ?) AS page"
        );
        let page: Option<String> = sqlx::query_scalar(numbered(self.backend(), sql))
            .bind(arrived)
            .bind(id)
            .bind(limit as i64)
            .fetch_one(self.pool())
            .await
            .map_err(|e| self.error(e))?;
        // PostgreSQL aggregates no row to NULL, SQLite to an empty array.
        let mut rows: Vec<T> = match page {
            Some(page) => serde_json::from_str(&page)
                .map_err(|e| self.error(format!("reading a page of messages: {e}")))?,
            None => Vec::new(),
        };
        rows.sort_unstable_by_key(&place);
        let next = Cursor::after(&rows, limit, place);
        Ok((rows, next))
    }

    /// The unprocessed messages whose text a pass may want, oldest first, a page at a time:
    /// inbound mail from others, not automated, whose text was not read. Only what deciding
    /// that needs is read: a first sync asks this of every message it stored.
    pub async fn text_candidates_page(
        &self,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<(Vec<TextCandidate>, Option<Cursor>)> {
        let (rows, next) = self
            .unprocessed_rows(
                "id, folder, uid, thread_id, message_id, from_addr, subject, arrived,
                 (SELECT role FROM folders WHERE folders.name = messages.folder) AS role",
                "AND has_body = 0 AND from_seller = 0 AND automated = 0",
                after,
                limit,
                |row: &CandidateRow| (row.7, row.0),
            )
            .await?;
        let page = rows
            .into_iter()
            .map(
                |(id, folder, uid, thread_id, message_id, from_addr, subject, _, role)| {
                    TextCandidate {
                        id,
                        folder,
                        uid: uid as u32,
                        thread_id,
                        message_id,
                        from_addr,
                        subject,
                        origin: Origin::from_role(role.as_deref()),
                    }
                },
            )
            .collect();
        Ok((page, next))
    }

    /// Quarantines a message nudge could not process: it is marked processed, so no pass
    /// tries it again, with when and why (SPEC 13).
    pub async fn quarantine(&self, id: i64, reason: &str, now: DateTime<Utc>) -> Result<()> {
        let mut connection = self.pool().acquire().await.map_err(|e| self.error(e))?;
        self.quarantine_in(&mut connection, id, reason, now).await
    }

    /// [`Store::quarantine`] on `connection` (perhaps within a transaction).
    pub(crate) async fn quarantine_in(
        &self,
        connection: &mut sqlx::AnyConnection,
        id: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE messages SET processed = 1, quarantined_at = $1, quarantine_reason = $2
             WHERE id = $3",
        )
        .bind(now.to_rfc3339())
        .bind(reason)
        .bind(id)
        .execute(connection)
        .await
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// The quarantined messages of a thread, oldest first.
    pub async fn quarantined_in_thread(&self, thread_id: i64) -> Result<Vec<Quarantined>> {
        let rows = sqlx::query(
            "SELECT folder, uid, message_id, subject, quarantined_at, quarantine_reason
             FROM messages WHERE thread_id = $1 AND quarantined_at IS NOT NULL
             ORDER BY quarantined_at, id",
        )
        .bind(thread_id)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        rows.iter()
            .map(|row| {
                Ok(Quarantined {
                    folder: row.get("folder"),
                    uid: row.get::<i64, _>("uid") as u32,
                    message_id: row.get("message_id"),
                    subject: row.get("subject"),
                    at: parse_time(&row.get::<String, _>("quarantined_at"))
                        .map_err(|e| self.error(e))?,
                    reason: row
                        .get::<Option<String>, _>("quarantine_reason")
                        .unwrap_or_default(),
                })
            })
            .collect()
    }

    /// How many messages are quarantined.
    pub async fn quarantined_count(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE quarantined_at IS NOT NULL")
            .fetch_one(self.pool())
            .await
            .map_err(|e| self.error(e))
    }

    /// One stored message.
    pub async fn message(&self, id: i64) -> Result<Option<StoredMessage>> {
        let row = sqlx::query(numbered(
            self.backend(),
            format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?"),
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        row.map(|r| self.message_from_row(&r)).transpose()
    }

    /// The messages of a thread, oldest first.
    pub async fn thread_messages(&self, thread_id: i64) -> Result<Vec<StoredMessage>> {
        let rows = sqlx::query(numbered(
            self.backend(),
            format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE thread_id = ? ORDER BY date, id"),
        ))
        .bind(thread_id)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        rows.iter().map(|r| self.message_from_row(r)).collect()
    }

    /// The threads of unprocessed messages that hold an automated message from someone else
    /// than the seller (an out-of-office, a list): asked once per pass, not per message.
    pub async fn threads_with_automated_mail(&self) -> Result<std::collections::HashSet<i64>> {
        let threads: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT thread_id FROM messages
             WHERE from_seller = 0 AND automated = 1
               AND thread_id IN (SELECT thread_id FROM messages WHERE processed = 0)",
        )
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        Ok(threads.into_iter().collect())
    }

    /// The thread a Message-ID belongs to, if it was ever seen.
    pub async fn thread_of(&self, message_id: &str) -> Result<Option<i64>> {
        sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT {THREAD_OF_KEY} FROM thread_keys k WHERE k.key = $1"
        )))
        .bind(thread_key(message_id))
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.error(e))
    }

    /// True when a message with this Message-ID is stored, in any folder.
    pub async fn knows_message_id(&self, message_id: &str) -> Result<bool> {
        sqlx::query_scalar::<_, i64>(AssertSqlSafe(format!(
            "SELECT CASE WHEN EXISTS(SELECT 1 FROM thread_keys k JOIN messages m
             ON m.thread_id = {THREAD_OF_KEY} AND m.message_id = $1
             WHERE k.key = $2) THEN 1 ELSE 0 END",
        )))
        .bind(message_id)
        .bind(thread_key(message_id))
        .fetch_one(self.pool())
        .await
        .map(|found| found != 0)
        .map_err(|e| self.error(e))
    }

    /// True when the seller sent a message with this Message-ID (it is in Sent, from a
    /// seller identity).
    pub async fn seller_sent(&self, message_id: &str) -> Result<bool> {
        sqlx::query_scalar::<_, i64>(AssertSqlSafe(format!(
            "SELECT CASE WHEN EXISTS(SELECT 1 FROM thread_keys k JOIN messages m
             ON m.thread_id = {THREAD_OF_KEY} AND m.message_id = $1
             JOIN folders f ON f.name = m.folder
             WHERE k.key = $2 AND m.from_seller = 1 AND f.role = 'sent') THEN 1 ELSE 0 END",
        )))
        .bind(message_id)
        .bind(thread_key(message_id))
        .fetch_one(self.pool())
        .await
        .map(|found| found != 0)
        .map_err(|e| self.error(e))
    }

    /// How many messages are stored (for reports and tests).
    pub async fn message_count(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM messages")
            .fetch_one(self.pool())
            .await
            .map_err(|e| self.error(e))
    }

    fn message_from_row(&self, row: &sqlx::any::AnyRow) -> Result<StoredMessage> {
        self.message_of(MessageRow::of(row))
    }

    fn message_of(&self, row: MessageRow) -> Result<StoredMessage> {
        let date = read_time(row.date).map_err(|e| self.error(e))?;
        let arrived = match row.arrived {
            Some(seconds) => read_time(seconds).map_err(|e| self.error(e))?,
            None => date,
        };
        Ok(StoredMessage {
            id: row.id,
            folder: row.folder,
            origin: Origin::from_role(row.role.as_deref()),
            uid: row.uid as u32,
            thread_id: row.thread_id,
            message_id: row.message_id,
            in_reply_to: split_ids(&row.in_reply_to),
            references: split_ids(&row.refs),
            from_addr: row.from_addr,
            from_name: row.from_name,
            to: super::batch::read_mailboxes(&row.to_addrs),
            cc: super::batch::read_mailboxes(&row.cc_addrs),
            subject: row.subject,
            date,
            arrived,
            flags: row.flags.split_whitespace().map(str::to_string).collect(),
            from_seller: row.from_seller != 0,
            automated: row.automated != 0,
            class: row.class.and_then(MessageClass::from_code),
            return_date: row.return_date.and_then(|d| d.parse().ok()),
            bounced_message_id: row.bounced_message_id,
            bounced_recipient: row.bounced_recipient,
            snippet: row.snippet,
            has_body: row.has_body != 0,
            heard: Heard::from_json(row.heard.as_deref()),
            organization: row.organization,
        })
    }
}

/// The thread of the `thread_keys` row `k`: the row's, or the thread that one went into when
/// two threads turned out to be one ([`merge_threads`]; migration 0018).
pub(crate) const THREAD_OF_KEY: &str = "coalesce((SELECT g.into_thread FROM thread_merges g \
     WHERE g.thread_id = k.thread_id), k.thread_id)";

/// The key a Message-ID (or another thread key: Gmail's thread id, a message's own) is
/// threaded by in `thread_keys`: the first eight bytes of its SHA-256, read as a signed
/// big-endian integer. Eight bytes instead of the text's forty or so, twice (table and index).
/// Two ids share a key by chance, and their threads become one, with odds of about one in
/// 40 million in a store of a million ids (one in 400,000 at ten million); a stranger cannot
/// pick an id to join another thread's key: that takes a second preimage of SHA-256's first
/// 64 bits. PostgreSQL's migration `0004_thread_keys.sql` computes
/// the same key in SQL.
pub(crate) fn thread_key(id: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Moves thread `other` into `target`. When both have a conversation, the one touched last
/// goes on; the other is stopped with a note, never deleted.
pub(super) async fn merge_threads(
    tx: &mut Transaction<'_, Any>,
    target: i64,
    other: i64,
) -> std::result::Result<(), sqlx::Error> {
    // The keys stay as they are: `other` now leads to `target`, and so does whatever led
    // to `other` (so a lookup takes one step).
    sqlx::query("UPDATE thread_merges SET into_thread = $1 WHERE into_thread = $2")
        .bind(target)
        .bind(other)
        .execute(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO thread_merges (thread_id, into_thread) VALUES ($1, $2)")
        .bind(other)
        .bind(target)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE messages SET thread_id = $1 WHERE thread_id = $2")
        .bind(target)
        .bind(other)
        .execute(&mut **tx)
        .await?;
    let conversations: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT id, thread_id, last_touch_at FROM conversations WHERE thread_id IN ($1, $2)
         ORDER BY last_touch_at DESC, id DESC",
    )
    .bind(target)
    .bind(other)
    .fetch_all(&mut **tx)
    .await?;
    match conversations.as_slice() {
        [] => {}
        [(id, _, _)] => {
            sqlx::query("UPDATE conversations SET thread_id = $1 WHERE id = $2")
                .bind(target)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        [(keep, keep_thread, _), (older, _, _), ..] => {
            if *keep_thread != target {
                // Swap the two threads so the conversation that goes on sits on the target;
                // the placeholder id is checked against threads only at commit.
                let defer = if tx.backend_name() == "PostgreSQL" {
                    "SET CONSTRAINTS ALL DEFERRED"
                } else {
                    "PRAGMA defer_foreign_keys = ON"
                };
                sqlx::query(defer).execute(&mut **tx).await?;
                for (id, thread) in [(*keep, -*keep), (*older, *keep_thread), (*keep, target)] {
                    sqlx::query("UPDATE conversations SET thread_id = $1 WHERE id = $2")
                        .bind(thread)
                        .bind(id)
                        .execute(&mut **tx)
                        .await?;
                }
            }
            super::conversations::transition_in(
                tx,
                *older,
                Transition::Merged { into: *keep },
                Utc::now(),
            )
            .await?;
        }
    }
    Ok(())
}

/// The threads the seller wrote in and the people and organisations the seller wrote to.
#[derive(Debug, Default)]
pub struct SellerReach {
    threads: std::collections::HashSet<i64>,
    addresses: std::collections::HashSet<String>,
    organisations: std::collections::HashSet<String>,
}

impl SellerReach {
    /// True when an inbound message from `from` in thread `thread_id` could matter to a
    /// conversation: its thread holds a message of the seller's, or the seller has written to
    /// the sender or (with `same_domain`, outside free mail) to the sender's organisation.
    pub fn may_concern(&self, thread_id: i64, from: &str, same_domain: bool) -> bool {
        if self.threads.contains(&thread_id) || self.addresses.contains(from) {
            return true;
        }
        let from_domain = domain(from);
        if !same_domain || is_freemail(&from_domain) {
            return false;
        }
        let org = organisation_domain(&from_domain);
        !org.is_empty() && self.organisations.contains(&org)
    }
}

/// The columns [`Store::text_candidates_page`] reads: id, folder, uid, thread, Message-ID,
/// sender, subject, arrival and the folder's role.
type CandidateRow = (
    i64,
    String,
    i64,
    i64,
    Option<String>,
    String,
    String,
    i64,
    Option<String>,
);

/// An unprocessed inbound message whose text was not read, as
/// [`Store::text_candidates_page`] reads it.
#[derive(Debug, Clone)]
pub struct TextCandidate {
    pub id: i64,
    pub folder: String,
    pub uid: u32,
    pub thread_id: i64,
    pub message_id: Option<String>,
    pub from_addr: String,
    pub subject: String,
    /// The role of its folder.
    pub origin: Origin,
}

/// Where a page of unprocessed messages ended.
#[derive(Debug, Clone)]
pub struct Cursor {
    arrived: i64,
    id: i64,
}

impl Cursor {
    /// Where the next page starts, when `rows` filled the page (`last` reads the arrival
    /// and id of its last row); `None` when this page was the last.
    fn after<T>(rows: &[T], limit: usize, last: impl Fn(&T) -> (i64, i64)) -> Option<Cursor> {
        rows.last().filter(|_| rows.len() == limit).map(|row| {
            let (arrived, id) = last(row);
            Cursor { arrived, id }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::thread_key;

    /// A page read as JSON holds each column a message is read from, in its order, under
    /// its own name or its alias.
    #[test]
    fn a_page_names_the_columns_a_message_is_read_from() {
        let names = super::output_names(super::MESSAGE_COLUMNS);
        let names: Vec<&str> = names.split(", ").collect();
        assert_eq!(names.len(), 26);
        assert_eq!(names[..3], ["id", "folder", "uid"]);
        assert_eq!(names[12..14], ["date", "arrived"]);
        assert_eq!(names[25], "role");
        assert_eq!(
            super::output_names("id,\n  (SELECT role FROM folders) AS role"),
            "id, role"
        );
    }

    /// The key is the first eight bytes of SHA-256, big-endian and signed, the same on every
    /// build and the one PostgreSQL's migration computes: values from another SHA-256 (Python's
    /// hashlib), of an id, of Gmail's thread key and of an id that is not ASCII.
    #[test]
    fn a_thread_key_is_the_first_eight_bytes_of_sha256() {
        assert_eq!(thread_key("c1.t0@fjordsalg.no"), 1_989_186_582_306_345_263);
        assert_eq!(thread_key("gm:1234"), -5_267_647_513_925_803_608);
        assert_eq!(thread_key("ø@æ.example"), -8_950_531_159_245_246_474);
        assert_ne!(
            thread_key("C1.t0@fjordsalg.no"),
            thread_key("c1.t0@fjordsalg.no")
        );
    }
}
