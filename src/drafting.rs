//! The cadence's side of a pass: what became of the drafts waiting in Drafts, letting go,
//! and making the drafts that are due.
//!
//! The seller's control comes from the mail client alone (SPEC 7): a sent draft shows up as a
//! touch, an edited one as a client's replacement in Drafts, a deleted one as gone. nudge only
//! ever removes its own unedited draft, found by the UID it appended and the Message-ID it
//! gave it.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::compose::{self, draft};
use crate::engine::Pass;
use crate::error::Result;
use crate::imap::folders::Folders;
use crate::imap::Connection;
use crate::model::Conversation;
use crate::rules::machine::{self, Transition};
use crate::rules::recipients;
use crate::schedule::{Cadence, DueKind};
use crate::store::{Draft, DraftState, Store};

/// What the cadence did in a pass, one line each, and the drafts a dry run would make.
#[derive(Debug, Default, Clone)]
pub struct CadenceReport {
    pub changes: Vec<String>,
    /// Drafts made (or, in a dry run, that would be made), described for people.
    pub drafts: Vec<String>,
    /// When the next draft or let-go falls due.
    pub next_wake: Option<DateTime<Utc>>,
}

/// Aborts the process at a named point when `NUDGE_FAULT_POINT` names it: the tests use it to
/// show that a crash there loses and duplicates nothing.
pub fn fault_point(name: &str) {
    if std::env::var("NUDGE_FAULT_POINT").is_ok_and(|p| p == name) {
        eprintln!("nudge: stopping at fault point {name} (NUDGE_FAULT_POINT)");
        std::process::abort();
    }
}

fn line(c: &Conversation, what: impl std::fmt::Display) -> String {
    format!("#{} {}: {what}", c.id, c.subject)
}

/// Settles the drafts that wait in Drafts against what the seller did.
pub async fn reconcile(pass: &mut Pass<'_>) -> Result<Vec<String>> {
    let (store, config, now, dry_run) = (pass.store, pass.config, pass.now, pass.dry_run);
    let folders = &pass.folders;
    let connection = &mut *pass.connection;
    let waiting = store.waiting_drafts().await?;
    let mut changes = Vec::new();
    if waiting.is_empty() {
        return Ok(changes);
    }
    let drafts_folder = &folders.drafts;
    let (uidvalidity, uids) = connection.all_uids(&drafts_folder.raw_name).await?;
    let existing: HashSet<u32> = uids.into_iter().collect();
    let steps_total = config.cadence.steps.len() as u32;
    for d in waiting {
        let Some(conversation) = store.conversation(d.conversation_id).await? else {
            continue;
        };
        let present =
            d.uidvalidity == Some(uidvalidity) && d.uid.is_some_and(|u| existing.contains(&u));
        if d.state == DraftState::Appending {
            // A pass that stopped between recording and appending: is the draft there?
            let (validity, found) = connection
                .find_message_id(&drafts_folder.raw_name, &d.message_id)
                .await?;
            match found.last() {
                Some(&uid) => {
                    store
                        .set_draft_state(d.id, DraftState::Pending, Some((validity, uid)), now)
                        .await?;
                    mark_drafted(store, &conversation, &d, now).await?;
                    changes.push(line(
                        &conversation,
                        "found the draft appended before a stop",
                    ));
                }
                None => {
                    store
                        .set_draft_state(d.id, DraftState::Withdrawn, None, now)
                        .await?;
                }
            }
            continue;
        }
        if conversation.step >= d.step {
            // The seller's touch counted for this step: sent, or written by hand instead.
            if present && d.state == DraftState::Pending {
                if !dry_run {
                    withdraw(connection, folders, &d).await?;
                    store
                        .set_draft_state(d.id, DraftState::Withdrawn, None, now)
                        .await?;
                    changes.push(line(
                        &conversation,
                        "the seller wrote by hand: draft withdrawn",
                    ));
                }
            } else {
                store
                    .set_draft_state(d.id, DraftState::Sent, None, now)
                    .await?;
            }
            continue;
        }
        if conversation.state != crate::model::State::Drafted {
            // A reply, a bounce, an opt-out, or the seller stopped it.
            if present && d.state == DraftState::Pending {
                if !dry_run {
                    withdraw(connection, folders, &d).await?;
                    store
                        .set_draft_state(d.id, DraftState::Withdrawn, None, now)
                        .await?;
                    changes.push(line(
                        &conversation,
                        format!("draft withdrawn ({})", conversation.state),
                    ));
                }
            } else {
                // The seller's edited draft is theirs: it stays where it is.
                store
                    .set_draft_state(d.id, DraftState::Withdrawn, None, now)
                    .await?;
            }
            continue;
        }
        if present {
            continue;
        }
        // Gone from Drafts without a touch: replaced by the client (edited), or deleted.
        let replacement = store
            .thread_messages(conversation.thread_id)
            .await?
            .into_iter()
            .filter(|m| m.folder == drafts_folder.name && Some(m.uid) != d.uid)
            .filter(|m| existing.contains(&m.uid))
            .map(|m| m.uid)
            .max();
        if let Some(uid) = replacement {
            store
                .set_draft_state(d.id, DraftState::Edited, Some((uidvalidity, uid)), now)
                .await?;
            changes.push(line(
                &conversation,
                "the seller edited the draft: still pending",
            ));
            continue;
        }
        store
            .set_draft_state(d.id, DraftState::Dismissed, None, now)
            .await?;
        let transition = Transition::Dismissed {
            step: d.step,
            on_dismiss: config.cadence.on_dismiss,
            steps_total,
            now,
        };
        save(store, &conversation, transition, now, &mut changes).await?;
    }
    Ok(changes)
}

/// Removes nudge's own draft, after checking the UID still holds the Message-ID nudge gave it
/// (a client that kept the Message-ID on an edited copy has a new UID for it).
async fn withdraw(connection: &mut Connection, folders: &Folders, d: &Draft) -> Result<()> {
    let (_, uids) = connection
        .find_message_id(&folders.drafts.raw_name, &d.message_id)
        .await?;
    let Some(uid) = d.uid.filter(|u| uids.contains(u)) else {
        return Ok(());
    };
    let trash = folders.trash.as_ref().map(|t| t.raw_name.as_str());
    if let Err(e) = connection
        .remove(&folders.drafts.raw_name, uid, trash)
        .await
    {
        warn!("could not withdraw draft {}: {e}", d.message_id);
    }
    Ok(())
}

/// Applies a transition to a conversation, saves it with what happened, and reports it.
async fn save(
    store: &Store,
    conversation: &Conversation,
    transition: Transition<'_>,
    now: DateTime<Utc>,
    changes: &mut Vec<String>,
) -> Result<()> {
    let outcome = machine::apply(conversation, transition);
    changes.push(line(&outcome.next, &outcome.detail));
    store
        .commit_effects(None, &[outcome.into_effect(now)], now)
        .await?;
    Ok(())
}

async fn mark_drafted(
    store: &Store,
    conversation: &Conversation,
    d: &Draft,
    now: DateTime<Utc>,
) -> Result<()> {
    let outcome = machine::apply(
        conversation,
        Transition::Drafted {
            step: d.step,
            description: format!(
                "drafted follow-up {} ({}, {}, variant {})",
                d.step, d.template, d.language, d.variant
            ),
            language: d.language.clone(),
        },
    );
    if outcome.note_only {
        return Ok(());
    }
    store
        .commit_effects(None, &[outcome.into_effect(now)], now)
        .await?;
    Ok(())
}

/// Lets go of conversations whose grace ran out, makes the drafts that are due, and records
/// every open conversation's next due time.
pub async fn act(pass: &mut Pass<'_>) -> Result<CadenceReport> {
    let (store, config, now) = (pass.store, pass.config, pass.now);
    let calendar = pass.calendar.clone();
    let cadence = Cadence {
        calendar: &calendar,
        config: &config.cadence,
    };
    let mut report = CadenceReport::default();
    let conversations: Vec<Conversation> = store
        .conversations()
        .await?
        .into_iter()
        .filter(|c| c.state.is_open())
        .collect();
    let made_today = store.drafts_made_since(cadence.start_of_day(now)).await?;
    let plan = cadence.plan(&conversations, now, made_today);
    report.next_wake = plan.next_wake;
    let by_id = |id: i64| conversations.iter().find(|c| c.id == id);

    for id in &plan.let_go {
        let Some(conversation) = by_id(*id) else {
            continue;
        };
        save(
            store,
            conversation,
            Transition::LetGo,
            now,
            &mut report.changes,
        )
        .await?;
    }

    for (id, due) in &plan.drafts {
        let Some(conversation) = by_id(*id) else {
            continue;
        };
        let DueKind::FollowUp { step, template } = &due.kind else {
            continue;
        };
        if store.waiting_draft(*id).await?.is_some() {
            continue;
        }
        match make_draft(pass, conversation, *step, template).await {
            Ok(Some(description)) => report.drafts.push(description),
            Ok(None) => {
                // Nobody left to write to: suppressed since, robots, or ignored.
                let transition = Transition::Stop {
                    reason: "nobody to follow up".into(),
                    detail:
                        "no prospect is left to follow up (suppressed, robots or ignored): stopped"
                            .into(),
                };
                save(store, conversation, transition, now, &mut report.changes).await?;
            }
            // One conversation's trouble (a bad address, a broken template) must not stop the rest.
            Err(e) if e.kind() == crate::ErrorKind::Data => {
                warn!("#{}: no draft made: {e}", conversation.id);
            }
            Err(e) => return Err(e),
        }
    }
    if plan.held_back > 0 {
        report.changes.push(format!(
            "{} more drafts are due; the daily limit of {} holds them until tomorrow",
            plan.held_back, config.cadence.daily_limit
        ));
    }

    // Record when each open conversation is due next, for `status`.
    for conversation in store
        .conversations()
        .await?
        .into_iter()
        .filter(|c| c.state.is_open())
    {
        let due = cadence.next(&conversation).map(|d| d.at);
        if due != conversation.next_due {
            store.set_next_due(conversation.id, due).await?;
        }
    }
    Ok(report)
}

/// Makes the draft of `step` for a conversation; `None` when nobody is left to address it to.
async fn make_draft(
    pass: &mut Pass<'_>,
    conversation: &Conversation,
    step: u32,
    template: &str,
) -> Result<Option<String>> {
    let (store, config, now, dry_run) = (pass.store, pass.config, pass.now, pass.dry_run);
    let templates = pass.templates;
    let last = match conversation.last_touch_message {
        Some(id) => store.message(id).await?,
        None => None,
    }
    .ok_or_else(|| crate::Error::Data("the last touch is not in the store".into()))?;
    let suppressed: HashSet<String> = store
        .suppressions()
        .await?
        .into_iter()
        .map(|s| s.address)
        .collect();
    let Some(recipients) = recipients::for_draft(&pass.rules(), &last, &suppressed) else {
        return Ok(None);
    };
    let language = compose::choose_language(config, &conversation.prospects, &last.snippet);
    let first_prospect = recipients.greeted.address.clone();
    let used = store.used_variants(&first_prospect, template).await?;
    let count = templates
        .get(language, template)
        .map(|t| t.variants.len())
        .unwrap_or(1);
    let variant = compose::choose_variant(conversation.id, count, &used);
    let context = compose::context(
        config,
        conversation,
        &recipients.greeted,
        language,
        step,
        now,
    );
    let text = templates.render(language, template, variant, &context)?;
    let from_address = if config.account.is_seller(&last.from_addr) {
        last.from_addr.clone()
    } else {
        config.account.email.clone()
    };
    let message_id = draft::new_message_id(&from_address, now);
    let signature = compose::signature(config, language);
    let raw = draft::compose(&draft::DraftParts {
        last_touch: &last,
        recipients: &recipients,
        from_address: &from_address,
        // Never a name taken from mail.
        from_name: &config.account.name,
        text: &text,
        signature: &signature,
        language,
        zone: config.account.timezone,
        now,
        message_id: &message_id,
    })?;
    let to = context.prospect_name.clone();
    let who = if to.is_empty() {
        first_prospect.clone()
    } else {
        to
    };
    let kind = if step as usize == config.cadence.steps.len() {
        "the close-the-loop message".to_string()
    } else {
        format!("follow-up {step}")
    };
    let verb = if dry_run { "would draft" } else { "drafted" };
    let description = format!(
        "#{} {}: {verb} {kind} to {who} in {} ({template}, variant {variant})",
        conversation.id,
        conversation.subject,
        language_name(language),
    );
    if dry_run {
        return Ok(Some(description));
    }
    let record = Draft {
        id: 0,
        conversation_id: conversation.id,
        step,
        template: template.to_string(),
        variant,
        language: language.code().to_string(),
        message_id: message_id.clone(),
        folder: Some(pass.folders.drafts.name.clone()),
        uidvalidity: None,
        uid: None,
        state: DraftState::Appending,
        created_at: now,
        // What the draft says, to tell it from an edited copy under the same Message-ID.
        fingerprint: draft::fingerprint(&raw),
        parent_message_id: last.message_id.clone(),
        seller_message_id: None,
        removal_attempts: 0,
    };
    // Durable before the APPEND: a record lost after it would mean a second draft.
    let draft_id = store.begin_draft(&record).await?;
    let drafts_folder = pass.folders.drafts.raw_name.clone();
    pass.connection.append_draft(&drafts_folder, &raw).await?;
    fault_point("after-append");
    let (validity, uids) = pass
        .connection
        .find_message_id(&drafts_folder, &message_id)
        .await?;
    let location = uids.last().map(|&uid| (validity, uid));
    store
        .set_draft_state(draft_id, DraftState::Pending, location, now)
        .await?;
    mark_drafted(
        store,
        conversation,
        &Draft {
            id: draft_id,
            ..record
        },
        now,
    )
    .await?;
    info!("{description}");
    Ok(Some(description))
}

/// The language's name in English, for reports.
pub fn language_name(language: crate::config::Language) -> &'static str {
    match language {
        crate::config::Language::En => "English",
        crate::config::Language::Nb => "Norwegian",
        crate::config::Language::Sv => "Swedish",
        crate::config::Language::Da => "Danish",
    }
}
