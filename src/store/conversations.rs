//! Conversations and their append-only history.

use chrono::{DateTime, NaiveDate, Utc};
// Dynamic SQL here is built from constant column lists and '?' placeholders only.
use super::numbered;
use sqlx::{Any, Row, Transaction};

use super::{read_time, stored_time, Store};
use crate::error::{Error, Result};
use crate::mail::address::is_public_suffix;
use crate::model::{Conversation, Event, EventKind};
use crate::rules::machine::{self, Transition};
use crate::rules::Effect;

const CONVERSATION_COLUMNS: &str = "id, thread_id, subject, prospects, state, step, \
    first_touch_at, last_touch_message, last_touch_at, last_inbound_at, replied_after_step, \
    next_due, not_before, wait_from, snoozed_until, stop_reason, language, last_reply_message_id, heard, version";

/// The columns [`bind_fields`] binds, in its order.
const CONVERSATION_FIELDS: &str = "subject, prospects, state, step, first_touch_at, \
    last_touch_message, last_touch_at, last_inbound_at, replied_after_step, next_due, \
    not_before, wait_from, snoozed_until, stop_reason, language, last_reply_message_id, heard";
/// What [`Store::conversations_to_plan`] reads.
#[derive(Debug, Default)]
pub struct ToPlan {
    /// By id.
    pub conversations: Vec<Conversation>,
    /// Those of them planned at their current version.
    pub planned: std::collections::HashSet<i64>,
    /// Drafts due by then of conversations not read: after `room` others.
    pub more_due: usize,
}

/// A conversation's due time as planned at its `version` ([`Store::set_planned`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    pub id: i64,
    pub version: i64,
    pub due: Option<DateTime<Utc>>,
    /// What falls due is a draft (not letting go).
    pub draft: bool,
}

/// The states in which the cadence may still act.
const OPEN_STATES: &str = "('waiting', 'drafted', 'closing', 'snoozed', 'deferred')";
const ROW_OF_21: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const ROW_OF_22: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// The key a prospect, an address or an organisation is found by in `conversation_domains`:
/// what follows the first `@` (the whole value without one), in ASCII lower case: what the
/// migrations' backfill computes in SQL.
fn domain_key(value: &str) -> String {
    value
        .split_once('@')
        .map_or(value, |(_, domain)| domain)
        .to_ascii_lowercase()
}

/// Every row of `conversation_domains` for these prospects: each one's domain key and every
/// parent domain of it that is not a public suffix ("sales.acme.no", "acme.no", not "no"),
/// so that a lookup by organisation finds the conversations of its subdomains too. A lookup
/// by a public suffix (a team's suppression of "kommune.no") searches the rows instead
/// ([`Store::conversations_concerning`]): it is rare, and its rows were one in two. Stores
/// made before this keep the rows of suffixes they have. Sorted, without repeats.
fn prospect_domains(prospects: &[String]) -> Vec<String> {
    let mut domains = Vec::new();
    for prospect in prospects {
        let key = domain_key(prospect);
        if !key.is_empty() {
            domains.push(key.clone());
        }
        let mut domain = key.as_str();
        while let Some((_, parent)) = domain.split_once('.') {
            if is_public_suffix(parent) {
                break;
            }
            domains.push(parent.to_string());
            domain = parent;
        }
    }
    domains.sort_unstable();
    domains.dedup();
    domains
}

/// Writes where the prospects of conversations are: every earlier row of the conversations
/// in `replaced` goes, then the rows of `conversations` go in.
async fn write_domains(
    tx: &mut Transaction<'_, Any>,
    replaced: &[i64],
    conversations: &[&Conversation],
) -> std::result::Result<(), sqlx::Error> {
    let backend = super::Backend::of(tx);
    for chunk in replaced.chunks(super::IN_CHUNK) {
        let sql = format!(
            "DELETE FROM conversation_domains WHERE conversation_id IN ({})",
            super::placeholders(chunk.len())
        );
        let mut query = sqlx::query(numbered(backend, sql)).persistent(false);
        for id in chunk {
            query = query.bind(*id);
        }
        query.execute(&mut **tx).await?;
    }
    let rows: Vec<(String, i64)> = conversations
        .iter()
        .flat_map(|c| {
            prospect_domains(&c.prospects)
                .into_iter()
                .map(move |domain| (domain, c.id))
        })
        .collect();
    super::batch::insert_rows(
        tx,
        "conversation_domains (domain, conversation_id)",
        "ON CONFLICT DO NOTHING",
        2,
        &rows,
        |q, (domain, id)| q.bind(domain.as_str()).bind(*id),
    )
    .await
}

/// Conversations created and changed by effects, kept in memory until
/// [`Store::write_pending`]: a thread of many messages applied in one transaction writes its
/// conversation once, in its last state.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    /// The id the next created conversation gets.
    next_id: Option<i64>,
    rows: Vec<PendingRow>,
    /// Where each conversation is in `rows`.
    at: std::collections::HashMap<i64, usize>,
    /// Whether each changed conversation's prospects differ from its row's, when the caller
    /// knows ([`Pending::note_prospects`]); the others are compared with the row when
    /// written.
    prospects_moved: std::collections::HashMap<i64, bool>,
}

impl Pending {
    /// Tells whether an update of conversation `id` changes its prospects from what the
    /// caller read (several updates in one transaction: whether any does), so that writing
    /// it need not read the row to know whether where its prospects are changed.
    pub(crate) fn note_prospects(&mut self, id: i64, moved: bool) {
        *self.prospects_moved.entry(id).or_insert(false) |= moved;
    }
}

#[derive(Debug)]
struct PendingRow {
    conversation: Conversation,
    /// The version the row was read at; `None` for a conversation created here.
    read_version: Option<i64>,
    /// The version written.
    version: i64,
}

impl Store {
    /// Applies `effects` and, if given, marks the message they came from as processed, all in
    /// one transaction. Returns the ids of conversations created, in order.
    pub async fn commit_effects(
        &self,
        processed_message: Option<i64>,
        effects: &[Effect],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        let mut tx = self.write().await.map_err(|e| self.error(e))?;
        let mut pending = Pending::default();
        let (created, events) = self
            .defer_effects(&mut tx, &mut pending, effects, now)
            .await?;
        self.write_pending(&mut tx, pending, now).await?;
        self.insert_events(&mut tx, &events).await?;
        if let Some(id) = processed_message {
            self.mark_processed_in(&mut tx, &[id]).await?;
        }
        tx.commit().await.map_err(|e| self.error(e))?;
        Ok(created)
    }

    /// Applies `effects` within `tx`, all but the conversations' rows, which wait in `pending`
    /// for [`Store::write_pending`] (each written once, in its last state), and their history
    /// rows, which it returns for [`Store::insert_events`] to write many at once. Created
    /// conversations get their ids at once: `tx` holds the write lock. Returns those ids, in
    /// order, and the history rows.
    pub(crate) async fn defer_effects(
        &self,
        tx: &mut Transaction<'_, Any>,
        pending: &mut Pending,
        effects: &[Effect],
        now: DateTime<Utc>,
    ) -> Result<(Vec<i64>, Vec<(i64, Event)>)> {
        let mut created = Vec::new();
        let mut events = Vec::new();
        for effect in effects {
            match effect {
                Effect::Track(conversation, event) => {
                    let id = match pending.next_id {
                        Some(id) => id,
                        None => sqlx::query_scalar::<_, i64>(
                            "SELECT coalesce(max(id), 0) + 1 FROM conversations",
                        )
                        .fetch_one(&mut **tx)
                        .await
                        .map_err(|e| self.error(e))?,
                    };
                    pending.next_id = Some(id + 1);
                    let mut row = conversation.clone();
                    row.id = id;
                    pending.rows.push(PendingRow {
                        read_version: None,
                        version: conversation.version,
                        conversation: row,
                    });
                    pending.at.insert(id, pending.rows.len() - 1);
                    events.push((id, event.clone()));
                    created.push(id);
                }
                Effect::Update(conversation, event) => {
                    let id = conversation.id;
                    let version = conversation.version + 1;
                    match pending.at.get(&id) {
                        Some(&at) => {
                            let row = &mut pending.rows[at];
                            row.conversation = conversation.clone();
                            row.version = version;
                        }
                        None => {
                            pending.rows.push(PendingRow {
                                read_version: Some(conversation.version),
                                version,
                                conversation: conversation.clone(),
                            });
                            pending.at.insert(id, pending.rows.len() - 1);
                        }
                    }
                    events.push((id, event.clone()));
                }
                Effect::Note(id, event) => {
                    events.push((*id, event.clone()));
                }
                Effect::Suppress { address, reason } => {
                    sqlx::query(
                        "INSERT INTO suppressions (address, reason, added_at) VALUES ($1, $2, $3)
                         ON CONFLICT(address) DO NOTHING",
                    )
                    .bind(address.to_ascii_lowercase())
                    .bind(reason)
                    .bind(now.to_rfc3339())
                    .execute(&mut **tx)
                    .await
                    .map_err(|e| self.error(e))?;
                    // Consent is the company's: a colleague's opt-out binds every member.
                    self.team_suppress_in(tx, address, reason, now)
                        .await
                        .map_err(|e| self.error(e))?;
                }
                Effect::DraftSent {
                    conversation_id,
                    step,
                } => {
                    sqlx::query(
                        "UPDATE drafts SET state = 'sent', resolved_at = $1
                         WHERE conversation_id = $2 AND step = $3 AND state = 'dismissed'",
                    )
                    .bind(now.to_rfc3339())
                    .bind(conversation_id)
                    .bind(i64::from(*step))
                    .execute(&mut **tx)
                    .await
                    .map_err(|e| self.error(e))?;
                }
            }
        }
        Ok((created, events))
    }

    /// Writes the conversations `pending` holds: the new ones inserted, the changed ones
    /// updated if their rows are still at the version they were read at. `Error::Stale` when
    /// another process changed one meanwhile: nothing of it may be committed, and the caller
    /// rolls `tx` back and decides again on the current rows.
    pub(crate) async fn write_pending(
        &self,
        tx: &mut Transaction<'_, Any>,
        pending: Pending,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let moved_as_noted = pending.prospects_moved;
        let (new, changed): (Vec<_>, Vec<_>) = pending
            .rows
            .into_iter()
            .partition(|row| row.read_version.is_none());
        let now = stored_time(now);
        for chunk in new.chunks(100) {
            let sql = format!(
                "INSERT INTO conversations (id, thread_id, version, {CONVERSATION_FIELDS},
                     created_at, updated_at) VALUES {}",
                vec![ROW_OF_22; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(numbered(self.backend(), sql)).persistent(false);
            for row in chunk {
                let c = &row.conversation;
                query = bind_fields(query.bind(c.id).bind(c.thread_id).bind(row.version), c)
                    .bind(now)
                    .bind(now);
            }
            query.execute(&mut **tx).await.map_err(|e| self.error(e))?;
        }
        let created: Vec<&Conversation> = new.iter().map(|row| &row.conversation).collect();
        write_domains(tx, &[], &created)
            .await
            .map_err(|e| self.error(e))?;
        for chunk in changed.chunks(100) {
            let set: Vec<String> = CONVERSATION_FIELDS
                .split(", ")
                .enumerate()
                .map(|(at, field)| format!("{field} = v.column{}", at + 4))
                .collect();
            // VALUES columns: id, version read, version written, the fields, updated_at.
            let sql = format!(
                "UPDATE conversations SET {}, version = v.column3, updated_at = v.column21
                 FROM (VALUES {}) AS v
                 WHERE conversations.id = v.column1 AND conversations.version = v.column2",
                set.join(", "),
                vec![ROW_OF_21; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(numbered(self.backend(), sql)).persistent(false);
            for row in chunk {
                let c = &row.conversation;
                query = bind_fields(query.bind(c.id).bind(row.read_version).bind(row.version), c)
                    .bind(now);
            }
            // The prospects as they were, where the caller did not say whether they changed:
            // where they are is rewritten only when they did.
            let unknown: Vec<i64> = chunk
                .iter()
                .map(|row| row.conversation.id)
                .filter(|id| !moved_as_noted.contains_key(id))
                .collect();
            let mut before: std::collections::HashMap<i64, String> = Default::default();
            if !unknown.is_empty() {
                let sql = format!(
                    "SELECT id, prospects FROM conversations WHERE id IN ({})",
                    super::placeholders(unknown.len())
                );
                let mut query = sqlx::query_as::<_, (i64, String)>(numbered(self.backend(), sql))
                    .persistent(false);
                for id in &unknown {
                    query = query.bind(*id);
                }
                before = query
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(|e| self.error(e))?
                    .into_iter()
                    .collect();
            }
            let done = query.execute(&mut **tx).await.map_err(|e| self.error(e))?;
            if done.rows_affected() != chunk.len() as u64 {
                return Err(Error::Stale {
                    id: chunk[0].conversation.id,
                });
            }
            let moved: Vec<&Conversation> = chunk
                .iter()
                .map(|row| &row.conversation)
                .filter(|c| match moved_as_noted.get(&c.id) {
                    Some(moved) => *moved,
                    None => before.get(&c.id).is_none_or(|prospects| {
                        serde_json::from_str::<Vec<String>>(prospects).ok().as_ref()
                            != Some(&c.prospects)
                    }),
                })
                .collect();
            let ids: Vec<i64> = moved.iter().map(|c| c.id).collect();
            write_domains(tx, &ids, &moved)
                .await
                .map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    /// Writes history rows, in order, a few hundred to a statement.
    pub(crate) async fn insert_events(
        &self,
        tx: &mut Transaction<'_, Any>,
        events: &[(i64, Event)],
    ) -> Result<()> {
        for chunk in events.chunks(1000) {
            let sql = format!(
                "INSERT INTO events (conversation_id, at, kind, detail, step) VALUES {}",
                vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(numbered(self.backend(), sql)).persistent(false);
            for (id, event) in chunk {
                query = query
                    .bind(*id)
                    .bind(stored_time(event.at))
                    .bind(event.kind.name())
                    .bind(&event.detail)
                    .bind(event.step.map(i64::from));
            }
            query.execute(&mut **tx).await.map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    /// Records when each conversation is due next (shown by `status`; no history entry), as
    /// worked out at the conversation's `version`: a conversation changed since keeps its
    /// row as it is and is planned again by the next pass. A few hundred to a statement, in
    /// one transaction.
    pub async fn set_planned(&self, dues: &[Planned]) -> Result<()> {
        if dues.is_empty() {
            return Ok(());
        }
        let mut tx = self.write().await.map_err(|e| self.error(e))?;
        for chunk in dues.chunks(300) {
            let sql = format!(
                "UPDATE conversations
                 SET next_due = v.column2, due_draft = v.column3, planned_version = v.column4
                 FROM (VALUES {}) AS v
                 WHERE conversations.id = v.column1 AND conversations.version = v.column4",
                vec!["(?, ?, ?, ?)"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(numbered(self.backend(), sql)).persistent(false);
            for planned in chunk {
                query = query
                    .bind(planned.id)
                    .bind(planned.due.map(stored_time))
                    .bind(i64::from(planned.draft))
                    .bind(planned.version);
            }
            query.execute(&mut *tx).await.map_err(|e| self.error(e))?;
        }
        tx.commit().await.map_err(|e| self.error(e))
    }

    /// Marks messages whose effect (none) is applied.
    pub async fn mark_processed(&self, ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.write().await.map_err(|e| self.error(e))?;
        self.mark_processed_in(&mut tx, ids).await?;
        tx.commit().await.map_err(|e| self.error(e))
    }

    /// [`Store::mark_processed`] within `tx`, a few hundred messages to a statement.
    pub(crate) async fn mark_processed_in(
        &self,
        tx: &mut Transaction<'_, Any>,
        ids: &[i64],
    ) -> Result<()> {
        for chunk in ids.chunks(super::IN_CHUNK) {
            let sql = format!(
                "UPDATE messages SET processed = 1 WHERE id IN ({})",
                super::placeholders(chunk.len())
            );
            let mut query = sqlx::query(super::numbered(self.backend(), sql)).persistent(false);
            for id in chunk {
                query = query.bind(*id);
            }
            query.execute(&mut **tx).await.map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    /// The conversation of a thread, if nudge follows it.
    pub async fn conversation_for_thread(&self, thread_id: i64) -> Result<Option<Conversation>> {
        self.conversations_where("thread_id = ?", &[thread_id])
            .await
            .map(|mut v| v.pop())
    }

    /// One conversation by id.
    pub async fn conversation(&self, id: i64) -> Result<Option<Conversation>> {
        self.conversations_where("id = ?", &[id])
            .await
            .map(|mut v| v.pop())
    }

    /// The conversations of `ids` that exist, by id, read in as few statements as the list
    /// allows.
    pub async fn conversations_by_id(
        &self,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, Conversation>> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut found = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(super::IN_CHUNK) {
            let condition = format!("id IN ({})", super::placeholders(chunk.len()));
            for conversation in self.conversations_where(&condition, chunk).await? {
                found.insert(conversation.id, conversation);
            }
        }
        Ok(found)
    }

    /// Every conversation, oldest first.
    pub async fn conversations(&self) -> Result<Vec<Conversation>> {
        self.conversations_where("1 = 1", &[]).await
    }

    /// Conversations still waiting on the prospect.
    pub async fn open_conversations(&self) -> Result<Vec<Conversation>> {
        self.conversations_where(&format!("state IN {OPEN_STATES}"), &[])
            .await
    }

    /// The open conversations a pass must plan: those changed since their due time was
    /// worked out ([`Store::set_planned`]), those due by `now` to be let go, and of those
    /// due a draft by `now`, the `room` due first (by due time, then id). The others wait,
    /// due later, at the time their rows say, or are counted in [`ToPlan::more_due`].
    pub async fn conversations_to_plan(&self, now: DateTime<Utc>, room: usize) -> Result<ToPlan> {
        let now = stored_time(now);
        let planned = "planned_version IS NOT DISTINCT FROM version";
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS}, CASE WHEN {planned} THEN 1 ELSE 0 END AS planned,
                    0 AS limited FROM conversations
             WHERE state IN {OPEN_STATES}
               AND (planned_version IS DISTINCT FROM version
                    OR (next_due <= ?1 AND due_draft = 0))
             UNION ALL
             SELECT * FROM (
                 SELECT {CONVERSATION_COLUMNS}, 1 AS planned, 1 AS limited FROM conversations
                 WHERE state IN {OPEN_STATES} AND {planned} AND next_due <= ?1 AND due_draft = 1
                 ORDER BY next_due, id LIMIT ?2) AS limited_drafts"
        );
        let rows = sqlx::query(numbered(self.backend(), sql))
            .bind(now)
            .bind(room as i64)
            .fetch_all(self.pool())
            .await
            .map_err(|e| self.error(e))?;
        let mut plan = ToPlan::default();
        let mut loaded_drafts = 0;
        for row in &rows {
            let conversation = self.conversation_from_row(row)?;
            if row
                .try_get::<i64, _>("planned")
                .map_err(|e| self.error(e))?
                != 0
            {
                plan.planned.insert(conversation.id);
            }
            if row
                .try_get::<i64, _>("limited")
                .map_err(|e| self.error(e))?
                != 0
            {
                loaded_drafts += 1;
            }
            plan.conversations.push(conversation);
        }
        let sql = format!(
            "SELECT COUNT(*) FROM conversations
             WHERE state IN {OPEN_STATES} AND {planned} AND next_due <= ? AND due_draft = 1"
        );
        let due_drafts: i64 = sqlx::query_scalar(numbered(self.backend(), sql))
            .bind(now)
            .fetch_one(self.pool())
            .await
            .map_err(|e| self.error(e))?;
        plan.more_due = (due_drafts as usize).saturating_sub(loaded_drafts);
        plan.conversations.sort_by_key(|c| c.id);
        Ok(plan)
    }

    /// The earliest due time after `now` among the open conversations planned at their
    /// current version: when the next thing falls due among those a pass did not load.
    pub async fn next_planned_due(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        let sql = format!(
            "SELECT MIN(next_due) FROM conversations
             WHERE state IN {OPEN_STATES} AND planned_version = version AND next_due > ?"
        );
        let due: Option<i64> = sqlx::query_scalar(numbered(self.backend(), sql))
            .bind(stored_time(now))
            .fetch_one(self.pool())
            .await
            .map_err(|e| self.error(e))?;
        due.map(|d| read_time(d).map_err(Error::Data)).transpose()
    }

    /// The conversations a few inbound or sent messages can concern: those of their threads
    /// (and of the threads of the messages bounces return), and those with a prospect at one
    /// of the `addresses` or in one of the `organisations` (a superset: the rules decide).
    /// Indexed lookups (by thread, and by the domains of `conversation_domains`), then a test
    /// of the prospects of those conversations only, instead of every conversation.
    pub async fn conversations_concerning(
        &self,
        threads: &[i64],
        returned: &[String],
        addresses: &[String],
        organisations: &[String],
    ) -> Result<Vec<Conversation>> {
        let mut threads: Vec<i64> = threads.to_vec();
        if !returned.is_empty() {
            let sql = format!(
                "SELECT {} FROM thread_keys k WHERE k.key IN ({})",
                super::messages::THREAD_OF_KEY,
                super::placeholders(returned.len())
            );
            let mut query =
                sqlx::query_scalar::<_, i64>(numbered(self.backend(), sql)).persistent(false);
            for id in returned {
                query = query.bind(super::messages::thread_key(id));
            }
            threads.extend(
                query
                    .fetch_all(self.pool())
                    .await
                    .map_err(|e| self.error(e))?,
            );
        }
        // The two dialects' names for "where in the text" and "the elements of a JSON array".
        let (find, elements) = match self.backend() {
            super::Backend::Sqlite => ("instr", "json_each(conversations.prospects) AS p"),
            super::Backend::Postgres => (
                "strpos",
                "json_array_elements_text(conversations.prospects::json) AS p(value)",
            ),
        };
        let domain = format!("substr(p.value, {find}(p.value, '@') + 1)");
        let mut prospect_tests: Vec<String> = Vec::new();
        if !addresses.is_empty() {
            prospect_tests.push(format!(
                "p.value IN ({})",
                super::placeholders(addresses.len())
            ));
        }
        for _ in organisations {
            prospect_tests.push(format!("({domain} = ? OR {domain} LIKE '%.' || ?)"));
        }
        // Every address and organisation tested names its domain, which JSON writes as it
        // is: a plain search of the prospects' text for the domains passes over most of the
        // rows found before their JSON is taken apart.
        let mut domains: Vec<String> = addresses
            .iter()
            .map(|a| crate::mail::address::domain(a))
            .chain(organisations.iter().cloned())
            .collect();
        domains.sort_unstable();
        domains.dedup();
        // Where to look: the conversations with a prospect at one of the addresses' domains
        // or in one of the organisations, by the index of where prospects are.
        let mut keys: Vec<String> = addresses
            .iter()
            .chain(organisations)
            .map(|value| domain_key(value))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        // Public suffixes have no rows of their own: their subdomains' rows are searched.
        let suffixes: Vec<&String> = keys.iter().filter(|k| is_public_suffix(k)).collect();
        let mut conditions = vec![format!(
            "thread_id IN ({})",
            super::placeholders(threads.len().max(1))
        )];
        if !prospect_tests.is_empty() {
            conditions.push(format!(
                "(id IN (SELECT conversation_id FROM conversation_domains WHERE domain IN ({}){})
                  AND ({}) AND EXISTS (SELECT 1 FROM {elements} WHERE {}))",
                super::placeholders(keys.len()),
                " OR domain LIKE '%.' || ?".repeat(suffixes.len()),
                vec![format!("{find}(conversations.prospects, ?) > 0"); domains.len()].join(" OR "),
                prospect_tests.join(" OR ")
            ));
        }
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE {} ORDER BY id",
            conditions.join(" OR ")
        );
        let mut query = sqlx::query(numbered(self.backend(), sql)).persistent(false);
        if threads.is_empty() {
            query = query.bind(0_i64);
        }
        for thread in &threads {
            query = query.bind(*thread);
        }
        if !prospect_tests.is_empty() {
            for key in &keys {
                query = query.bind(key.as_str());
            }
            for suffix in &suffixes {
                query = query.bind(suffix.as_str());
            }
            for domain in &domains {
                query = query.bind(domain.as_str());
            }
        }
        for address in addresses {
            query = query.bind(address.as_str());
        }
        for organisation in organisations {
            query = query
                .bind(organisation.as_str())
                .bind(organisation.as_str());
        }
        let rows = query
            .fetch_all(self.pool())
            .await
            .map_err(|e| self.error(e))?;
        rows.iter()
            .map(|row| self.conversation_from_row(row))
            .collect()
    }

    async fn conversations_where(
        &self,
        condition: &str,
        values: &[i64],
    ) -> Result<Vec<Conversation>> {
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE {condition} ORDER BY id"
        );
        // A list of ids changes the statement with its length: not worth keeping prepared.
        let mut query = sqlx::query(numbered(self.backend(), sql)).persistent(values.len() <= 1);
        for value in values {
            query = query.bind(*value);
        }
        let rows = query
            .fetch_all(self.pool())
            .await
            .map_err(|e| self.error(e))?;
        rows.iter()
            .map(|row| self.conversation_from_row(row))
            .collect()
    }

    /// Every history entry in [from, to), with its conversation, oldest first.
    pub async fn events_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(i64, Event)>> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT conversation_id, at, kind, detail, step FROM events WHERE at >= $1 AND at < $2 ORDER BY at, id",
        )
        .bind(stored_time(from))
        .bind(stored_time(to))
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        rows.into_iter()
            .filter_map(|(id, at, kind, detail, step)| id.map(|id| (id, at, kind, detail, step)))
            .map(|(id, at, kind, detail, step)| {
                Ok((id, self.event_from_row(at, &kind, detail, step)?))
            })
            .collect()
    }

    /// A conversation's history, oldest first.
    pub async fn events(&self, conversation_id: i64) -> Result<Vec<Event>> {
        let rows: Vec<(i64, String, String, Option<i64>)> = sqlx::query_as(
            "SELECT at, kind, detail, step FROM events WHERE conversation_id = $1 ORDER BY id",
        )
        .bind(conversation_id)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        rows.into_iter()
            .map(|(at, kind, detail, step)| self.event_from_row(at, &kind, detail, step))
            .collect()
    }

    fn event_from_row(
        &self,
        at: i64,
        kind: &str,
        detail: String,
        step: Option<i64>,
    ) -> Result<Event> {
        Ok(Event {
            at: read_time(at).map_err(|e| self.error(e))?,
            kind: EventKind::from_name(kind),
            detail,
            step: step.and_then(|s| u32::try_from(s).ok()),
        })
    }

    fn conversation_from_row(&self, row: &sqlx::any::AnyRow) -> Result<Conversation> {
        conversation_of_row(row).map_err(|e| self.error(e))
    }
}

/// A conversation from a row of `CONVERSATION_COLUMNS`.
fn conversation_of_row(row: &sqlx::any::AnyRow) -> std::result::Result<Conversation, String> {
    let time = |name: &str| -> std::result::Result<Option<DateTime<Utc>>, String> {
        row.get::<Option<i64>, _>(name).map(read_time).transpose()
    };
    let state: String = row.get("state");
    Ok(Conversation {
        id: row.get("id"),
        thread_id: row.get("thread_id"),
        subject: row.get("subject"),
        prospects: serde_json::from_str(&row.get::<String, _>("prospects")).unwrap_or_default(),
        state: state.parse()?,
        step: row.get::<i64, _>("step") as u32,
        first_touch_at: time("first_touch_at")?.unwrap_or_default(),
        last_touch_message: row.get("last_touch_message"),
        last_touch_at: time("last_touch_at")?.unwrap_or_default(),
        last_inbound_at: time("last_inbound_at")?,
        replied_after_step: row
            .get::<Option<i64>, _>("replied_after_step")
            .map(|s| s as u32),
        next_due: time("next_due")?,
        not_before: row
            .get::<Option<String>, _>("not_before")
            .and_then(|d| d.parse::<NaiveDate>().ok()),
        wait_from: time("wait_from")?,
        snoozed_until: time("snoozed_until")?,
        stop_reason: row.get("stop_reason"),
        language: row.get("language"),
        last_reply_message_id: row.get("last_reply_message_id"),
        heard: crate::model::Heard::from_json(row.get::<Option<String>, _>("heard").as_deref()),
        version: row.get("version"),
    })
}

/// Applies a transition to conversation `id` inside a transaction (threads merging in the
/// store), with its history entry at `now`.
pub(super) async fn transition_in(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    transition: Transition<'_>,
    now: DateTime<Utc>,
) -> std::result::Result<(), sqlx::Error> {
    let row = sqlx::query(numbered(
        super::Backend::of(tx),
        format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?"),
    ))
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    let conversation = conversation_of_row(&row).map_err(sqlx::Error::Protocol)?;
    match machine::apply(&conversation, transition).into_effect(now) {
        Effect::Update(next, event) => {
            // Read in this same transaction: it is current.
            update_conversation(tx, &next, now).await?;
            if next.prospects != conversation.prospects {
                write_domains(tx, &[id], &[&next]).await?;
            }
            insert_event(tx, id, &event).await
        }
        Effect::Note(_, event) => insert_event(tx, id, &event).await,
        _ => Ok(()),
    }
}

/// An event as read: conversation, time, kind, detail, step.
type EventRow = (Option<i64>, i64, String, String, Option<i64>);

type ConversationQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>;

/// Binds a conversation's fields, from `subject` to `heard`, in the order both
/// statements below name them.
fn bind_fields<'q>(query: ConversationQuery<'q>, c: &'q Conversation) -> ConversationQuery<'q> {
    query
        .bind(&c.subject)
        .bind(serde_json::to_string(&c.prospects).unwrap_or_else(|_| "[]".into()))
        .bind(c.state.as_str())
        .bind(i64::from(c.step))
        .bind(stored_time(c.first_touch_at))
        .bind(c.last_touch_message)
        .bind(stored_time(c.last_touch_at))
        .bind(c.last_inbound_at.map(stored_time))
        .bind(c.replied_after_step.map(i64::from))
        .bind(c.next_due.map(stored_time))
        .bind(c.not_before.map(|d| d.to_string()))
        .bind(c.wait_from.map(stored_time))
        .bind(c.snoozed_until.map(stored_time))
        .bind(&c.stop_reason)
        .bind(&c.language)
        .bind(&c.last_reply_message_id)
        .bind(c.heard.to_json())
}

/// Saves a conversation's fields if the row is still at the version they were read from;
/// false when another process changed it meanwhile.
async fn update_conversation(
    tx: &mut Transaction<'_, Any>,
    c: &Conversation,
    now: DateTime<Utc>,
) -> std::result::Result<bool, sqlx::Error> {
    let query = sqlx::query(
        "UPDATE conversations SET subject = $1, prospects = $2, state = $3, step = $4,
             first_touch_at = $5, last_touch_message = $6, last_touch_at = $7, last_inbound_at = $8,
             replied_after_step = $9, next_due = $10, not_before = $11, wait_from = $12, snoozed_until = $13,
             stop_reason = $14, language = $15, last_reply_message_id = $16, heard = $17, updated_at = $18,
             version = version + 1
         WHERE id = $19 AND version = $20",
    );
    let done = bind_fields(query, c)
        .bind(stored_time(now))
        .bind(c.id)
        .bind(c.version)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

async fn insert_event(
    tx: &mut Transaction<'_, Any>,
    conversation_id: i64,
    event: &Event,
) -> std::result::Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO events (conversation_id, at, kind, detail, step) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(conversation_id)
    .bind(stored_time(event.at))
    .bind(event.kind.name())
    .bind(&event.detail)
    .bind(event.step.map(i64::from))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn event(at: DateTime<Utc>) -> Event {
        Event {
            at,
            kind: EventKind::Tracked,
            detail: "test".into(),
            step: None,
        }
    }

    #[test]
    fn a_prospect_is_found_at_its_domain_and_every_parent_domain_but_a_public_suffix() {
        assert_eq!(
            prospect_domains(&["kari@Salg.Fjordkraft.no".into(), "ola@fjordkraft.no".into()]),
            vec!["fjordkraft.no", "salg.fjordkraft.no"]
        );
        assert_eq!(
            prospect_domains(&["anne@bergen.kommune.no".into(), "ola@no".into()]),
            vec!["bergen.kommune.no", "no"],
            "kommune.no is a public suffix; an address's own domain is always there"
        );
        assert_eq!(prospect_domains(&["plain".into()]), vec!["plain"]);
        assert!(prospect_domains(&["x@".into()]).is_empty());
        assert_eq!(
            domain_key("\"a@b\"@c.no"),
            "b\"@c.no",
            "after the first @, as SQL"
        );
    }

    /// The pass says which updates move a conversation's prospects; several updates in one
    /// transaction move them when any does, and the conversation is then found where its
    /// prospects are now.
    #[tokio::test]
    async fn prospects_the_pass_says_moved_are_found_where_they_now_are() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("nudge.db")).await.unwrap();
        let at = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
        sqlx::query("INSERT INTO threads (id) VALUES (1)")
            .execute(store.pool())
            .await
            .unwrap();
        let tracked = Conversation::new(1, "Tilbud", vec!["ola@fjordkraft.no".into()], at, None);
        store
            .commit_effects(None, &[Effect::Track(tracked, event(at))], at)
            .await
            .unwrap();
        let mut read = store.conversation(1).await.unwrap().unwrap();
        read.prospects.push("kari@havbruk.example".into());
        let mut tx = store.write().await.unwrap();
        let mut pending = Pending::default();
        pending.note_prospects(1, true);
        pending.note_prospects(1, false);
        store
            .defer_effects(
                &mut tx,
                &mut pending,
                &[Effect::Update(read, event(at))],
                at,
            )
            .await
            .unwrap();
        store.write_pending(&mut tx, pending, at).await.unwrap();
        tx.commit().await.unwrap();
        for organisation in ["havbruk.example", "fjordkraft.no"] {
            let found = store
                .conversations_concerning(&[], &[], &[], &[organisation.to_string()])
                .await
                .unwrap();
            assert_eq!(found.len(), 1, "{organisation}");
        }
        store.close().await;
    }

    /// Conversations asked for by id come back once each, keyed by their id; an id with no
    /// conversation is left out.
    #[tokio::test]
    async fn conversations_are_read_by_id_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("nudge.db")).await.unwrap();
        let at = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
        for thread in 1..=3 {
            sqlx::query("INSERT INTO threads (id) VALUES (?)")
                .bind(thread)
                .execute(store.pool())
                .await
                .unwrap();
            let tracked = Conversation::new(
                thread,
                &format!("Tilbud {thread}"),
                vec![format!("ola{thread}@fjordkraft.no")],
                at,
                None,
            );
            store
                .commit_effects(None, &[Effect::Track(tracked, event(at))], at)
                .await
                .unwrap();
        }
        let read = store.conversations_by_id(&[3, 1, 3, 99]).await.unwrap();
        let mut ids: Vec<i64> = read.keys().copied().collect();
        ids.sort_unstable();
        assert_eq!(ids, vec![1, 3]);
        for (id, conversation) in &read {
            assert_eq!(conversation.id, *id);
            assert_eq!(conversation.thread_id, *id);
            assert_eq!(conversation.subject, format!("Tilbud {id}"));
        }
        assert!(store.conversations_by_id(&[]).await.unwrap().is_empty());
        store.close().await;
    }
}
