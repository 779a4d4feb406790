//! What the sellers of a team share on a PostgreSQL store (schema `nudge_team`): who is in
//! the team, its suppression list, and each member's latest touch of each organisation.

use chrono::{DateTime, Utc};
use sqlx::any::AnyPoolOptions;
use sqlx::{AssertSqlSafe, Executor};

use super::{Location, Store};
use crate::config::{Account, TeamConfig};
use crate::error::Result;

/// The schema the team tables live in.
pub(crate) const SCHEMA: &str = "nudge_team";

/// This store's seller as a member of a team.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub(crate) team: String,
    pub(crate) account: String,
    /// False on a dry run's copy: it reads the team's rows and writes none.
    pub(crate) writes: bool,
}

/// An entry of the team's suppression list added since a member last looked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamSuppression {
    pub seq: i64,
    pub address: String,
    pub reason: String,
    pub added_by: String,
}

impl Store {
    /// Joins `team` as `account`: the team's tables are created or migrated, and the
    /// member's row says where the account's rows live. Later suppressions of this store are
    /// the team's, and its list is the team's too.
    pub async fn join_team(&mut self, team: &TeamConfig, account: &Account) -> Result<()> {
        let Location::Postgres(postgres) = &self.location else {
            return Err(self.error("a team shares a PostgreSQL store; this one is SQLite"));
        };
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .after_connect(|connection, _| {
                Box::pin(async move {
                    connection
                        .execute(sqlx::raw_sql(AssertSqlSafe(format!(
                            "SET search_path TO {SCHEMA}"
                        ))))
                        .await?;
                    Ok(())
                })
            })
            .connect(postgres.url.expose())
            .await
            .map_err(|e| self.error(e))?;
        let migrated = async {
            sqlx::raw_sql(AssertSqlSafe(format!(
                "CREATE SCHEMA IF NOT EXISTS {SCHEMA}"
            )))
            .execute(&pool)
            .await
            .map_err(|e| self.error(format!("creating schema {SCHEMA}: {e}")))?;
            sqlx::migrate!("./migrations/team")
                .run(&pool)
                .await
                .map_err(|e| self.error(format!("migrating the team's schema: {e}")))
        }
        .await;
        pool.close().await;
        migrated?;
        sqlx::query(
            "INSERT INTO nudge_team.members
                 (team, account, name, schema_name, lead, overlap_days, seen_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (team, account) DO UPDATE SET name = excluded.name,
                 schema_name = excluded.schema_name, lead = excluded.lead,
                 overlap_days = excluded.overlap_days, seen_at = excluded.seen_at",
        )
        .bind(&team.name)
        .bind(&account.email)
        .bind(&account.name)
        .bind(&postgres.schema)
        .bind(team.lead.clone())
        .bind(i64::from(team.overlap_days))
        .bind(Utc::now().to_rfc3339())
        .execute(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        self.member = Some(Member {
            team: team.name.clone(),
            account: account.email.clone(),
            writes: true,
        });
        Ok(())
    }

    /// This seller's address in the team, if a member.
    pub(crate) fn member_account(&self) -> Option<&str> {
        self.member.as_ref().map(|m| m.account.as_str())
    }

    /// The team this store's seller is a member of, if any.
    pub fn team_name(&self) -> Option<&str> {
        self.member.as_ref().map(|m| m.team.as_str())
    }

    /// The team's suppressions added after `seq`, oldest first (none without a team).
    pub async fn team_suppressions_after(&self, seq: i64) -> Result<Vec<TeamSuppression>> {
        let Some(member) = &self.member else {
            return Ok(Vec::new());
        };
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT seq, address, reason, added_by FROM nudge_team.suppressions
             WHERE team = $1 AND seq > $2 ORDER BY seq",
        )
        .bind(&member.team)
        .bind(seq)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        Ok(rows
            .into_iter()
            .map(|(seq, address, reason, added_by)| TeamSuppression {
                seq,
                address,
                reason,
                added_by,
            })
            .collect())
    }

    /// Puts an address on the team's list within `tx` (nothing without a team).
    pub(crate) async fn team_suppress_in(
        &self,
        tx: &mut sqlx::AnyConnection,
        address: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> std::result::Result<bool, sqlx::Error> {
        let Some(member) = self.member.as_ref().filter(|m| m.writes) else {
            return Ok(false);
        };
        let done = sqlx::query(
            "INSERT INTO nudge_team.suppressions (team, address, reason, added_at, added_by)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (team, address) DO NOTHING",
        )
        .bind(&member.team)
        .bind(address.trim().to_ascii_lowercase())
        .bind(reason)
        .bind(at.to_rfc3339())
        .bind(&member.account)
        .execute(&mut *tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The latest touch each colleague of the team made of each of `organisations` (their
    /// Sent mail's recipients, as each colleague's own store has them) at or after `since`.
    /// Empty without a team.
    pub async fn colleague_touches(
        &self,
        organisations: &[String],
        since: DateTime<Utc>,
    ) -> Result<Vec<crate::rules::ColleagueTouch>> {
        let Some(member) = &self.member else {
            return Ok(Vec::new());
        };
        if organisations.is_empty() {
            return Ok(Vec::new());
        }
        let colleagues: Vec<(String, String)> = sqlx::query_as(
            "SELECT account, schema_name FROM nudge_team.members
             WHERE team = $1 AND account != $2 ORDER BY account",
        )
        .bind(&member.team)
        .bind(&member.account)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        let mut touches = Vec::new();
        for (colleague, schema) in colleagues {
            let sql = format!(
                "SELECT org_domain, MAX(last_sent) FROM {}.contacts
                 WHERE last_sent >= ? AND org_domain IN ({}) GROUP BY org_domain",
                super::quote_ident(&schema),
                super::placeholders(organisations.len())
            );
            let mut query =
                sqlx::query_as::<_, (String, String)>(super::numbered(self.backend(), sql))
                    .bind(since.to_rfc3339());
            for organisation in organisations {
                query = query.bind(organisation.as_str());
            }
            // A colleague whose schema is gone (an account removed) touches nothing.
            let rows = match query.fetch_all(self.pool()).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::debug!("the touches of {colleague} cannot be read: {e}");
                    continue;
                }
            };
            for (organisation, at) in rows {
                let at = super::parse_time(&at).map_err(|e| self.error(e))?;
                touches.push(crate::rules::ColleagueTouch {
                    colleague: colleague.clone(),
                    organisation,
                    at,
                });
            }
        }
        Ok(touches)
    }

    /// The members of this store's team, by address: (address, name, schema).
    pub async fn team_members(&self) -> Result<Vec<(String, String, String)>> {
        let Some(member) = &self.member else {
            return Ok(Vec::new());
        };
        sqlx::query_as(
            "SELECT account, name, schema_name FROM nudge_team.members
             WHERE team = $1 ORDER BY account",
        )
        .bind(&member.team)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.error(e))
    }

    /// The store of the member whose rows live in `schema`, on this store's server: for the
    /// team summary, which reads it and writes nothing.
    pub async fn colleague_store(&self, schema: &str) -> Result<Store> {
        let Location::Postgres(postgres) = &self.location else {
            return Err(self.error("a team shares a PostgreSQL store; this one is SQLite"));
        };
        Store::open_postgres(&crate::config::PostgresStore {
            url: postgres.url.clone(),
            schema: schema.to_string(),
        })
        .await
    }

    /// The organisations (domains) the seller wrote to at or after `since`.
    pub async fn organisations_written_since(&self, since: DateTime<Utc>) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT DISTINCT org_domain FROM contacts WHERE last_sent >= $1 ORDER BY org_domain",
        )
        .bind(since.to_rfc3339())
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.error(e))
    }

    /// Claims the team's summary of `week` for this member: true when it is this member's
    /// to send (nobody claimed it before).
    pub async fn claim_team_summary(
        &self,
        week: &str,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let Some(member) = self.member.as_ref().filter(|m| m.writes) else {
            return Ok(false);
        };
        let done = sqlx::query(
            "INSERT INTO nudge_team.team_summaries
                 (team, week, state, claimed_by, message_id, started_at)
             VALUES ($1, $2, 'sending', $3, $4, $5) ON CONFLICT (team, week) DO NOTHING",
        )
        .bind(&member.team)
        .bind(week)
        .bind(&member.account)
        .bind(message_id)
        .bind(now.to_rfc3339())
        .execute(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        Ok(done.rows_affected() == 1)
    }

    /// Whether the team's summary of `week` was claimed (sent, in flight, or perhaps sent).
    pub async fn team_summary_claimed(&self, week: &str) -> Result<bool> {
        let Some(member) = &self.member else {
            return Ok(false);
        };
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM nudge_team.team_summaries WHERE team = $1 AND week = $2",
        )
        .bind(&member.team)
        .bind(week)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.error(e))?;
        Ok(found.is_some())
    }

    /// Records how the claimed summary of `week` ended: `Some(state)` ('sent' or 'unknown')
    /// keeps the claim, `None` (certainly not delivered) gives it up for a later pass.
    pub async fn settle_team_summary(
        &self,
        week: &str,
        state: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let Some(member) = &self.member else {
            return Ok(());
        };
        let query = match state {
            Some(state) => sqlx::query(
                "UPDATE nudge_team.team_summaries SET state = $3, sent_at = $4
                 WHERE team = $1 AND week = $2",
            )
            .bind(&member.team)
            .bind(week)
            .bind(state)
            .bind(now.to_rfc3339()),
            None => {
                sqlx::query("DELETE FROM nudge_team.team_summaries WHERE team = $1 AND week = $2")
                    .bind(&member.team)
                    .bind(week)
            }
        };
        query
            .execute(self.pool())
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }
}
