//! The weekly summaries: one row per ISO week, written before an attempt (`sending`) and after
//! it went out (`sent`). An attempt that certainly failed leaves `retry_after` set and may be
//! taken up again from then; one whose outcome is unknown leaves it unset, and the week is
//! never sent again (a lost summary is better than a duplicate) — unless the summary goes to
//! INBOX, where the next pass can look for it by its Message-ID and settle the question.

use chrono::{DateTime, SecondsFormat, Utc};

use super::{parse_time, Store};
use crate::error::Result;

/// Where the summary of one week stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRecord {
    /// `sending` (in flight, failed, or unknown) or `sent`.
    pub state: String,
    /// The Message-ID of the attempts (a retry keeps it).
    pub message_id: Option<String>,
    /// Attempts made so far.
    pub attempts: u32,
    /// What went wrong at the last failed attempt.
    pub last_error: Option<String>,
    /// Set when the last attempt certainly failed: the next may start then.
    pub retry_after: Option<DateTime<Utc>>,
}

impl SummaryRecord {
    pub fn is_sent(&self) -> bool {
        self.state == "sent"
    }

    /// The last attempt certainly failed: another may be made (from `retry_after` on).
    pub fn may_retry(&self) -> bool {
        self.state == "sending" && self.retry_after.is_some()
    }
}

/// An attempt this process may make now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryAttempt {
    /// 1 for the first.
    pub number: u32,
    /// The Message-ID to send with: the first attempt's, for every retry.
    pub message_id: String,
}

/// A `summaries` row as read: state, message_id, attempts, last_error, retry_after.
type Row = (String, Option<String>, i64, Option<String>, Option<String>);

/// Times in `retry_after`: whole seconds in UTC, so that comparing the text compares time.
fn sortable(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Store {
    /// Where the summary of an ISO week stands, or `None` when it was never tried.
    pub async fn summary_record(&self, week: &str) -> Result<Option<SummaryRecord>> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT state, message_id, attempts, last_error, retry_after
                 FROM summaries WHERE week = $1",
        )
        .bind(week)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        row.map(|(state, message_id, attempts, last_error, retry_after)| {
            Ok(SummaryRecord {
                state,
                message_id,
                attempts: u32::try_from(attempts).unwrap_or(0),
                last_error,
                retry_after: retry_after
                    .as_deref()
                    .map(parse_time)
                    .transpose()
                    .map_err(|e| self.error(e))?,
            })
        })
        .transpose()
    }

    /// Claims an attempt at the summary of `week`: the first one, or another after an attempt
    /// that certainly failed and whose `retry_after` has come (at once when `force`, for the
    /// seller's own `summary --send`). Each claim is one conditional statement, so two
    /// processes never both get one. `None` when the week was sent, is being sent, or may
    /// have been delivered.
    pub async fn begin_summary(
        &self,
        week: &str,
        message_id: &str,
        now: DateTime<Utc>,
        force: bool,
    ) -> Result<Option<SummaryAttempt>> {
        let first = sqlx::query(
            "INSERT INTO summaries (week, state, message_id, started_at, attempts)
             VALUES ($1, 'sending', $2, $3, 1)
             ON CONFLICT(week) DO NOTHING",
        )
        .bind(week)
        .bind(message_id)
        .bind(now.to_rfc3339())
        .execute(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        if first.rows_affected() == 1 {
            return Ok(Some(SummaryAttempt {
                number: 1,
                message_id: message_id.to_string(),
            }));
        }
        let again: Option<(i64, Option<String>)> = sqlx::query_as(
            "UPDATE summaries
             SET attempts = attempts + 1, retry_after = NULL, started_at = $1,
                 message_id = COALESCE(message_id, $2)
             WHERE week = $3 AND state = 'sending' AND retry_after IS NOT NULL
               AND ($4 OR retry_after <= $5)
             RETURNING attempts, message_id",
        )
        .bind(now.to_rfc3339())
        .bind(message_id)
        .bind(week)
        .bind(force)
        .bind(sortable(now))
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        Ok(again.map(|(attempts, id)| SummaryAttempt {
            number: u32::try_from(attempts).unwrap_or(u32::MAX),
            message_id: id.unwrap_or_else(|| message_id.to_string()),
        }))
    }

    /// Records that the attempt at `week`'s summary failed: with `retry_after` when the
    /// server certainly did not take it (another attempt may start then), without when the
    /// outcome is unknown (never again).
    pub async fn summary_failed(
        &self,
        week: &str,
        error: &str,
        retry_after: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE summaries SET last_error = $1, failed_at = $2, retry_after = $3
             WHERE week = $4 AND state = 'sending'",
        )
        .bind(error)
        .bind(now.to_rfc3339())
        .bind(retry_after.map(sortable))
        .bind(week)
        .execute(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// The weeks before `week` whose summary was claimed but never recorded as sent, newest
    /// first, at most `limit`: (week, Message-ID).
    pub async fn unsettled_summaries_before(
        &self,
        week: &str,
        limit: u32,
    ) -> Result<Vec<(String, String)>> {
        sqlx::query_as(
            "SELECT week, message_id FROM summaries
             WHERE state != 'sent' AND message_id IS NOT NULL AND week < $1
             ORDER BY week DESC LIMIT $2",
        )
        .bind(week)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.error(e))
    }

    /// Records that the summary of `week` went out.
    pub async fn summary_sent(&self, week: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE summaries SET state = 'sent', sent_at = $1, retry_after = NULL WHERE week = $2",
        )
        .bind(now.to_rfc3339())
        .bind(week)
        .execute(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        Ok(())
    }
}
