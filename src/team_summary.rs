//! The weekly team summary to `[team] lead`: per seller the numbers and the reply rate by
//! step, the new conversations by subject, and the companies two sellers wrote to in the
//! same week. Counts and subjects only: no message text leaves a seller's mailbox, and the
//! lead's address must be one of the team's own domains (checked with the config).
//!
//! Any member's pass may send it once the week's summary is due; the team's store records
//! who claimed each week, so it goes out once however many members run.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Utc};
use serde::Serialize;

use crate::cadence::Calendar;
use crate::config::Config;
use crate::display::neutralise;
use crate::error::{Error, Result};
use crate::mail::address::is_freemail;
use crate::store::Store;
use crate::summary::{self, Numbers, Rate, SHOWN_CHARS};

/// At most this many new subjects per seller, and overlaps, are listed.
const LISTED: usize = 10;

/// One seller's week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SellerWeek {
    pub name: String,
    pub email: String,
    pub n: Numbers,
    pub rates: Vec<Rate>,
    /// Subjects of the conversations that started this week, newest first.
    pub new_subjects: Vec<String>,
}

/// A company two or more sellers of the team wrote to this week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overlap {
    pub organisation: String,
    pub sellers: Vec<String>,
}

/// The team's week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TeamSummary {
    pub team: String,
    pub week: u32,
    pub week_key: String,
    pub period: String,
    pub sellers: Vec<SellerWeek>,
    pub overlaps: Vec<Overlap>,
}

/// The week before `due` for every member of `store`'s team, read from each member's own
/// schema (and written to none).
pub async fn compute(store: &Store, config: &Config, due: DateTime<Utc>) -> Result<TeamSummary> {
    let team = config
        .team
        .as_ref()
        .ok_or_else(|| Error::Data("no [team] in the config".into()))?;
    let calendar = Calendar::from_config(config);
    let from = due - Duration::days(7);
    let mut sellers = Vec::new();
    let mut written: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (email, name, schema) in store.team_members().await? {
        let member = store.colleague_store(&schema).await?;
        let result = async {
            let week = summary::compute(&member, config, due, due).await?;
            let mut started: Vec<(DateTime<Utc>, String)> = member
                .conversations()
                .await?
                .into_iter()
                .filter(|c| c.first_touch_at >= from && c.first_touch_at < due)
                .map(|c| (c.first_touch_at, shown(&c.subject)))
                .collect();
            started.sort_by_key(|b| std::cmp::Reverse(b.0));
            let organisations = member.organisations_written_since(from).await?;
            Ok::<_, Error>((week, started, organisations))
        }
        .await;
        member.close().await;
        let (week, started, organisations) = result?;
        for organisation in organisations {
            let own = config
                .account
                .own_domains
                .iter()
                .any(|d| organisation == *d || organisation.ends_with(&format!(".{d}")));
            if !own && !is_freemail(&organisation) {
                written.entry(organisation).or_default().push(email.clone());
            }
        }
        sellers.push(SellerWeek {
            name: shown(&name),
            email,
            n: week.n,
            rates: week.rates,
            new_subjects: started.into_iter().map(|(_, s)| s).collect(),
        });
    }
    let overlaps = written
        .into_iter()
        .filter(|(_, who)| who.len() > 1)
        .map(|(organisation, sellers)| Overlap {
            organisation,
            sellers,
        })
        .collect();
    let local_due = calendar.local_date(due);
    Ok(TeamSummary {
        team: shown(&team.name),
        week: local_due.iso_week().week(),
        week_key: summary::week_key(local_due),
        period: summary::period(
            calendar.local_date(from),
            local_due - Duration::days(1),
            crate::config::Language::En,
        ),
        sellers,
        overlaps,
    })
}

/// Text from the mailbox as the summary shows it: one line, at most [`SHOWN_CHARS`].
fn shown(text: &str) -> String {
    let text = neutralise(text);
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((at, _)) => format!("{}…", text[..at].trim_end()),
        None => text.into_owned(),
    }
}

/// The subject line of the team's summary.
pub fn subject(summary: &TeamSummary) -> String {
    format!(
        "Team {}: week {} ({})",
        summary.team, summary.week, summary.period
    )
}

/// The summary as plain text.
pub fn render(summary: &TeamSummary) -> String {
    let mut out = format!(
        "Team {}, week {} ({}).\nCounts and subjects only: no message text leaves the sellers' \
         mailboxes.\n",
        summary.team, summary.week, summary.period
    );
    let mut total = Numbers::default();
    out.push_str("\nPER SELLER\n");
    for seller in &summary.sellers {
        let n = &seller.n;
        total.tracked += n.tracked;
        total.new_this_week += n.new_this_week;
        total.replies += n.replies;
        total.drafts_waiting += n.drafts_waiting;
        total.let_go += n.let_go;
        total.opted_out += n.opted_out;
        out.push_str(&format!("  {} <{}>\n", seller.name, seller.email));
        out.push_str(&format!(
            "    tracked {}, new this week {}, replies {}, drafts waiting {}, let go {}, \
             bounced {}, opted out {}\n",
            n.tracked,
            n.new_this_week,
            n.replies,
            n.drafts_waiting,
            n.let_go,
            n.bounced,
            n.opted_out
        ));
        if !seller.rates.is_empty() {
            let rates: Vec<String> = seller
                .rates
                .iter()
                .map(|r| {
                    let step = match (r.step, r.is_close) {
                        (0, _) => "opener".to_string(),
                        (_, true) => "close-the-loop".to_string(),
                        (step, false) => format!("follow-up {step}"),
                    };
                    format!("{step} {}% ({} of {})", r.percent, r.replied, r.reached)
                })
                .collect();
            out.push_str(&format!("    reply rate: {}\n", rates.join(", ")));
        }
        if !seller.new_subjects.is_empty() {
            out.push_str("    new this week:\n");
            for subject in seller.new_subjects.iter().take(LISTED) {
                out.push_str(&format!("      \"{subject}\"\n"));
            }
            if seller.new_subjects.len() > LISTED {
                out.push_str(&format!(
                    "      and {} more\n",
                    seller.new_subjects.len() - LISTED
                ));
            }
        }
    }
    if !summary.overlaps.is_empty() {
        out.push_str("\nTALKING TO THE SAME COMPANY THIS WEEK\n");
        for overlap in summary.overlaps.iter().take(LISTED) {
            out.push_str(&format!(
                "  {}: {}\n",
                overlap.organisation,
                overlap.sellers.join(", ")
            ));
        }
        if summary.overlaps.len() > LISTED {
            out.push_str(&format!("  and {} more\n", summary.overlaps.len() - LISTED));
        }
    }
    out.push_str(&format!(
        "\nTEAM\n  tracked {}, new this week {}, replies {}, drafts waiting {}, let go {}, \
         opted out {}\n",
        total.tracked,
        total.new_this_week,
        total.replies,
        total.drafts_waiting,
        total.let_go,
        total.opted_out
    ));
    summary::wrap(&out, summary::TEXT_WIDTH)
}

/// Sends the team's summary of this week to the lead when it is due and no member sent it
/// yet. Returns the line for the pass report, if anything happened.
pub async fn maybe_send(
    store: &Store,
    config: &Config,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<Option<String>> {
    let (Some(team), Some(smtp)) = (config.team.as_ref(), config.smtp.as_ref()) else {
        return Ok(None);
    };
    let Some(lead) = team.lead.as_deref() else {
        return Ok(None);
    };
    let calendar = Calendar::from_config(config);
    let due = summary::due_this_week(config, &calendar, now);
    if now < due {
        return Ok(None);
    }
    let week = summary::week_key(calendar.local_date(due));
    // As the seller's own: never in the week this seller's nudge first started, when there
    // is nothing to tell yet (and a member joining late sends no second one).
    let first = store
        .meta("first_started_at")
        .await?
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| summary::week_key(calendar.local_date(t.with_timezone(&Utc))));
    if first.as_deref().is_none_or(|f| f == week) {
        return Ok(None);
    }
    if store.team_summary_claimed(&week).await? {
        return Ok(None);
    }
    if dry_run {
        return Ok(Some(format!(
            "would send the team's summary for {week} to {lead}"
        )));
    }
    let message_id = format!(
        "nudge.team.{week}.{:016x}@{}",
        fastrand::u64(..),
        config
            .account
            .email
            .rsplit('@')
            .next()
            .unwrap_or("nudge.invalid")
    );
    if !store.claim_team_summary(&week, &message_id, now).await? {
        return Ok(None);
    }
    let sent = async {
        let summary = compute(store, config, due).await?;
        let message = message(config, lead, &summary, now, &message_id)?;
        Ok::<_, Error>(crate::smtp::send(smtp, message).await)
    }
    .await;
    match sent {
        Ok(Ok(())) => {
            store.settle_team_summary(&week, Some("sent"), now).await?;
            Ok(Some(format!(
                "sent the team's summary for {week} to {lead}"
            )))
        }
        Ok(Err(crate::smtp::Undelivered::Unknown(e))) => {
            store
                .settle_team_summary(&week, Some("unknown"), now)
                .await?;
            let line = format!(
                "the team's summary for {week} may or may not have reached {lead}: {e}; it is \
                 not sent again"
            );
            tracing::error!("{line}");
            Ok(Some(line))
        }
        Ok(Err(crate::smtp::Undelivered::Refused(e))) | Err(e) => {
            store.settle_team_summary(&week, None, now).await?;
            let line = format!(
                "the team's summary for {week} did not go out: {e}; a later pass tries again"
            );
            tracing::warn!("{line}");
            Ok(Some(line))
        }
    }
}

/// The team's summary as a mail from this seller's account to the lead.
fn message(
    config: &Config,
    lead: &str,
    summary: &TeamSummary,
    now: DateTime<Utc>,
    message_id: &str,
) -> Result<lettre::Message> {
    use lettre::message::header::ContentType;
    let to = crate::smtp::mailbox(None, lead)?;
    let marker = ("X-Nudge-Team-Summary", summary.week_key.clone());
    summary::report_builder(config, to, subject(summary), now, message_id, marker)?
        .header(ContentType::TEXT_PLAIN)
        .body(render(summary))
        .map_err(|e| Error::Data(format!("cannot build the team's summary: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seller(name: &str, email: &str, new: usize) -> SellerWeek {
        SellerWeek {
            name: name.into(),
            email: email.into(),
            n: Numbers {
                tracked: 12,
                new_this_week: new as u32,
                replies: 2,
                ..Numbers::default()
            },
            rates: vec![Rate {
                step: 1,
                is_close: false,
                reached: 8,
                replied: 2,
                percent: 25,
            }],
            new_subjects: (0..new).map(|i| format!("Tilbud {i}")).collect(),
        }
    }

    #[test]
    fn the_team_summary_reads_per_seller_and_adds_up() {
        let summary = TeamSummary {
            team: "Fjordsalg".into(),
            week: 48,
            week_key: "2026-W48".into(),
            period: "16–22 November 2026".into(),
            sellers: vec![
                seller("Kari Nordmann", "kari@fjordsalg.no", 12),
                seller("Ola Nordmann", "ola@fjordsalg.no", 1),
            ],
            overlaps: vec![Overlap {
                organisation: "fjordkraft.no".into(),
                sellers: vec!["kari@fjordsalg.no".into(), "ola@fjordsalg.no".into()],
            }],
        };
        let text = render(&summary);
        assert!(text.contains("Kari Nordmann <kari@fjordsalg.no>"), "{text}");
        assert!(text.contains("follow-up 1 25% (2 of 8)"), "{text}");
        assert!(text.contains("\"Tilbud 9\""), "{text}");
        assert!(
            !text.contains("\"Tilbud 10\""),
            "ten subjects at most: {text}"
        );
        assert!(text.contains("and 2 more"), "{text}");
        assert!(
            text.contains("fjordkraft.no: kari@fjordsalg.no, ola@fjordsalg.no"),
            "{text}"
        );
        assert!(
            text.contains("tracked 24, new this week 13, replies 4"),
            "{text}"
        );
        assert!(
            text.lines()
                .all(|l| l.chars().count() <= summary::TEXT_WIDTH),
            "{text}"
        );
        assert_eq!(
            subject(&summary),
            "Team Fjordsalg: week 48 (16–22 November 2026)"
        );
    }
}
