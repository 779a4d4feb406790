//! Drafts nudge made, from the intent to APPEND to what became of them.
//!
//! Exactly once: a row in state `appending` is committed durably (synced to disk, not only
//! written) before the APPEND; after the APPEND the row becomes `pending` with the UID the
//! server gave it. A pass that finds an `appending` row looks for its Message-ID in Drafts
//! before appending again, and adopts a copy only when it is what nudge appended.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{parse_time, read_time, Store};
use crate::error::Result;

/// What became of a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftState {
    /// Recorded, APPEND not confirmed yet.
    Appending,
    /// In Drafts, waiting for the seller.
    Pending,
    /// The seller edited it: the client replaced it with its own copy (tracked by UID).
    Edited,
    /// The seller sent it (or wrote their own touch instead).
    Sent,
    /// nudge took it back (a reply came, or the seller wrote by hand).
    Withdrawn,
    /// The seller deleted it without sending.
    Dismissed,
    /// nudge must take it back, but the removal failed (no MOVE, no UIDPLUS, a server error):
    /// tried again at later passes.
    Removing,
}

impl DraftState {
    pub fn as_str(self) -> &'static str {
        match self {
            DraftState::Appending => "appending",
            DraftState::Pending => "pending",
            DraftState::Edited => "edited",
            DraftState::Sent => "sent",
            DraftState::Withdrawn => "withdrawn",
            DraftState::Dismissed => "dismissed",
            DraftState::Removing => "removing",
        }
    }

    fn parse(text: &str) -> Option<DraftState> {
        [
            DraftState::Appending,
            DraftState::Pending,
            DraftState::Edited,
            DraftState::Sent,
            DraftState::Withdrawn,
            DraftState::Dismissed,
            DraftState::Removing,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Still waiting in Drafts for the seller (nudge's own copy or the seller's edit).
    pub fn is_waiting(self) -> bool {
        matches!(
            self,
            DraftState::Appending | DraftState::Pending | DraftState::Edited
        )
    }

    /// Nothing more will happen to it: sent, withdrawn (and gone) or dismissed.
    pub fn is_settled(self) -> bool {
        matches!(
            self,
            DraftState::Sent | DraftState::Withdrawn | DraftState::Dismissed
        )
    }
}

/// One draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub id: i64,
    pub conversation_id: i64,
    /// The follow-up's step (1-based).
    pub step: u32,
    pub template: String,
    pub variant: u32,
    pub language: String,
    /// The Message-ID nudge gave it, without brackets.
    pub message_id: String,
    pub folder: Option<String>,
    pub uidvalidity: Option<u32>,
    /// The UID in Drafts: nudge's copy, or the client's replacement when edited.
    pub uid: Option<u32>,
    pub state: DraftState,
    pub created_at: DateTime<Utc>,
    /// What nudge appended ([`crate::compose::draft::fingerprint`]); None on rows older than
    /// the fingerprints.
    pub fingerprint: Option<String>,
    /// The Message-ID the draft answers (its In-Reply-To), without brackets.
    pub parent_message_id: Option<String>,
    /// The Message-ID of the seller's edited copy, once the client replaced nudge's draft.
    pub seller_message_id: Option<String>,
    /// Failed removals so far.
    pub removal_attempts: u32,
}

/// A message stored from the drafts folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftCopy {
    pub uid: u32,
    pub message_id: Option<String>,
    /// When the server had it (the later of INTERNALDATE and Date).
    pub arrived: DateTime<Utc>,
}

const DRAFT_COLUMNS: &str = "id, conversation_id, step, template, variant, language, message_id, \
    folder, uidvalidity, uid, state, created_at, fingerprint, parent_message_id, \
    seller_message_id, removal_attempts";

impl Store {
    /// Records the intent to append a draft (state `appending`); returns its id.
    ///
    /// The row is durable when this returns: the daemon runs SQLite with `synchronous =
    /// NORMAL`, under which WAL commits reach the disk only at the next checkpoint, so a power
    /// loss after the APPEND could roll the row back and the next pass would append a second
    /// draft. This one commit runs with `synchronous = FULL`, which syncs the WAL before the
    /// commit returns; the connection goes back to NORMAL afterwards. PostgreSQL's commits
    /// are durable as they are (`synchronous_commit` on).
    pub async fn begin_draft(&self, draft: &Draft) -> Result<i64> {
        let sqlite = self.backend() == super::Backend::Sqlite;
        let mut connection = self.pool().acquire().await.map_err(|e| self.error(e))?;
        if sqlite {
            sqlx::query("PRAGMA synchronous = FULL")
                .execute(&mut *connection)
                .await
                .map_err(|e| self.error(e))?;
        }
        let inserted = sqlx::query_scalar(
            "INSERT INTO drafts (conversation_id, step, template, variant, language, message_id,
                 folder, state, created_at, fingerprint, parent_message_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'appending', $8, $9, $10) RETURNING id",
        )
        .bind(draft.conversation_id)
        .bind(i64::from(draft.step))
        .bind(&draft.template)
        .bind(i64::from(draft.variant))
        .bind(&draft.language)
        .bind(&draft.message_id)
        .bind(&draft.folder)
        .bind(draft.created_at.to_rfc3339())
        .bind(&draft.fingerprint)
        .bind(&draft.parent_message_id)
        .fetch_one(&mut *connection)
        .await
        .map_err(|e| self.error(e));
        let id = inserted?;
        if sqlite
            && sqlx::query("PRAGMA synchronous = NORMAL")
                .execute(&mut *connection)
                .await
                .is_err()
        {
            // A connection that stays FULL is only slower: never worth failing the draft for.
            connection.close_on_drop();
        }
        Ok(id)
    }

    /// Sets a draft's state and, when given, where it lives now.
    pub async fn set_draft_state(
        &self,
        id: i64,
        state: DraftState,
        location: Option<(u32, u32)>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let resolved = state.is_settled().then(|| now.to_rfc3339());
        sqlx::query(
            "UPDATE drafts SET state = $1, resolved_at = coalesce($2, resolved_at),
                 uidvalidity = coalesce($3, uidvalidity), uid = coalesce($4, uid)
             WHERE id = $5",
        )
        .bind(state.as_str())
        .bind(resolved)
        .bind(location.map(|(v, _)| i64::from(v)))
        .bind(location.map(|(_, u)| i64::from(u)))
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// The seller's client replaced nudge's draft with its own copy, at `location`, with
    /// this Message-ID (when it has one): the draft is the seller's from now on.
    pub async fn set_draft_edited(
        &self,
        id: i64,
        location: (u32, u32),
        seller_message_id: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE drafts SET state = 'edited', uidvalidity = $1, uid = $2,
                 seller_message_id = coalesce($3, seller_message_id)
             WHERE id = $4",
        )
        .bind(i64::from(location.0))
        .bind(i64::from(location.1))
        .bind(seller_message_id)
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// A removal failed: the draft waits in state `removing` for the next try. Returns how
    /// many removals have failed so far.
    pub async fn draft_removal_failed(&self, id: i64) -> Result<u32> {
        let attempts: i64 = sqlx::query_scalar(
            "UPDATE drafts SET state = 'removing', removal_attempts = removal_attempts + 1
             WHERE id = $1 RETURNING removal_attempts",
        )
        .bind(id)
        .fetch_one(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        Ok(attempts as u32)
    }

    /// Drafts still waiting for the seller (appending, pending, edited), oldest first.
    pub async fn waiting_drafts(&self) -> Result<Vec<Draft>> {
        self.drafts_where("state IN ('appending', 'pending', 'edited')", None)
            .await
    }

    /// Drafts that a pass must still look at: those waiting for the seller, and those nudge
    /// must still remove.
    pub async fn unsettled_drafts(&self) -> Result<Vec<Draft>> {
        self.drafts_where(
            "state IN ('appending', 'pending', 'edited', 'removing')",
            None,
        )
        .await
    }

    /// The draft waiting in a conversation, if any.
    pub async fn waiting_draft(&self, conversation_id: i64) -> Result<Option<Draft>> {
        self.drafts_where(
            "state IN ('appending', 'pending', 'edited') AND conversation_id = ?",
            Some(conversation_id),
        )
        .await
        .map(|mut d| d.pop())
    }

    /// The conversation's latest draft when the seller dismissed it: a sent copy that shows up
    /// later revises the dismissal.
    pub async fn dismissed_draft(&self, conversation_id: i64) -> Result<Option<Draft>> {
        let latest = self
            .drafts_where(
                "id = (SELECT max(id) FROM drafts WHERE conversation_id = $1)",
                Some(conversation_id),
            )
            .await?
            .pop();
        Ok(latest.filter(|d| d.state == DraftState::Dismissed))
    }

    /// The latest draft of each conversation whose latest draft is dismissed, by
    /// conversation: [`Store::dismissed_draft`] for all of them in one query.
    pub async fn dismissed_drafts(&self) -> Result<std::collections::HashMap<i64, Draft>> {
        let latest = self
            .drafts_where(
                "state = 'dismissed'
                 AND id IN (SELECT max(id) FROM drafts GROUP BY conversation_id)",
                None,
            )
            .await?;
        Ok(latest.into_iter().map(|d| (d.conversation_id, d)).collect())
    }

    /// Every draft of a conversation, oldest first.
    pub async fn drafts_of(&self, conversation_id: i64) -> Result<Vec<Draft>> {
        self.drafts_where("conversation_id = ?", Some(conversation_id))
            .await
    }

    /// Messages stored from the drafts folder `folder` (current `uidvalidity`) in a thread:
    /// the candidates for a client's replacement of nudge's draft.
    pub async fn drafts_folder_copies(
        &self,
        folder: &str,
        uidvalidity: u32,
        thread_id: i64,
    ) -> Result<Vec<DraftCopy>> {
        let rows: Vec<(i64, Option<String>, i64, Option<i64>)> = sqlx::query_as(
            "SELECT uid, message_id, date, arrived FROM messages
             WHERE folder = $1 AND uidvalidity = $2 AND thread_id = $3 ORDER BY uid",
        )
        .bind(folder)
        .bind(i64::from(uidvalidity))
        .bind(thread_id)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        rows.into_iter()
            .map(|(uid, message_id, date, arrived)| {
                let arrived = read_time(arrived.unwrap_or(date)).map_err(|e| self.error(e))?;
                Ok(DraftCopy {
                    uid: uid as u32,
                    message_id,
                    arrived,
                })
            })
            .collect()
    }

    /// How many drafts were put into Drafts at or after `since` (the daily limit). Rows of
    /// appends that never happened (a stop between recording and appending) do not count.
    pub async fn drafts_made_since(&self, since: DateTime<Utc>) -> Result<u32> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM drafts WHERE created_at >= $1 AND uid IS NOT NULL",
        )
        .bind(since.to_rfc3339())
        .fetch_one(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        Ok(count as u32)
    }

    /// Variants of `template` already used for any conversation with `prospect`.
    pub async fn used_variants(&self, prospect: &str, template: &str) -> Result<Vec<u32>> {
        let pattern = format!("%\"{}\"%", prospect.replace('"', ""));
        let rows: Vec<i64> = sqlx::query_scalar(
            "SELECT d.variant FROM drafts d JOIN conversations c ON c.id = d.conversation_id
             WHERE d.template = $1 AND c.prospects LIKE $2",
        )
        .bind(template)
        .bind(pattern)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        Ok(rows.into_iter().map(|v| v as u32).collect())
    }

    async fn drafts_where(&self, condition: &str, value: Option<i64>) -> Result<Vec<Draft>> {
        let sql = format!("SELECT {DRAFT_COLUMNS} FROM drafts WHERE {condition} ORDER BY id");
        let mut query = sqlx::query(super::numbered(self.backend(), sql));
        if let Some(value) = value {
            query = query.bind(value);
        }
        let rows = query
            .fetch_all(self.pool())
            .await
            .map_err(|e| self.error(e))?;
        rows.iter()
            .map(|row| {
                let state: String = row.get("state");
                Ok(Draft {
                    id: row.get("id"),
                    conversation_id: row.get("conversation_id"),
                    step: row.get::<i64, _>("step") as u32,
                    template: row.get("template"),
                    variant: row.get::<i64, _>("variant") as u32,
                    language: row.get("language"),
                    message_id: row.get("message_id"),
                    folder: row.get("folder"),
                    uidvalidity: row.get::<Option<i64>, _>("uidvalidity").map(|v| v as u32),
                    uid: row.get::<Option<i64>, _>("uid").map(|v| v as u32),
                    state: DraftState::parse(&state)
                        .ok_or_else(|| self.error(format!("unknown draft state {state:?}")))?,
                    created_at: parse_time(&row.get::<String, _>("created_at"))
                        .map_err(|e| self.error(e))?,
                    fingerprint: row.get("fingerprint"),
                    parent_message_id: row.get("parent_message_id"),
                    seller_message_id: row.get("seller_message_id"),
                    removal_attempts: row.get::<i64, _>("removal_attempts") as u32,
                })
            })
            .collect()
    }
}
