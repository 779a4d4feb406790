//! The cadence's side of a pass: what became of the drafts waiting in Drafts, letting go,
//! and making the drafts that are due.
//!
//! The seller's control comes from the mail client alone (SPEC 7): a sent draft shows up as a
//! touch, an edited one as a client's replacement in Drafts, a deleted one as gone. nudge only
//! ever removes its own unedited draft, found by the UID it appended and the Message-ID it
//! gave it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use tracing::{debug, info, warn};

use crate::compose::{self, draft};
use crate::engine::{self, Pass};
use crate::error::Result;
use crate::imap::folders::Folders;
use crate::imap::Connection;
use crate::model::Conversation;
use crate::rules::machine::{self, Transition};
use crate::rules::recipients;
use crate::schedule::{Cadence, DueKind};
use crate::store::{Draft, DraftState, Planned, Store, ToPlan};

/// What the cadence did in a pass, one line each, and the drafts a dry run would make.
#[derive(Debug, Default, Clone)]
pub struct CadenceReport {
    pub changes: Vec<String>,
    /// Drafts made (or, in a dry run, that would be made), described for people.
    pub drafts: Vec<String>,
    /// When the next draft or let-go falls due.
    pub next_wake: Option<DateTime<Utc>>,
}

/// Test hooks at named points of a pass. `NUDGE_FAULT_POINT=NAME` aborts the process there:
/// the tests use it to show that a crash there loses and duplicates nothing.
/// `NUDGE_PAUSE_POINT=NAME:FILE` creates FILE there and waits (at most a minute) until it is
/// removed: the tests use it to act as the seller's mail client in the middle of a pass.
pub fn fault_point(name: &str) {
    if std::env::var("NUDGE_FAULT_POINT").is_ok_and(|p| p == name) {
        eprintln!("nudge: stopping at fault point {name} (NUDGE_FAULT_POINT)");
        std::process::abort();
    }
    let Ok(pause) = std::env::var("NUDGE_PAUSE_POINT") else {
        return;
    };
    let Some((point, file)) = pause.split_once(':') else {
        return;
    };
    if point != name {
        return;
    }
    let file = std::path::Path::new(file);
    if let Err(e) = std::fs::write(file, name) {
        eprintln!("nudge: cannot pause at {name}: {e}");
        return;
    }
    eprintln!(
        "nudge: pausing at {name} until {} is removed",
        file.display()
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while file.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn line(c: &Conversation, what: impl std::fmt::Display) -> String {
    format!(
        "#{} {}: {what}",
        c.id,
        crate::display::neutralise(&c.subject)
    )
}

/// What [`reconcile`] found.
#[derive(Debug, Default, Clone)]
pub struct Reconciled {
    /// What changed, one line each.
    pub changes: Vec<String>,
    /// A draft left Drafts while its sent copy reached Sent after this pass read Sent: read
    /// Sent again (and reconcile again) so that the touch counts in this pass.
    pub sent_meanwhile: bool,
}

/// What became of a removal.
enum Removal {
    /// Moved to Trash, or deleted with UID EXPUNGE.
    Removed,
    /// Its UID no longer holds nudge's Message-ID: there is nothing of nudge's to remove.
    NotThere,
    /// The server could not or would not: the draft is still there.
    Failed(crate::Error),
}

/// Settles the drafts that wait in Drafts against what the seller did, and retries removals
/// that failed before.
///
/// Nothing is judged before nudge's draft is found where it is now: after Drafts' UIDVALIDITY
/// changed, by the Message-ID nudge gave it, and a copy under that Message-ID is nudge's own
/// only when it is what nudge appended (a client may keep the Message-ID on the seller's
/// edit). A draft gone from Drafts is then explained in the order that never stops a
/// conversation by mistake: its sent copy (on the server now, also when Sent was read before
/// it arrived), then the client's replacement (a draft that appeared after nudge's, threaded
/// to the same message), and only then a dismissal.
pub async fn reconcile(pass: &mut Pass<'_>) -> Result<Reconciled> {
    let (store, now, dry_run) = (pass.store, pass.now, pass.dry_run);
    let unsettled = store.unsettled_drafts().await?;
    let mut out = Reconciled::default();
    if unsettled.is_empty() {
        return Ok(out);
    }
    let drafts_folder = pass.folders.drafts.clone();
    let (uidvalidity, uids) = pass.connection.all_uids(&drafts_folder.raw_name).await?;
    let existing: HashSet<u32> = uids.into_iter().collect();
    // Read at once; a conversation met again (a second draft of it) is read afresh, since
    // settling the first may have changed it.
    let ids: Vec<i64> = unsettled.iter().map(|d| d.conversation_id).collect();
    let mut read_first = store.conversations_by_id(&ids).await?;
    for mut d in unsettled {
        let read = match read_first.remove(&d.conversation_id) {
            Some(c) => Some(c),
            None => store.conversation(d.conversation_id).await?,
        };
        let Some(mut conversation) = read else {
            continue;
        };
        let mut present =
            d.uidvalidity == Some(uidvalidity) && d.uid.is_some_and(|u| existing.contains(&u));
        if d.state == DraftState::Appending {
            // A pass that stopped between recording and appending: is the draft there?
            if !recover(pass, &conversation, &mut d, &mut out.changes).await? || dry_run {
                continue;
            }
            present = true;
            match store.conversation(d.conversation_id).await? {
                Some(c) => conversation = c,
                None => continue,
            }
        } else if d.uidvalidity != Some(uidvalidity) {
            // Drafts was rebuilt: every UID is new. Find the draft again before judging.
            present = relocate(pass, &conversation, &mut d, &mut out.changes).await?;
        }
        if d.state == DraftState::Removing {
            if present && d.state == DraftState::Removing {
                take_back(
                    pass,
                    &conversation,
                    &d,
                    "the draft is withdrawn at last",
                    &mut out,
                )
                .await?;
            } else if !dry_run {
                // Gone (the seller deleted it) or theirs now: nothing of nudge's to remove.
                store
                    .set_draft_state(d.id, DraftState::Withdrawn, None, now)
                    .await?;
            }
            continue;
        }
        if conversation.step >= d.step {
            // The seller's touch counted for this step: sent, or written by hand instead.
            if present && d.state == DraftState::Pending {
                take_back(
                    pass,
                    &conversation,
                    &d,
                    "the seller wrote by hand: draft withdrawn",
                    &mut out,
                )
                .await?;
            } else if !dry_run {
                store
                    .set_draft_state(d.id, DraftState::Sent, None, now)
                    .await?;
            }
            continue;
        }
        if conversation.state != crate::model::State::Drafted {
            // A reply, a bounce, an opt-out, or the seller stopped it.
            if present && d.state == DraftState::Pending {
                let what = format!("draft withdrawn ({})", conversation.state);
                take_back(pass, &conversation, &d, &what, &mut out).await?;
            } else if !dry_run {
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
        // Gone from Drafts without a touch: sent while this pass ran, replaced by the client
        // (edited or autosaved), or deleted; asked in that order.
        if sent_copy_waiting(pass, &conversation, &d).await? {
            debug!(
                "#{}: the draft left Drafts and its sent copy reached Sent during this pass",
                conversation.id
            );
            out.sent_meanwhile = true;
            continue;
        }
        if let Some((location, message_id)) =
            replacement(pass, &conversation, &d, uidvalidity, &existing).await?
        {
            if !dry_run {
                store
                    .set_draft_edited(d.id, location, message_id.as_deref())
                    .await?;
            }
            out.changes.push(line(
                &conversation,
                "the seller edited the draft: still pending",
            ));
            continue;
        }
        let config = pass.config;
        let transition = Transition::Dismissed {
            step: d.step,
            on_dismiss: config.cadence.on_dismiss,
            steps_total: config.cadence.steps.len() as u32,
            now,
        };
        if !dry_run {
            store
                .set_draft_state(d.id, DraftState::Dismissed, None, now)
                .await?;
        }
        settle(pass, &conversation, transition, &mut out.changes).await?;
    }
    Ok(out)
}

/// A row left `appending` by a pass that stopped: adopts the copy under nudge's Message-ID
/// that is what nudge appended; a copy that differs is the seller's edit (a client that keeps
/// the Message-ID, such as NeoMutt's postpone) and is recorded as theirs; none at all means
/// the APPEND never happened. Returns true when a draft waits in Drafts.
async fn recover(
    pass: &mut Pass<'_>,
    conversation: &Conversation,
    d: &mut Draft,
    changes: &mut Vec<String>,
) -> Result<bool> {
    let (store, now, dry_run) = (pass.store, pass.now, pass.dry_run);
    let folder = pass.folders.drafts.raw_name.clone();
    let (validity, found) = pass
        .connection
        .find_message_id(&folder, &d.message_id)
        .await?;
    let Some(&highest) = found.last() else {
        if !dry_run {
            store
                .set_draft_state(d.id, DraftState::Withdrawn, None, now)
                .await?;
        }
        return Ok(false);
    };
    match own_copy(pass, &folder, d, &found).await? {
        Some(uid) => {
            d.state = DraftState::Pending;
            d.uidvalidity = Some(validity);
            d.uid = Some(uid);
            if !dry_run {
                store
                    .set_draft_state(d.id, DraftState::Pending, Some((validity, uid)), now)
                    .await?;
                mark_drafted(store, conversation, d, now).await?;
            }
            changes.push(line(conversation, "found the draft appended before a stop"));
        }
        None => {
            d.state = DraftState::Edited;
            d.uidvalidity = Some(validity);
            d.uid = Some(highest);
            if !dry_run {
                store
                    .set_draft_edited(d.id, (validity, highest), Some(&d.message_id))
                    .await?;
                mark_drafted(store, conversation, d, now).await?;
            }
            changes.push(line(
                conversation,
                "found the draft appended before a stop, already edited by the seller: it is theirs",
            ));
        }
    }
    Ok(true)
}

/// Of the UIDs carrying nudge's Message-ID, the highest whose message is what nudge appended.
/// Rows from before fingerprints were kept take the highest, as before.
async fn own_copy(
    pass: &mut Pass<'_>,
    folder: &str,
    d: &Draft,
    found: &[u32],
) -> Result<Option<u32>> {
    let Some(expected) = &d.fingerprint else {
        return Ok(found.last().copied());
    };
    for &uid in found.iter().rev() {
        let Some(raw) = pass.connection.fetch_whole(folder, uid).await? else {
            continue;
        };
        if draft::fingerprint(&raw).as_ref() == Some(expected) {
            return Ok(Some(uid));
        }
    }
    Ok(None)
}

/// After Drafts' UIDVALIDITY changed: finds the draft again by Message-ID (nudge's own, or the
/// seller's edited copy) and records where it is now. Returns true when it is there.
async fn relocate(
    pass: &mut Pass<'_>,
    conversation: &Conversation,
    d: &mut Draft,
    changes: &mut Vec<String>,
) -> Result<bool> {
    let (store, now, dry_run) = (pass.store, pass.now, pass.dry_run);
    let folder = pass.folders.drafts.raw_name.clone();
    let wanted = match d.state {
        DraftState::Edited => d.seller_message_id.clone(),
        _ => Some(d.message_id.clone()),
    };
    let Some(wanted) = wanted else {
        return Ok(false);
    };
    let (validity, found) = pass.connection.find_message_id(&folder, &wanted).await?;
    let Some(&highest) = found.last() else {
        return Ok(false);
    };
    if d.state == DraftState::Edited {
        d.uidvalidity = Some(validity);
        d.uid = Some(highest);
        if !dry_run {
            store
                .set_draft_edited(d.id, (validity, highest), None)
                .await?;
        }
        return Ok(true);
    }
    match own_copy(pass, &folder, d, &found).await? {
        Some(uid) => {
            d.uidvalidity = Some(validity);
            d.uid = Some(uid);
            if !dry_run {
                store
                    .set_draft_state(d.id, d.state, Some((validity, uid)), now)
                    .await?;
            }
        }
        None => {
            // Only an edited copy carries nudge's Message-ID now: the seller's.
            d.state = DraftState::Edited;
            d.uidvalidity = Some(validity);
            d.uid = Some(highest);
            if !dry_run {
                store
                    .set_draft_edited(d.id, (validity, highest), Some(&wanted))
                    .await?;
            }
            changes.push(line(
                conversation,
                "the seller edited the draft: still pending",
            ));
        }
    }
    Ok(true)
}

/// Where this seller last looked at the team's suppression list (the `seq` of the newest
/// entry seen).
const TEAM_SUPPRESSIONS_SEEN: &str = "team_suppressions_seen";

/// The team's suppressions added since the last pass, heeded ([`crate::rules::heed_suppression`]):
/// an open conversation whose prospects are now all suppressed ends, one whose waiting draft
/// may address a new entry has it made again without them; reconciling withdraws the draft in
/// the same pass. A colleague's opt-out stops this seller's follow-up to the same person.
pub async fn heed_team_suppressions(pass: &Pass<'_>) -> Result<Vec<String>> {
    let (store, now) = (pass.store, pass.now);
    let mut changes = Vec::new();
    if store.team_name().is_none() {
        return Ok(changes);
    }
    let seen: i64 = store
        .meta(TEAM_SUPPRESSIONS_SEEN)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let added = store.team_suppressions_after(seen).await?;
    let Some(newest) = added.last().map(|a| a.seq) else {
        return Ok(changes);
    };
    let (addresses, domains): (Vec<_>, Vec<_>) =
        added.iter().partition(|a| a.address.contains('@'));
    let addresses: Vec<String> = addresses.iter().map(|a| a.address.clone()).collect();
    let domains: Vec<String> = domains.iter().map(|a| a.address.clone()).collect();
    let concerned = store
        .conversations_concerning(&[], &[], &addresses, &domains)
        .await?;
    if !concerned.is_empty() {
        let suppressed = store.suppressed_entries().await?;
        for conversation in &concerned {
            let why: Vec<String> = added
                .iter()
                .filter(|a| {
                    conversation.prospects.iter().any(|p| {
                        let p = p.to_ascii_lowercase();
                        p == a.address || crate::mail::address::domain(&p) == a.address
                    })
                })
                .map(|a| format!("{}: {}, seen by {}", a.address, a.reason, a.added_by))
                .collect();
            if why.is_empty() {
                continue;
            }
            let newly: HashSet<String> = added.iter().map(|a| a.address.clone()).collect();
            if let Some(transition) =
                crate::rules::heed_suppression(conversation, &suppressed, &newly, &why.join("; "))
            {
                save(store, conversation, transition, now, &mut changes).await?;
            }
        }
    }
    store
        .meta_set(TEAM_SUPPRESSIONS_SEEN, &newest.to_string())
        .await?;
    Ok(changes)
}

/// Removes nudge's own draft, and records what became of it: withdrawn, or waiting for a
/// removal that failed to be tried again at the next pass.
async fn take_back(
    pass: &mut Pass<'_>,
    conversation: &Conversation,
    d: &Draft,
    what: &str,
    out: &mut Reconciled,
) -> Result<()> {
    let (store, now) = (pass.store, pass.now);
    if pass.dry_run {
        out.changes
            .push(line(conversation, format!("would be withdrawn: {what}")));
        return Ok(());
    }
    match withdraw(pass.connection, &pass.folders, d).await? {
        Removal::Removed => {
            store
                .set_draft_state(d.id, DraftState::Withdrawn, None, now)
                .await?;
            // Logged as a made draft is: the service's log says why a draft left Drafts.
            info!("{}", line(conversation, what));
            out.changes.push(line(conversation, what));
        }
        Removal::NotThere => {
            store
                .set_draft_state(d.id, DraftState::Withdrawn, None, now)
                .await?;
        }
        Removal::Failed(e) => {
            let attempts = store.draft_removal_failed(d.id).await?;
            if attempts == 1 {
                warn!(
                    "#{}: could not withdraw draft {}: {e}; trying again at the next passes",
                    conversation.id, d.message_id
                );
                out.changes.push(line(
                    conversation,
                    format!(
                        "the draft could not be withdrawn ({e}); trying again at the next pass"
                    ),
                ));
            } else {
                debug!(
                    "#{}: withdrawing draft {} failed again ({attempts} tries): {e}",
                    conversation.id, d.message_id
                );
            }
        }
    }
    Ok(())
}

/// Removes nudge's own draft, after checking the UID still holds the Message-ID nudge gave it
/// (a client that kept the Message-ID on an edited copy has a new UID for it). A plain
/// EXPUNGE is never sent.
async fn withdraw(connection: &mut Connection, folders: &Folders, d: &Draft) -> Result<Removal> {
    let (_, uids) = connection
        .find_message_id(&folders.drafts.raw_name, &d.message_id)
        .await?;
    let Some(uid) = d.uid.filter(|u| uids.contains(u)) else {
        return Ok(Removal::NotThere);
    };
    let trash = folders.trash.as_ref().map(|t| t.raw_name.as_str());
    match connection
        .remove(&folders.drafts.raw_name, uid, trash)
        .await
    {
        Ok(()) => Ok(Removal::Removed),
        Err(e) => Ok(Removal::Failed(e)),
    }
}

/// The Message-ID the draft answers: recorded with it, or (rows from before that was
/// recorded) the conversation's last touch, which a draft always answers.
async fn parent_of(
    store: &Store,
    conversation: &Conversation,
    d: &Draft,
) -> Result<Option<String>> {
    if let Some(parent) = &d.parent_message_id {
        return Ok(Some(parent.clone()));
    }
    Ok(match conversation.last_touch_message {
        Some(id) => store.message(id).await?.and_then(|m| m.message_id),
        None => None,
    })
}

/// True when Sent holds, beyond what this pass read of it, a message answering the draft's
/// parent: the seller sent the draft while the pass ran, and it must be read before the gone
/// draft can be judged.
async fn sent_copy_waiting(
    pass: &mut Pass<'_>,
    conversation: &Conversation,
    d: &Draft,
) -> Result<bool> {
    let Some(parent) = parent_of(pass.store, conversation, d).await? else {
        return Ok(false);
    };
    let sent = pass.folders.sent.clone();
    let Some(known) = pass.store.folder_state(&sent.name).await? else {
        return Ok(false);
    };
    let (validity, found) = match pass
        .connection
        .find_answers_to(&sent.raw_name, known.last_uid + 1, &parent)
        .await
    {
        Ok(found) => found,
        // A Message-ID that cannot be searched for: nothing is waiting that could be found.
        Err(e) if e.kind() == crate::ErrorKind::Data => return Ok(false),
        Err(e) => return Err(e),
    };
    if validity != known.uidvalidity {
        // Sent was rebuilt since it was read: the next read rescans it.
        return Ok(true);
    }
    Ok(!found.is_empty())
}

/// The client's replacement of a gone draft: a message in Drafts now, in the conversation's
/// thread, that appeared after nudge's draft (a higher UID; after Drafts was rebuilt, a later
/// arrival), looked for both in what this pass read and on the server as it is now (an
/// autosave during the pass). An older draft of the seller's in the thread is not one.
async fn replacement(
    pass: &mut Pass<'_>,
    conversation: &Conversation,
    d: &Draft,
    uidvalidity: u32,
    existing: &HashSet<u32>,
) -> Result<Option<((u32, u32), Option<String>)>> {
    let store = pass.store;
    let drafts = pass.folders.drafts.clone();
    let own_uid = d.uid.filter(|_| d.uidvalidity == Some(uidvalidity));
    let after = |uid: u32, arrived: DateTime<Utc>| match own_uid {
        Some(own) => uid > own,
        None => arrived >= d.created_at,
    };
    let mut best: Option<(u32, Option<String>)> = store
        .drafts_folder_copies(&drafts.name, uidvalidity, conversation.thread_id)
        .await?
        .into_iter()
        .filter(|m| existing.contains(&m.uid) && after(m.uid, m.arrived))
        .map(|m| (m.uid, m.message_id))
        .max_by_key(|(uid, _)| *uid);
    if let (Some(own), Some(parent)) = (own_uid, parent_of(store, conversation, d).await?) {
        match pass
            .connection
            .find_answers_to(&drafts.raw_name, own + 1, &parent)
            .await
        {
            Ok((validity, found)) if validity == uidvalidity => {
                if let Some(&uid) = found.last() {
                    if best.as_ref().is_none_or(|(b, _)| uid > *b) {
                        best = Some((uid, None));
                    }
                }
            }
            Ok(_) => {}
            Err(e) if e.kind() == crate::ErrorKind::Data => {}
            Err(e) => return Err(e),
        }
    }
    Ok(best.map(|(uid, message_id)| ((uidvalidity, uid), message_id)))
}

/// Applies a transition to a conversation, saves it with what happened (not in a dry run),
/// and reports it.
async fn settle(
    pass: &Pass<'_>,
    conversation: &Conversation,
    transition: Transition<'_>,
    changes: &mut Vec<String>,
) -> Result<()> {
    let outcome = machine::apply(conversation, transition);
    changes.push(line(&outcome.next, &outcome.detail));
    if !pass.dry_run {
        pass.store
            .commit_effects(None, &[outcome.into_effect(pass.now)], pass.now)
            .await?;
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
    let change = line(&outcome.next, &outcome.detail);
    if commit_current(store, outcome, now).await? {
        changes.push(change);
    }
    Ok(())
}

/// Writes a transition's outcome if the conversation is still as it was read; false when a
/// command changed it meanwhile (the next pass decides again on the current row).
async fn commit_current(
    store: &Store,
    outcome: machine::Outcome,
    now: DateTime<Utc>,
) -> Result<bool> {
    match store
        .commit_effects(None, &[outcome.into_effect(now)], now)
        .await
    {
        Ok(_) => Ok(true),
        Err(crate::Error::Stale { id }) => {
            debug!(
                conversation = id,
                "changed meanwhile: left for the next pass"
            );
            Ok(false)
        }
        Err(e) => Err(e),
    }
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
    commit_current(store, outcome, now).await?;
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
    // What a conversation's due time is depends only on its row, the cadence and the
    // calendar: while those are as they were, only the conversations changed since the last
    // plan and those due by now are read and planned again.
    let planned_with = plan_fingerprint(config, &calendar);
    let every = store.meta(PLANNED_WITH).await?.as_deref() != Some(planned_with.as_str());
    let made_today = store.drafts_made_since(cadence.start_of_day(now)).await?;
    let room = config.cadence.daily_limit.saturating_sub(made_today) as usize;
    let mut read = to_plan(store, every, now, room).await?;
    fault_point("before-drafts");
    let mut plan = planned(&cadence, store, &read, every, now, made_today).await?;
    // Look everywhere before drafting: a reply filed away from INBOX is a reply.
    let due: Vec<&Conversation> = plan
        .drafts
        .iter()
        .filter_map(|(id, _)| read.conversations.iter().find(|c| c.id == *id))
        .collect();
    let looked = crate::elsewhere::look(pass, &due).await?;
    if looked.found > 0 {
        report
            .changes
            .extend(crate::engine::apply_messages(pass).await?);
        read = to_plan(store, every, now, room).await?;
        plan = planned(&cadence, store, &read, every, now, made_today).await?;
    }
    let conversations = &read.conversations;
    report.next_wake = plan.next_wake;
    let by_id: HashMap<i64, &Conversation> = conversations.iter().map(|c| (c.id, c)).collect();
    let by_id = |id: i64| by_id.get(&id).copied();

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

    // The texts the drafts quote, read in one go rather than one FETCH per draft.
    let touches: Vec<i64> = plan
        .drafts
        .iter()
        .filter_map(|(id, _)| by_id(*id).and_then(|c| c.last_touch_message))
        .collect();
    crate::engine::read_seller_texts(pass, &touches).await?;
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
        if let Some(transition) = team_overlap(pass, conversation).await? {
            // Held: its due time moves with it, shown by `status` at once.
            let mut outcome = machine::apply(conversation, transition);
            outcome.next.next_due = cadence.next(&outcome.next).map(|due| due.at);
            let change = line(&outcome.next, &outcome.detail);
            if commit_current(store, outcome, now).await? {
                report.changes.push(change);
            }
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
    let zone = config.account.timezone;
    let until = plan
        .waiting_until
        .map(|at| {
            at.with_timezone(&zone)
                .format("%a %Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    if plan.held_back > 0 {
        report.changes.push(format!(
            "{} more drafts are due; the daily limit of {} holds them until {until}",
            plan.held_back, config.cadence.daily_limit
        ));
    }
    if plan.deferred > 0 {
        report.changes.push(format!(
            "{} drafts are due; they wait for {until} (drafts are made on business days from \
             {} to {})",
            plan.deferred,
            config.cadence.draft_time.format("%H:%M"),
            config.cadence.quiet_after
        ));
    }

    // Record when each conversation planned is due next, for `status` and the next pass.
    // Those this pass drafted for, let go or stopped have no due time now, written with
    // their new state, and are planned again next time; the others are as read above.
    let acted: HashSet<i64> = plan
        .let_go
        .iter()
        .chain(plan.drafts.iter().map(|(id, _)| id))
        .copied()
        .collect();
    let dues: Vec<Planned> = conversations
        .iter()
        .filter(|c| !acted.contains(&c.id))
        .filter_map(|c| {
            let due = cadence.next(c);
            let at = due.as_ref().map(|d| d.at);
            // Planned at this version, and due as planned: the row says so already.
            if read.planned.contains(&c.id) && at == c.next_due {
                return None;
            }
            Some(Planned {
                id: c.id,
                version: c.version,
                due: at,
                draft: due.is_some_and(|d| matches!(d.kind, DueKind::FollowUp { .. })),
            })
        })
        .collect();
    store.set_planned(&dues).await?;
    if every {
        store.meta_set(PLANNED_WITH, &planned_with).await?;
    }
    Ok(report)
}

/// The meta key of what the stored due times were worked out with.
const PLANNED_WITH: &str = "planned_with";

/// What a conversation's due time depends on besides its row: the cadence, the calendar
/// and nudge's own rules (its version).
fn plan_fingerprint(config: &crate::config::Config, calendar: &crate::cadence::Calendar) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    format!(
        "{} {:?} {calendar:?}",
        env!("CARGO_PKG_VERSION"),
        config.cadence
    )
    .hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// The open conversations to plan: every one, or those changed or due by `now` with at most
/// `room` of the drafts due (see [`act`]).
async fn to_plan(store: &Store, every: bool, now: DateTime<Utc>, room: usize) -> Result<ToPlan> {
    if every {
        Ok(ToPlan {
            conversations: store.open_conversations().await?,
            ..ToPlan::default()
        })
    } else {
        store.conversations_to_plan(now, room).await
    }
}

/// The cadence's plan over the conversations `read`; when they are not every open one, the
/// next wake also counts the due times of those left unread.
async fn planned(
    cadence: &Cadence<'_>,
    store: &Store,
    read: &ToPlan,
    every: bool,
    now: DateTime<Utc>,
    made_today: u32,
) -> Result<crate::schedule::Plan> {
    let mut plan = cadence.plan_with_more(&read.conversations, now, made_today, read.more_due);
    if !every {
        if let Some(at) = store.next_planned_due(now).await? {
            plan.wake_at(at);
        }
    }
    Ok(plan)
}

/// The team's overlap rule for a follow-up due now: the transition that holds it while a
/// colleague's touch of one of its organisations is recent ([`crate::rules::overlap_wait`]).
async fn team_overlap(
    pass: &Pass<'_>,
    conversation: &Conversation,
) -> Result<Option<Transition<'static>>> {
    let (store, config, now) = (pass.store, pass.config, pass.now);
    let Some(team) = config.team.as_ref().filter(|t| t.overlap_days > 0) else {
        return Ok(None);
    };
    let mut organisations: Vec<String> = conversation
        .prospects
        .iter()
        .map(|p| crate::mail::address::organisation_domain(&crate::mail::address::domain(p)))
        .filter(|o| !o.is_empty())
        .collect();
    organisations.sort_unstable();
    organisations.dedup();
    // Business days run slower than calendar days: holidays and weekends, with room to spare.
    let since = now - chrono::Duration::days(i64::from(team.overlap_days) * 2 + 30);
    let touches = store.colleague_touches(&organisations, since).await?;
    let calendar = crate::cadence::Calendar::from_config(config);
    Ok(crate::rules::overlap_wait(
        &touches,
        team.overlap_days,
        &calendar,
        now,
    ))
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
    let last = engine::with_text(pass, last).await?;
    let suppressed = store.suppressed_entries().await?;
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
    // The greeted prospect's latest message in the thread may name their company.
    let greeted = recipients.greeted.address.to_ascii_lowercase();
    let from_prospect = store
        .thread_messages(conversation.thread_id)
        .await?
        .into_iter()
        .rev()
        .find(|m| !m.from_seller && m.from_addr.eq_ignore_ascii_case(&greeted));
    let context = compose::context(
        config,
        conversation,
        &recipients.greeted,
        from_prospect.as_ref(),
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
    let kind = if template == crate::schedule::CHECK_BACK {
        "the check-back the prospect asked for".to_string()
    } else if step as usize == config.cadence.steps.len() {
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
        crate::config::Language::Fi => "Finnish",
        crate::config::Language::De => "German",
    }
}
