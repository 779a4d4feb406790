//! One pass: sync the folders into the store, read the text of the messages that matter,
//! then apply every new message to the conversations. Shared by `nudge sync` and the daemon.
//!
//! Crash safety: a folder's new UIDs are stored with its sync state in one transaction; each
//! message's effects are written with its `processed` mark in one transaction. A pass that
//! dies anywhere is finished by the next one, and nothing is applied twice.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use tracing::{debug, info};

use crate::compose::templates::Templates;
use crate::config::{config_dir, Config, TrackMode};
use crate::drafting;
use crate::error::Result;
use crate::imap::folders::{Chosen, Folders};
use crate::imap::sync::uid_set;
use crate::imap::Connection;
use crate::mail::address::{domain, is_freemail, organisation_domain};
use crate::mail::classify::{classify, may_be_bounce};
use crate::mail::parse::{parse, Mail};
use crate::mail::quote::new_text;
use crate::model::Conversation;
use crate::store::{Effect, FolderState, NewMessage, Store, StoredMessage};
use crate::summary;
use crate::tracking::{on_inbound, Link, Policy, TouchOutcome};

/// How many messages one FETCH asks for.
const BATCH: usize = 500;
/// How much of a message's new text is kept for quoting and summaries.
const SNIPPET_CHARS: usize = 2000;

/// What one pass did, for the command line and tests.
#[derive(Debug, Default, Clone)]
pub struct PassReport {
    /// New messages stored, per folder role.
    pub new_messages: Vec<(String, usize)>,
    /// Message headers fetched from the server in this pass.
    pub header_fetches: u64,
    /// Message texts fetched in this pass.
    pub body_fetches: u64,
    /// What changed, one line each, in the seller's words.
    pub changes: Vec<String>,
    /// Drafts made (or, in a dry run, that would be made).
    pub drafts: Vec<String>,
    /// When the next draft or let-go falls due.
    pub next_wake: Option<DateTime<Utc>>,
}

/// Runs one pass against the server at time `now`. A dry run changes nothing on the server.
pub async fn run_pass(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<PassReport> {
    let templates = Templates::load(config.path.as_deref().map(config_dir).as_deref())?;
    let mut connection = Connection::open(&config.imap.server).await?;
    let result = pass_on(&mut connection, config, store, &templates, now, dry_run).await;
    connection.logout().await;
    result
}

/// One pass over an open connection (the daemon keeps its connection between passes).
pub async fn pass_on(
    connection: &mut Connection,
    config: &Config,
    store: &Store,
    templates: &Templates,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<PassReport> {
    let folders = connection.discover_folders(&config.imap).await?;
    let mut report = PassReport::default();
    let started = std::time::Instant::now();
    // Sent first: the seller's messages make the inbound ones worth reading.
    for (role, folder) in [
        ("sent", &folders.sent),
        ("inbox", &folders.inbox),
        ("drafts", &folders.drafts),
    ] {
        let count = sync_folder(connection, store, config, folder, role, now).await?;
        report.new_messages.push((role.to_string(), count));
        if role == "sent" && config.tracking.mode == TrackMode::Flagged {
            refresh_flags(connection, store, folder).await?;
        }
    }
    let synced = started.elapsed();
    read_texts(connection, store, config, &folders, now).await?;
    let read = started.elapsed();
    report.changes = apply_messages(store, config, &folders, now).await?;
    let settled = drafting::reconcile(connection, store, config, &folders, now, dry_run).await?;
    report.changes.extend(settled);
    let cadence =
        drafting::act(connection, store, config, &folders, templates, now, dry_run).await?;
    report.changes.extend(cadence.changes);
    report.drafts = cadence.drafts;
    report.next_wake = cadence.next_wake;
    let (summary, summary_due) = summary::maybe_send(
        connection,
        store,
        config,
        &folders.inbox.raw_name,
        now,
        dry_run,
    )
    .await?;
    report.changes.extend(summary);
    if let Some(due) = summary_due {
        report.next_wake = Some(report.next_wake.map_or(due, |w| w.min(due)));
    }
    debug!(
        sync_ms = synced.as_millis() as u64,
        texts_ms = (read - synced).as_millis() as u64,
        apply_ms = (started.elapsed() - read).as_millis() as u64,
        "pass timing"
    );
    store
        .meta_set_once("first_started_at", &now.to_rfc3339())
        .await?;
    report.header_fetches = connection.header_fetches();
    report.body_fetches = connection.body_fetches();
    Ok(report)
}

/// Stores the headers of the folder's new messages; returns how many were new.
async fn sync_folder(
    connection: &mut Connection,
    store: &Store,
    config: &Config,
    folder: &Chosen,
    role: &str,
    now: DateTime<Utc>,
) -> Result<usize> {
    let status = connection.examine(&folder.raw_name).await?;
    let known = store.folder_state(&folder.name).await?;
    let uids = match &known {
        Some(state) if state.uidvalidity == status.uidvalidity => {
            if status
                .uid_next
                .is_some_and(|next| next <= state.last_uid + 1)
            {
                debug!(folder = %folder.name, "no new messages");
                return Ok(0);
            }
            let mut uids = connection
                .uid_search(&format!("UID {}:*", state.last_uid + 1))
                .await?;
            // "n:*" names the last message even when n is beyond it.
            uids.retain(|&uid| uid > state.last_uid);
            uids
        }
        other => {
            if other.is_some() {
                info!(folder = %folder.name, "UIDVALIDITY changed: rescanning the folder");
            }
            let since = (now - Duration::days(i64::from(config.tracking.lookback_days) + 1))
                .format("%-d-%b-%Y");
            connection.uid_search(&format!("SINCE {since}")).await?
        }
    };
    let mut last_uid = known
        .as_ref()
        .filter(|s| s.uidvalidity == status.uidvalidity)
        .map(|s| s.last_uid)
        .unwrap_or(0);
    let mut stored = 0;
    for batch in uids.chunks(BATCH) {
        let fetched = connection.fetch_headers(&uid_set(batch)).await?;
        let mut messages = Vec::with_capacity(fetched.len());
        for item in fetched {
            let mail = parse(&item.data).unwrap_or_default();
            let from_seller = mail
                .from
                .as_ref()
                .is_some_and(|f| config.account.is_seller(&f.address));
            let automated = is_automated(&mail, from_seller);
            messages.push(NewMessage {
                folder: folder.name.clone(),
                uidvalidity: status.uidvalidity,
                uid: item.uid,
                mail,
                gm_thrid: item.gm_thrid,
                internal_date: item.internal_date,
                flags: item.flags,
                from_seller,
                automated,
            });
        }
        last_uid = last_uid.max(batch.iter().copied().max().unwrap_or(0));
        let state = FolderState {
            name: folder.name.clone(),
            uidvalidity: status.uidvalidity,
            last_uid,
            highest_modseq: status.highest_modseq,
        };
        store.store_messages(&messages, &state, role, now).await?;
        stored += messages.len();
    }
    if uids.is_empty() {
        // Record the folder even when empty, so the next pass is incremental.
        let state = FolderState {
            name: folder.name.clone(),
            uidvalidity: status.uidvalidity,
            last_uid: last_uid.max(status.uid_next.unwrap_or(1).saturating_sub(1)),
            highest_modseq: status.highest_modseq,
        };
        store.store_messages(&[], &state, role, now).await?;
    }
    info!(folder = %folder.name, new = stored, "synced");
    Ok(stored)
}

/// The seller may flag a message in Sent any time after sending it. With CONDSTORE an
/// unchanged HIGHESTMODSEQ says no flag changed since the last look, and the search is saved.
async fn refresh_flags(connection: &mut Connection, store: &Store, folder: &Chosen) -> Result<()> {
    let status = connection.examine(&folder.raw_name).await?;
    let known = store.folder_state(&folder.name).await?;
    let unchanged = status.highest_modseq.is_some()
        && known.as_ref().is_some_and(|k| {
            k.uidvalidity == status.uidvalidity && k.highest_modseq == status.highest_modseq
        });
    if unchanged {
        return Ok(());
    }
    let flagged = connection.uid_search("FLAGGED").await?;
    store
        .mark_flagged(&folder.name, status.uidvalidity, &flagged)
        .await?;
    if let Some(modseq) = status.highest_modseq {
        store.set_highest_modseq(&folder.name, modseq).await?;
    }
    Ok(())
}

/// List mail and nudge's own summary are never touches or replies; on the seller's own
/// messages Auto-Submitted also marks them automatic (SPEC 3).
fn is_automated(mail: &Mail, from_seller: bool) -> bool {
    let s = &mail.signals;
    s.list
        || s.nudge_summary
        || (from_seller && s.auto_submitted.as_deref().is_some_and(|v| v != "no"))
}

/// Fetches and classifies the text of unprocessed messages that matter: inbound mail that may
/// concern the seller, and the seller's own messages (quoted in drafts).
async fn read_texts(
    connection: &mut Connection,
    store: &Store,
    config: &Config,
    folders: &Folders,
    now: DateTime<Utc>,
) -> Result<()> {
    let pending = store.unprocessed_messages().await?;
    let mut wanted: HashMap<String, Vec<&StoredMessage>> = HashMap::new();
    for message in pending
        .iter()
        .filter(|m| m.class.is_none() && m.snippet.is_empty())
    {
        if message.folder == folders.drafts.name {
            continue;
        }
        let needed = if message.from_seller {
            !message.automated
        } else {
            !message.automated
                && (may_be_bounce(&message.from_addr, &message.subject)
                    || store
                        .may_concern_seller(
                            message.thread_id,
                            &message.from_addr,
                            config.tracking.stop_on_same_domain,
                        )
                        .await?)
        };
        if needed {
            wanted
                .entry(message.folder.clone())
                .or_default()
                .push(message);
        }
    }
    for (folder, messages) in wanted {
        let Some(chosen) = folders.all().find(|c| c.name == folder) else {
            continue;
        };
        let status = connection.examine(&chosen.raw_name).await?;
        let by_uid: HashMap<u32, &StoredMessage> = messages.iter().map(|m| (m.uid, *m)).collect();
        let mut uids: Vec<u32> = by_uid.keys().copied().collect();
        uids.sort_unstable();
        let current = store.folder_state(&folder).await?;
        let same_validity = current.is_some_and(|s| s.uidvalidity == status.uidvalidity);
        let mut seen = HashSet::new();
        if same_validity {
            for batch in uids.chunks(BATCH) {
                for item in connection.fetch_messages(&uid_set(batch)).await? {
                    let Some(message) = by_uid.get(&item.uid) else {
                        continue;
                    };
                    seen.insert(item.uid);
                    let mail = parse(&item.data).unwrap_or_default();
                    record_text(store, message, &mail, now).await?;
                }
            }
        }
        // Gone from the server (or the folder was rebuilt): judge from the headers alone.
        for message in messages.iter().filter(|m| !seen.contains(&m.uid)) {
            let mail = Mail {
                subject: message.subject.clone(),
                from: Some(crate::mail::parse::Mailbox {
                    address: message.from_addr.clone(),
                    name: message.from_name.clone(),
                }),
                date: Some(message.date),
                ..Mail::default()
            };
            record_text(store, message, &mail, now).await?;
        }
    }
    Ok(())
}

async fn record_text(
    store: &Store,
    message: &StoredMessage,
    mail: &Mail,
    now: DateTime<Utc>,
) -> Result<()> {
    let snippet: String = new_text(&mail.body).chars().take(SNIPPET_CHARS).collect();
    let class = (!message.from_seller).then(|| classify(mail, now.date_naive()));
    store
        .set_message_text(message.id, class.as_ref(), &snippet)
        .await
}

/// The conversations in memory, indexed the ways inbound mail finds them.
#[derive(Default)]
struct Index {
    conversations: HashMap<i64, Conversation>,
    by_thread: HashMap<i64, i64>,
    by_address: HashMap<String, Vec<i64>>,
    /// Organisation domain → conversations (never free-mail domains).
    by_organisation: HashMap<String, Vec<i64>>,
}

impl Index {
    fn insert(&mut self, conversation: Conversation) {
        let id = conversation.id;
        self.by_thread.insert(conversation.thread_id, id);
        for prospect in &conversation.prospects {
            add_once(self.by_address.entry(prospect.clone()).or_default(), id);
            let d = domain(prospect);
            if !is_freemail(&d) {
                add_once(
                    self.by_organisation
                        .entry(organisation_domain(&d))
                        .or_default(),
                    id,
                );
            }
        }
        self.conversations.insert(id, conversation);
    }

    fn of_thread(&self, thread_id: i64) -> Option<&Conversation> {
        self.by_thread
            .get(&thread_id)
            .and_then(|id| self.conversations.get(id))
    }

    /// Conversations an inbound message from `from` may concern outside its thread.
    fn by_sender(&self, from: &str, same_domain: bool) -> Vec<i64> {
        let mut ids = self.by_address.get(from).cloned().unwrap_or_default();
        let d = domain(from);
        if same_domain && !is_freemail(&d) {
            for &id in self
                .by_organisation
                .get(&organisation_domain(&d))
                .into_iter()
                .flatten()
            {
                add_once(&mut ids, id);
            }
        }
        ids.sort_unstable();
        ids
    }
}

fn add_once(ids: &mut Vec<i64>, id: i64) {
    if !ids.contains(&id) {
        ids.push(id);
    }
}

/// Messages without effect are marked processed in groups of this size.
const MARK_BATCH: usize = 500;

/// Applies every unprocessed message to the conversations, oldest first. Returns one line per
/// change.
async fn apply_messages(
    store: &Store,
    config: &Config,
    folders: &Folders,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let policy = Policy {
        account: &config.account,
        tracking: &config.tracking,
    };
    let mut suppressed: HashSet<String> = store
        .suppressions()
        .await?
        .into_iter()
        .map(|s| s.address)
        .collect();
    let mut index = Index::default();
    for conversation in store.conversations().await? {
        index.insert(conversation);
    }
    let mut changes = Vec::new();
    let mut without_effect: Vec<i64> = Vec::new();
    for message in store.unprocessed_messages().await? {
        let effects = effects_of(
            store,
            &policy,
            config.cadence.steps.len() as u32,
            &index,
            &suppressed,
            folders,
            &message,
            now,
        )
        .await?;
        if effects.is_empty() {
            without_effect.push(message.id);
            if without_effect.len() >= MARK_BATCH {
                store.mark_processed(&without_effect).await?;
                without_effect.clear();
            }
            continue;
        }
        let created = store
            .commit_effects(Some(message.id), &effects, now)
            .await?;
        let mut created = created.into_iter();
        for effect in effects {
            match effect {
                Effect::Track(mut conversation, event) => {
                    conversation.id = created.next().unwrap_or_default();
                    changes.push(format!(
                        "#{} {}: {}",
                        conversation.id, conversation.subject, event.detail
                    ));
                    index.insert(conversation);
                }
                Effect::Update(conversation, event) => {
                    changes.push(format!(
                        "#{} {}: {}",
                        conversation.id, conversation.subject, event.detail
                    ));
                    index.insert(conversation);
                }
                Effect::Suppress { address, .. } => {
                    suppressed.insert(address.to_ascii_lowercase());
                }
            }
        }
    }
    store.mark_processed(&without_effect).await?;
    for change in &changes {
        info!("{change}");
    }
    Ok(changes)
}

/// What one message does to the conversations.
#[allow(clippy::too_many_arguments)]
async fn effects_of(
    store: &Store,
    policy: &Policy<'_>,
    config_steps: u32,
    index: &Index,
    suppressed: &HashSet<String>,
    folders: &Folders,
    message: &StoredMessage,
    now: DateTime<Utc>,
) -> Result<Vec<Effect>> {
    let mut effects = Vec::new();
    if message.folder == folders.drafts.name
        || folders
            .trash
            .as_ref()
            .is_some_and(|t| t.name == message.folder)
    {
        // Drafts are the cadence's business; Trash holds nothing new.
        return Ok(effects);
    }
    if message.from_seller {
        let is_suppressed =
            |address: &str| suppressed.contains(address) || suppressed.contains(&domain(address));
        let prospects = policy.prospects(message, &is_suppressed);
        match index.of_thread(message.thread_id) {
            Some(conversation) => {
                if let Some((next, event)) =
                    policy.on_later_touch(conversation, message, prospects, config_steps)
                {
                    effects.push(Effect::Update(next, event));
                }
            }
            None => {
                let thread_automated = store
                    .thread_messages(message.thread_id)
                    .await?
                    .iter()
                    .any(|m| !m.from_seller && m.automated);
                match policy.on_new_touch(message, prospects, thread_automated, now) {
                    TouchOutcome::Track(conversation) => {
                        let event = crate::tracking::event(
                            message.date,
                            "tracked",
                            format!("the seller wrote to {}", conversation.prospects.join(", ")),
                        );
                        effects.push(Effect::Track(*conversation, event));
                    }
                    TouchOutcome::Ignore(reason) => {
                        debug!(subject = %message.subject, reason, "not tracked");
                    }
                }
            }
        }
        return Ok(effects);
    }
    // Colleagues never answer for a prospect, but the seller's own mail system reports bounces.
    if policy.is_own_side(&message.from_addr) && message.class.as_deref() != Some("bounce") {
        return Ok(effects);
    }
    let mut linked: Vec<(i64, Link)> = Vec::new();
    if let Some(c) = index.of_thread(message.thread_id) {
        linked.push((c.id, Link::Thread));
    }
    if let Some(returned) = &message.bounced_message_id {
        if let Some(thread) = store.thread_of(returned).await? {
            if let Some(c) = index.of_thread(thread) {
                add_link(&mut linked, c.id, Link::Returned);
            }
        }
    }
    for id in index.by_sender(&message.from_addr, policy.tracking.stop_on_same_domain) {
        if let Some(link) = policy.link_by_sender(&index.conversations[&id], &message.from_addr) {
            add_link(&mut linked, id, link);
        }
    }
    for (id, link) in linked {
        if let Some(found) = on_inbound(&index.conversations[&id], message, link) {
            effects.extend(found);
        }
    }
    Ok(effects)
}

fn add_link(linked: &mut Vec<(i64, Link)>, id: i64, link: Link) {
    if !linked.iter().any(|(known, _)| *known == id) {
        linked.push((id, link));
    }
}
