//! The suppression list: addresses and whole domains nudge never follows up.

use chrono::{DateTime, Utc};

use super::Store;
use crate::error::Result;

/// One entry of the suppression list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// A lower-case address, or a domain without '@'.
    pub address: String,
    /// `bounced`, `opted_out` or `manual`.
    pub reason: String,
    pub added_at: DateTime<Utc>,
    /// On a team's list, the member whose mailbox or command put it there.
    pub added_by: Option<String>,
}

impl Store {
    /// Adds an address or domain (to the team's list too, for a member of a team); an
    /// existing entry keeps its first reason. Returns true when it was not on the list before.
    pub async fn suppress(&self, address: &str, reason: &str, at: DateTime<Utc>) -> Result<bool> {
        let was = self.is_suppressed_exactly(address).await?;
        let mut tx = self.pool().begin().await.map_err(|e| self.error(e))?;
        sqlx::query(
            "INSERT INTO suppressions (address, reason, added_at) VALUES ($1, $2, $3)
             ON CONFLICT(address) DO NOTHING",
        )
        .bind(address.trim().to_ascii_lowercase())
        .bind(reason)
        .bind(at.to_rfc3339())
        .execute(&mut *tx)
        .await
        .map_err(|e| self.error(e))?;
        self.team_suppress_in(&mut tx, address, reason, at)
            .await
            .map_err(|e| self.error(e))?;
        tx.commit().await.map_err(|e| self.error(e))?;
        Ok(!was)
    }

    /// Removes an address or domain (from the team's list too); returns true when it was on
    /// the list.
    pub async fn unsuppress(&self, address: &str) -> Result<bool> {
        let address = address.trim().to_ascii_lowercase();
        let done = sqlx::query("DELETE FROM suppressions WHERE address = $1")
            .bind(&address)
            .execute(self.pool())
            .await
            .map_err(|e| self.error(e))?;
        let mut removed = done.rows_affected() == 1;
        if let Some(team) = self.team_name() {
            let done =
                sqlx::query("DELETE FROM nudge_team.suppressions WHERE team = $1 AND address = $2")
                    .bind(team)
                    .bind(&address)
                    .execute(self.pool())
                    .await
                    .map_err(|e| self.error(e))?;
            removed |= done.rows_affected() == 1;
        }
        Ok(removed)
    }

    /// The whole list, the team's included, sorted by address; an address on both keeps
    /// this seller's entry.
    pub async fn suppressions(&self) -> Result<Vec<Suppression>> {
        let rows: Vec<(String, String, String, Option<String>)> = match self.team_name() {
            None => {
                sqlx::query_as(
                    "SELECT address, reason, added_at, NULL FROM suppressions ORDER BY address",
                )
                .fetch_all(self.pool())
                .await
            }
            Some(team) => {
                sqlx::query_as(
                    "SELECT address, reason, added_at, CAST(NULL AS TEXT) FROM suppressions
                 UNION ALL
                 SELECT t.address, t.reason, t.added_at, t.added_by
                   FROM nudge_team.suppressions t
                  WHERE t.team = $1
                    AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.address = t.address)
                 ORDER BY 1",
                )
                .bind(team)
                .fetch_all(self.pool())
                .await
            }
        }
        .map_err(|e| self.error(e))?;
        let me = self.member_account();
        rows.into_iter()
            .map(|(address, reason, added_at, added_by)| {
                let added_at = DateTime::parse_from_rfc3339(&added_at)
                    .map_err(|e| self.error(format!("bad time {added_at:?}: {e}")))?
                    .with_timezone(&Utc);
                Ok(Suppression {
                    address,
                    reason,
                    added_at,
                    added_by: added_by.filter(|by| Some(by.as_str()) != me),
                })
            })
            .collect()
    }

    /// The entries of the whole list (the team's included), for the rules.
    pub async fn suppressed_entries(&self) -> Result<std::collections::HashSet<String>> {
        Ok(self
            .suppressions()
            .await?
            .into_iter()
            .map(|s| s.address)
            .collect())
    }

    /// True when the address or its domain is on the list (the team's included).
    pub async fn is_suppressed(&self, address: &str) -> Result<bool> {
        let address = address.trim().to_ascii_lowercase();
        let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        Ok(self.is_suppressed_exactly(&address).await?
            || (!domain.is_empty() && self.is_suppressed_exactly(domain).await?))
    }

    /// True when exactly this entry is on the list (the team's included).
    async fn is_suppressed_exactly(&self, entry: &str) -> Result<bool> {
        let entry = entry.trim().to_ascii_lowercase();
        let found: Option<i64> = match self.team_name() {
            None => {
                sqlx::query_scalar("SELECT 1 FROM suppressions WHERE address = $1")
                    .bind(&entry)
                    .fetch_optional(self.pool())
                    .await
            }
            Some(team) => {
                sqlx::query_scalar(
                    "SELECT 1 FROM suppressions WHERE address = $1
                     UNION ALL
                     SELECT 1 FROM nudge_team.suppressions WHERE team = $2 AND address = $1",
                )
                .bind(&entry)
                .bind(team)
                .fetch_optional(self.pool())
                .await
            }
        }
        .map_err(|e| self.error(e))?;
        Ok(found.is_some())
    }
}
