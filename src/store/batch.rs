//! Storing a batch of fetched messages in a handful of statements: the known ones and the
//! thread keys are looked up once per batch, threads are linked in memory, and the new rows
//! go in with multi-row INSERTs. Per message this is a few microseconds of SQL instead of a
//! dozen round trips to SQLite.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use super::numbered;
use chrono::{DateTime, Utc};
use sqlx::{Any, Transaction};

use super::messages::{merge_threads, thread_key, NewMessage, THREAD_OF_KEY};
use super::{in_list, in_list_len, placeholders, shaped, IN_CHUNK};
use crate::mail::address::{domain, organisation_domain};
use crate::model::{MessageClass, Origin};

type Tx<'t> = Transaction<'t, Any>;

/// The key a message is threaded by when it has none of its own: unique to its copy.
fn own_key(message: &NewMessage) -> String {
    format!(
        "{}/{}/{}@nudge.invalid",
        message.folder, message.uidvalidity, message.uid
    )
}

/// The thread keys of a message, as `thread_keys` stores them ([`thread_key`]): of its ids
/// and references, Gmail's thread id, or its own.
fn thread_keys(message: &NewMessage) -> Vec<i64> {
    let mut keys = message.mail.thread_ids();
    if let Some(thrid) = message.gm_thrid {
        keys.push(format!("gm:{thrid}"));
    }
    if keys.is_empty() {
        keys.push(own_key(message));
    }
    let mut keys: Vec<i64> = keys.iter().map(|k| thread_key(k)).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// A message row waiting for its INSERT.
struct Row<'m> {
    id: i64,
    thread: i64,
    message: &'m NewMessage,
}

/// What a batch adds, written out by [`Pending::flush`].
#[derive(Default)]
struct Pending<'m> {
    threads: Vec<i64>,
    keys: Vec<(i64, i64)>,
    rows: Vec<Row<'m>>,
}

/// Runs `INSERT INTO {head} VALUES (…), (…)` for `items` in as few statements as the
/// variable limit allows, binding each item's `width` values with `bind`.
pub(super) async fn insert_rows<T>(
    tx: &mut Tx<'_>,
    head: &str,
    tail: &str,
    width: usize,
    items: &[T],
    bind: impl for<'q> Fn(
        sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
        &'q T,
    ) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
) -> Result<(), sqlx::Error> {
    let group = format!("({})", placeholders(width));
    for chunk in shaped(items, width) {
        let sql = format!(
            "INSERT INTO {head} VALUES {} {tail}",
            vec![group.as_str(); chunk.len()].join(", ")
        );
        let mut query = sqlx::query(numbered(super::Backend::of(tx), sql));
        for item in chunk {
            query = bind(query, item);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Writes `(key, thread)` rows into `thread_keys`; a key already there keeps its thread.
pub(super) async fn insert_thread_keys(
    tx: &mut Tx<'_>,
    keys: &[(i64, i64)],
) -> Result<(), sqlx::Error> {
    insert_rows(
        tx,
        "thread_keys (key, thread_id)",
        "ON CONFLICT(key) DO NOTHING",
        2,
        keys,
        |q, (key, thread)| q.bind(*key).bind(*thread),
    )
    .await
}

impl<'m> Pending<'m> {
    async fn flush(&mut self, tx: &mut Tx<'_>, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
        let threads = std::mem::take(&mut self.threads);
        insert_rows(tx, "threads (id)", "", 1, &threads, |q, id| q.bind(*id)).await?;
        let keys = std::mem::take(&mut self.keys);
        insert_thread_keys(tx, &keys).await?;
        let rows = std::mem::take(&mut self.rows);
        let values: Vec<MessageValues> = rows.iter().map(|r| MessageValues::of(r, at)).collect();
        insert_rows(
            tx,
            "messages (id, folder, uidvalidity, uid, thread_id, message_id, in_reply_to, refs,
                 from_addr, from_name, to_addrs, cc_addrs, subject, date, arrived, flags,
                 from_seller, automated, class, organization, processed)",
            "",
            21,
            &values,
            |q, v| {
                q.bind(v.id)
                    .bind(v.folder)
                    .bind(v.uidvalidity)
                    .bind(v.uid)
                    .bind(v.thread)
                    .bind(v.message_id)
                    .bind(v.in_reply_to.as_str())
                    .bind(v.refs.as_str())
                    .bind(v.from_addr)
                    .bind(v.from_name)
                    .bind(v.to.as_str())
                    .bind(v.cc.as_str())
                    .bind(v.subject)
                    .bind(v.date)
                    .bind(v.arrived)
                    .bind(v.flags.as_str())
                    .bind(i64::from(v.from_seller))
                    .bind(i64::from(v.automated))
                    .bind(v.class)
                    .bind(v.organization)
                    .bind(i64::from(v.processed))
            },
        )
        .await?;
        // Only the seller's own sent mail says whom the seller writes to.
        // One row per address, at its latest date: PostgreSQL's upsert may not touch a row
        // twice in one statement.
        let mut latest: HashMap<&str, DateTime<Utc>> = HashMap::new();
        for (v, r) in values.iter().zip(&rows) {
            let message = r.message;
            if message.origin != Origin::Sent || !message.from_seller || message.automated {
                continue;
            }
            for recipient in message.mail.recipients() {
                let date = latest.entry(recipient.address.as_str()).or_insert(v.sent);
                *date = (*date).max(v.sent);
            }
        }
        let mut contacts: Vec<(String, String, String)> = latest
            .into_iter()
            .map(|(address, date)| {
                (
                    address.to_string(),
                    organisation_domain(&domain(address)),
                    date.to_rfc3339(),
                )
            })
            .collect();
        contacts.sort_unstable();
        insert_rows(
            tx,
            "contacts (address, org_domain, last_sent)",
            "ON CONFLICT(address) DO UPDATE SET last_sent = CASE WHEN excluded.last_sent > contacts.last_sent
                 THEN excluded.last_sent ELSE contacts.last_sent END",
            3,
            &contacts,
            |q, (address, org, date)| {
                q.bind(address.as_str())
                    .bind(org.as_str())
                    .bind(date.as_str())
            },
        )
        .await?;
        Ok(())
    }
}

/// A message row's values, as stored.
struct MessageValues<'m> {
    id: i64,
    folder: &'m str,
    uidvalidity: i64,
    uid: i64,
    thread: i64,
    message_id: Option<&'m str>,
    in_reply_to: String,
    refs: String,
    from_addr: &'m str,
    from_name: Option<&'m str>,
    to: String,
    cc: String,
    subject: &'m str,
    /// Its Date (else INTERNALDATE), and when it arrived: [`super::stored_time`].
    date: i64,
    arrived: i64,
    /// Its Date, as the seller's contacts keep it.
    sent: DateTime<Utc>,
    flags: String,
    from_seller: bool,
    automated: bool,
    class: Option<i64>,
    organization: Option<&'m str>,
    /// Applied already: it can never change a conversation ([`crate::rules::inert`]).
    processed: bool,
}

/// The ids of a message's In-Reply-To that its References do not already name, as stored:
/// In-Reply-To mostly repeats the last reference, and every reader of a stored message takes
/// the two together, as what it answers ([`Message::names`], [`crate::rules::LastTouch`]), so
/// the repeat says nothing. (Classifying reads the parsed headers, whole, before storing.)
///
/// [`Message::names`]: crate::model::Message::names
fn answered_beyond_references(mail: &crate::mail::parse::Mail) -> String {
    let beyond: Vec<&str> = mail
        .in_reply_to
        .iter()
        .filter(|id| !mail.references.contains(id))
        .map(String::as_str)
        .collect();
    beyond.join(" ")
}

/// A list of recipients as stored: one line per recipient, the address and, when there is a
/// name, a tab and the name; nothing for no recipient. About 30 bytes a message less than
/// the JSON stores wrote before (`[{"address":…,"name":…}]`), which is kept where a line
/// could not say it (a tab or line break in a value, an address that starts like JSON, a
/// lone empty address) and is always read ([`read_mailboxes`]).
fn stored_mailboxes(list: &[crate::mail::parse::Mailbox]) -> String {
    let plain = |text: &str| !text.contains(['\t', '\n']);
    let as_lines = list.iter().all(|m| {
        plain(&m.address) && !m.address.starts_with('[') && m.name.as_deref().is_none_or(plain)
    });
    let lone_empty = matches!(list, [m] if m.address.is_empty() && m.name.is_none());
    if !as_lines || lone_empty {
        return stored_as_json(list);
    }
    let mut out = String::new();
    for (i, m) in list.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&m.address);
        if let Some(name) = &m.name {
            out.push('\t');
            out.push_str(name);
        }
    }
    out
}

/// The recipients the store keeps of `message`: those of the seller's own mail, none of
/// mail from others ([`crate::rules::recipients_read`]).
fn recipients_kept(message: &NewMessage, list: &[crate::mail::parse::Mailbox]) -> String {
    if crate::rules::recipients_read(message.from_seller) {
        stored_mailboxes(list)
    } else {
        String::new()
    }
}

/// The flags the store keeps: `\Flagged`, which tracking mode "flagged" reads; nothing reads
/// the others (`\Seen`, `\Answered`, keywords).
fn kept_flags(flags: &[String]) -> String {
    if crate::model::flagged(flags) {
        "\\Flagged"
    } else {
        ""
    }
    .to_string()
}

/// Recipients as [`stored_mailboxes`] writes them, and as JSON; what cannot be read is no
/// recipient.
pub(super) fn read_mailboxes(text: &str) -> Vec<crate::mail::parse::Mailbox> {
    use crate::mail::parse::Mailbox;
    if text.starts_with('[') {
        return serde_json::from_str(text).unwrap_or_default();
    }
    if text.is_empty() {
        return Vec::new();
    }
    text.split('\n')
        .map(|line| match line.split_once('\t') {
            Some((address, name)) => Mailbox {
                address: address.to_string(),
                name: Some(name.to_string()),
            },
            None => Mailbox {
                address: line.to_string(),
                name: None,
            },
        })
        .collect()
}

/// JSON, a name only when there is one (a missing name reads back as none).
fn stored_as_json(list: &[crate::mail::parse::Mailbox]) -> String {
    #[derive(serde::Serialize)]
    struct Stored<'a> {
        address: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<&'a str>,
    }
    let stored: Vec<Stored> = list
        .iter()
        .map(|m| Stored {
            address: &m.address,
            name: m.name.as_deref(),
        })
        .collect();
    serde_json::to_string(&stored).unwrap_or_else(|_| "[]".into())
}

impl<'m> MessageValues<'m> {
    fn of(row: &Row<'m>, at: DateTime<Utc>) -> MessageValues<'m> {
        let message = row.message;
        let mail = &message.mail;
        let date = mail.date.or(message.internal_date).unwrap_or(at);
        let arrived = crate::rules::arrival(date, message.internal_date, at);
        let from = mail.from.as_ref();
        let inert = crate::rules::inert(
            message.origin,
            message.from_seller,
            message.automated,
            message.class,
        );
        let values = MessageValues {
            id: row.id,
            folder: &message.folder,
            uidvalidity: i64::from(message.uidvalidity),
            uid: i64::from(message.uid),
            thread: row.thread,
            message_id: mail.message_id.as_deref(),
            in_reply_to: answered_beyond_references(mail),
            refs: mail.references.join(" "),
            from_addr: from.map(|f| f.address.as_str()).unwrap_or(""),
            from_name: from.and_then(|f| f.name.as_deref()),
            to: recipients_kept(message, &mail.to),
            cc: recipients_kept(message, &mail.cc),
            subject: &mail.subject,
            date: super::stored_time(date),
            arrived: super::stored_time(arrived),
            sent: date,
            flags: kept_flags(&message.flags),
            from_seller: message.from_seller,
            automated: message.automated,
            class: message.class.map(MessageClass::code),
            // Only mail from others names the prospect's company.
            organization: mail
                .organization
                .as_deref()
                .filter(|_| !message.from_seller),
            processed: inert,
        };
        if inert && message.automated && !message.from_seller {
            values.kept_of_list_mail()
        } else {
            values
        }
    }

    /// List mail as the store keeps it: what threads it and marks its thread as a list's
    /// (who sent it, when, its ids), and the company it names (a draft greets the company of
    /// the prospect's latest message, whatever tool sent it). Nothing reads its subject or
    /// flags; its recipients, as those of all mail from others, are never kept
    /// ([`recipients_kept`]).
    fn kept_of_list_mail(self) -> MessageValues<'m> {
        MessageValues {
            in_reply_to: String::new(),
            refs: String::new(),
            from_name: None,
            subject: "",
            flags: String::new(),
            ..self
        }
    }
}

/// One past the highest id of `table`: the id SQLite would give the next row, known ahead
/// so a batch can be linked before it is written (the caller holds the write lock).
async fn next_id(tx: &mut Tx<'_>, table: &str) -> Result<i64, sqlx::Error> {
    let max: Option<i64> = sqlx::query_scalar(numbered(
        super::Backend::of(tx),
        format!("SELECT MAX(id) FROM {table}"),
    ))
    .fetch_one(&mut **tx)
    .await?;
    Ok(max.unwrap_or(0) + 1)
}

/// The (key, id) rows `sql` (ending in `IN ({})`) finds for `keys`, asked in chunks; `scope`
/// binds the folder and UIDVALIDITY placeholders that come before the list, when there are.
async fn lookup<'k, K, O>(
    tx: &mut Tx<'_>,
    sql: &str,
    scope: Option<(&'k str, i64)>,
    keys: &'k [K],
) -> Result<Vec<(O, i64)>, sqlx::Error>
where
    K: sqlx::Type<Any> + sqlx::Encode<'k, Any> + Send + Sync + Clone + 'k,
    O: sqlx::Type<Any> + for<'r> sqlx::Decode<'r, Any> + Send + Unpin,
{
    let mut found = Vec::new();
    for chunk in keys.chunks(IN_CHUNK) {
        let mut query = sqlx::query_as::<_, (O, i64)>(numbered(
            super::Backend::of(tx),
            sql.replace("{}", &placeholders(in_list_len(chunk.len()))),
        ));
        if let Some((folder, uidvalidity)) = scope {
            query = query.bind(folder).bind(uidvalidity);
        }
        for key in in_list(chunk) {
            query = query.bind(key.clone());
        }
        found.extend(query.fetch_all(&mut **tx).await?);
    }
    Ok(found)
}

/// Stores `messages` (all of one folder) and threads them; returns their ids, in order. A
/// message already stored (fetched again after a crash) keeps its row; one whose folder
/// changed UIDVALIDITY keeps its row with the new UID.
pub(super) async fn store_batch(
    tx: &mut Tx<'_>,
    messages: &[NewMessage],
    now: DateTime<Utc>,
) -> Result<Vec<i64>, sqlx::Error> {
    let Some(first) = messages.first() else {
        return Ok(Vec::new());
    };
    let folder = first.folder.as_str();
    let uidvalidity = i64::from(first.uidvalidity);
    debug_assert!(messages
        .iter()
        .all(|m| m.folder == folder && i64::from(m.uidvalidity) == uidvalidity));

    // Already stored under these UIDs.
    let uids: Vec<i64> = messages.iter().map(|m| i64::from(m.uid)).collect();
    let known: HashMap<u32, i64> = lookup::<_, i64>(
        tx,
        "SELECT uid, id FROM messages WHERE folder = ? AND uidvalidity = ? AND uid IN ({})",
        Some((folder, uidvalidity)),
        &uids,
    )
    .await?
    .into_iter()
    .map(|(uid, id)| (uid as u32, id))
    .collect();
    // Stored under an older UIDVALIDITY of this folder: the same message, renumbered. Two
    // ranges of the (folder, uidvalidity, uid) index, where `!=` would scan the folder.
    let renumbered: i64 = sqlx::query_scalar(
        "SELECT CASE WHEN EXISTS(SELECT 1 FROM messages WHERE folder = $1 AND uidvalidity < $2)
             OR EXISTS(SELECT 1 FROM messages WHERE folder = $3 AND uidvalidity > $4)
             THEN 1 ELSE 0 END",
    )
    .bind(folder)
    .bind(uidvalidity)
    .bind(folder)
    .bind(uidvalidity)
    .fetch_one(&mut **tx)
    .await?;
    let mut moved: HashMap<String, i64> = HashMap::new();
    if renumbered != 0 {
        let ids: HashSet<&str> = messages
            .iter()
            .filter(|m| !known.contains_key(&m.uid))
            .filter_map(|m| m.mail.message_id.as_deref())
            .collect();
        let ids: Vec<&str> = ids.into_iter().collect();
        // Found through the threads their ids name (there is no index of messages by id),
        // and among those threads' messages by the id itself: each stored copy comes once,
        // however long its thread. The threads are listed first, so that the thread index
        // is used even before the store has statistics (the folder's would scan it).
        for chunk in ids.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT m.message_id, m.id \
                 FROM (SELECT DISTINCT {THREAD_OF_KEY} AS thread_id \
                       FROM thread_keys k WHERE k.key IN ({})) AS t \
                 JOIN messages m ON m.thread_id = t.thread_id \
                 WHERE m.folder = ? AND m.uidvalidity != ? AND m.message_id IN ({})",
                placeholders(chunk.len()),
                placeholders(chunk.len())
            );
            let mut query =
                sqlx::query_as::<_, (String, i64)>(numbered(super::Backend::of(tx), sql))
                    .persistent(false);
            for id in chunk {
                query = query.bind(thread_key(id));
            }
            query = query.bind(folder).bind(uidvalidity);
            for id in chunk {
                query = query.bind(*id);
            }
            for (message_id, id) in query.fetch_all(&mut **tx).await? {
                moved.entry(message_id).or_insert(id);
            }
        }
    }

    // The threads the batch's keys already belong to.
    let keys: Vec<Vec<i64>> = messages.iter().map(thread_keys).collect();
    let wanted: HashSet<i64> = keys.iter().flatten().copied().collect();
    let wanted: Vec<i64> = wanted.into_iter().collect();
    let mut thread_of: HashMap<i64, i64> = lookup(
        tx,
        &format!("SELECT k.key, {THREAD_OF_KEY} FROM thread_keys k WHERE k.key IN ({{}})"),
        None,
        &wanted,
    )
    .await?
    .into_iter()
    .collect();

    let mut next_thread = next_id(tx, "threads").await?;
    let mut next_message = next_id(tx, "messages").await?;
    let mut pending = Pending::default();
    let mut ids = Vec::with_capacity(messages.len());
    for (message, keys) in messages.iter().zip(&keys) {
        if let Some(&id) = known.get(&message.uid) {
            ids.push(id);
            continue;
        }
        if let Some(&id) = message.mail.message_id.as_ref().and_then(|m| moved.get(m)) {
            pending.flush(tx, now).await?;
            sqlx::query("UPDATE messages SET uidvalidity = $1, uid = $2, flags = $3 WHERE id = $4")
                .bind(uidvalidity)
                .bind(i64::from(message.uid))
                .bind(kept_flags(&message.flags))
                .bind(id)
                .execute(&mut **tx)
                .await?;
            ids.push(id);
            continue;
        }
        let mut threads: Vec<i64> = keys
            .iter()
            .filter_map(|k| thread_of.get(k))
            .copied()
            .collect();
        threads.sort_unstable();
        threads.dedup();
        let thread = match threads.split_first() {
            None => {
                let id = next_thread;
                next_thread += 1;
                pending.threads.push(id);
                id
            }
            Some((&target, [])) => target,
            Some((&target, others)) => {
                // Two threads turn out to be one (rare): write what is pending, merge them
                // in the store, and follow the merge here.
                pending.flush(tx, now).await?;
                for &other in others {
                    merge_threads(tx, target, other).await?;
                    for thread in thread_of.values_mut() {
                        if *thread == other {
                            *thread = target;
                        }
                    }
                }
                target
            }
        };
        for &key in keys {
            if let Entry::Vacant(entry) = thread_of.entry(key) {
                entry.insert(thread);
                pending.keys.push((key, thread));
            }
        }
        let id = next_message;
        next_message += 1;
        pending.rows.push(Row {
            id,
            thread,
            message,
        });
        ids.push(id);
    }
    pending.flush(tx, now).await?;
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::{read_mailboxes, stored_as_json, stored_mailboxes};
    use crate::mail::parse::Mailbox;
    use proptest::prelude::*;

    proptest! {
        /// Recipients read back as they were stored, with and without names, whatever their
        /// text; lists stored as JSON, with or without missing names, read back the same.
        #[test]
        fn recipients_read_back_as_stored(
            list in prop::collection::vec(
                (
                    prop_oneof![
                        "[a-z0-9.]{1,12}@[a-z]{1,8}\\.example",
                        "\\PC{0,12}",
                        "[\\[\t\n a-z@]{0,8}",
                    ],
                    prop::option::of(prop_oneof!["\\PC{0,20}", "[\t\n a-z]{0,8}"]),
                ),
                0..4,
            )
        ) {
            let list: Vec<Mailbox> = list
                .into_iter()
                .map(|(address, name)| Mailbox { address, name })
                .collect();
            let stored = stored_mailboxes(&list);
            prop_assert!(!stored.contains("\"name\":null"), "{}", stored);
            prop_assert_eq!(&read_mailboxes(&stored), &list, "{:?}", stored);
            let before = serde_json::to_string(&list).unwrap();
            prop_assert_eq!(&read_mailboxes(&before), &list);
            prop_assert_eq!(&read_mailboxes(&stored_as_json(&list)), &list);
        }
    }

    #[test]
    fn recipients_are_stored_as_lines_when_lines_can_say_them() {
        let kari = Mailbox {
            address: "kari@fjordkraft.no".into(),
            name: Some("Kari Nordmann".into()),
        };
        let ola = Mailbox {
            address: "ola@fjordkraft.no".into(),
            name: None,
        };
        assert_eq!(
            stored_mailboxes(&[kari.clone(), ola]),
            "kari@fjordkraft.no\tKari Nordmann\nola@fjordkraft.no"
        );
        assert_eq!(stored_mailboxes(&[]), "");
        assert!(read_mailboxes("[]").is_empty());
        assert!(read_mailboxes("").is_empty());
        let tab = Mailbox {
            name: Some("Kari\tN".into()),
            ..kari
        };
        assert!(stored_mailboxes(&[tab]).starts_with('['));
    }
}
