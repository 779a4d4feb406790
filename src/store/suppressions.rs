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
}

impl Store {
    /// Adds an address or domain; an existing entry keeps its first reason.
    /// Returns true when it was not on the list before.
    pub async fn suppress(&self, address: &str, reason: &str, at: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO suppressions (address, reason, added_at) VALUES ($1, $2, $3)
             ON CONFLICT(address) DO NOTHING",
        )
        .bind(address.trim().to_ascii_lowercase())
        .bind(reason)
        .bind(at.to_rfc3339())
        .execute(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes an address or domain; returns true when it was on the list.
    pub async fn unsuppress(&self, address: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM suppressions WHERE address = $1")
            .bind(address.trim().to_ascii_lowercase())
            .execute(self.pool())
            .await
            .map_err(|e| self.error(e))?;
        Ok(done.rows_affected() == 1)
    }

    /// The whole list, sorted by address.
    pub async fn suppressions(&self) -> Result<Vec<Suppression>> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT address, reason, added_at FROM suppressions ORDER BY address")
                .fetch_all(self.pool())
                .await
                .map_err(|e| self.error(e))?;
        rows.into_iter()
            .map(|(address, reason, added_at)| {
                let added_at = DateTime::parse_from_rfc3339(&added_at)
                    .map_err(|e| self.error(format!("bad time {added_at:?}: {e}")))?
                    .with_timezone(&Utc);
                Ok(Suppression {
                    address,
                    reason,
                    added_at,
                })
            })
            .collect()
    }

    /// True when the address or its domain is on the list.
    pub async fn is_suppressed(&self, address: &str) -> Result<bool> {
        let address = address.trim().to_ascii_lowercase();
        let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM suppressions WHERE address = $1 OR address = $2")
                .bind(&address)
                .bind(domain)
                .fetch_optional(self.pool())
                .await
                .map_err(|e| self.error(e))?;
        Ok(found.is_some())
    }
}
