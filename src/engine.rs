//! One pass: sync the folders into the store, read the text of the messages that matter,
//! then apply every new message to the conversations. Shared by `nudge sync` and the daemon.
//!
//! Crash safety: a folder's new UIDs are stored with its sync state in one transaction; each
//! message's effects are written with its `processed` mark in one transaction. A pass that
//! dies anywhere is finished by the next one, and nothing is applied twice.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, SubsecRound, Utc};
use futures::FutureExt;
use tracing::{debug, info, warn, Instrument};

use crate::cadence::Calendar;
use crate::compose::templates::Templates;
use crate::config::{config_dir, Config, TrackMode};
use crate::drafting;
use crate::error::{Error, Result};
use crate::imap::folders::{Chosen, Folders};
use crate::imap::sync::uid_set;
use crate::imap::Connection;
use crate::mail::address::{domain, organisation_domain};
use crate::mail::classify::{classify, may_be_bounce, Classification};
use crate::mail::parse::{parse, Mail};
use crate::mail::quote::new_text;
use crate::model::Origin;
use crate::progress::SyncProgress;
use crate::rules::link::Index;
use crate::rules::{Decision, DismissedDraft, Effect, Facts, LastTouch, Rules};
use crate::store::{FolderState, NewMessage, Store, StoredMessage};
use crate::summary;

/// How many messages one FETCH of headers asks for.
const BATCH: usize = 500;
/// How many messages one FETCH of texts asks for: each answer holds up to 160 KiB.
pub const TEXT_BATCH: usize = 100;
/// A pass that stores at least this many messages refreshes the store's query statistics.
const FRESH_STATISTICS: usize = 1000;
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

/// Everything one pass works with: the session, the record, the settings and the moment.
pub struct Pass<'a> {
    /// The IMAP session the pass reads and writes through.
    pub connection: &'a mut Connection,
    /// The record of truth.
    pub store: &'a Store,
    pub config: &'a Config,
    /// INBOX, Sent, Drafts and Trash, as discovered at the start of the pass.
    pub folders: Folders,
    /// The follow-up templates (built in, or the seller's own).
    pub templates: &'a Templates,
    /// Business days in the seller's time zone, holidays and away days.
    pub calendar: Calendar,
    /// The time the pass acts at (`--now` in tests and demos).
    pub now: DateTime<Utc>,
    /// When nudge first started on this store (`now` before the first pass is done).
    pub first_started_at: DateTime<Utc>,
    /// Change nothing on the server; report what would be done.
    pub dry_run: bool,
    /// Told how far the fetch of each folder is (the bar of `nudge sync`).
    pub progress: &'a dyn SyncProgress,
}

impl Pass<'_> {
    /// The rules over this pass's configuration.
    pub fn rules(&self) -> Rules<'_> {
        rules_of(self.config, self.first_started_at)
    }
}

/// The rules over a configuration, for a store nudge first started on at `first_started_at`.
pub fn rules_of(config: &Config, first_started_at: DateTime<Utc>) -> Rules<'_> {
    Rules {
        account: &config.account,
        tracking: &config.tracking,
        steps_total: config.cadence.steps.len() as u32,
        first_started_at,
    }
}

/// When nudge first started on `store`: its `first_started_at`, or `now` before the first
/// pass is done (a new or reset store).
pub async fn first_started_at(store: &Store, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    Ok(store
        .meta("first_started_at")
        .await?
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map_or(now, |t| t.with_timezone(&Utc)))
}

/// Runs one pass against the server at time `now`. A dry run changes nothing on the server.
pub async fn run_pass(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
    dry_run: bool,
    progress: &dyn SyncProgress,
) -> Result<PassReport> {
    let templates = Templates::load(config.path.as_deref().map(config_dir).as_deref())?;
    // A dry run works on a copy of the store, so that it reports exactly what a real pass
    // would do and changes nothing: not the conversations, their history, meta or
    // suppressions (SPEC 7). The server is only read.
    let snapshot = if dry_run {
        Some(store.snapshot().await?)
    } else {
        None
    };
    let store = snapshot.as_ref().map_or(store, |(copy, _)| copy);
    let mut connection = Connection::open(&config.imap.server).await?;
    let result = pass_on(
        &mut connection,
        config,
        store,
        &templates,
        now,
        dry_run,
        progress,
    )
    .await;
    connection.logout().await;
    if let Some((copy, guard)) = snapshot {
        copy.close().await;
        guard.remove().await;
    }
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
    progress: &dyn SyncProgress,
) -> Result<PassReport> {
    // The store keeps times to the second (`store::stored_time`): a time this pass gives a
    // message (an arrival in the future is taken as now) or a conversation reads back equal
    // to the pass's, and to nudge's first start when this pass is the first.
    let now = now.trunc_subsecs(0);
    let folders = connection.discover_folders(&config.imap).await?;
    let first_started_at = first_started_at(store, now).await?;
    let mut pass = Pass {
        connection,
        store,
        config,
        folders,
        templates,
        calendar: Calendar::from_config(config),
        now,
        first_started_at,
        dry_run,
        progress,
    };
    let mut report = PassReport::default();
    let started = std::time::Instant::now();
    // Sent first: the seller's messages make the inbound ones worth reading. INBOX last:
    // the replies' texts are read next, in the folder still open.
    let roles = [
        (Origin::Sent, pass.folders.sent.clone()),
        (Origin::Drafts, pass.folders.drafts.clone()),
        (Origin::Inbox, pass.folders.inbox.clone()),
    ];
    for (origin, folder) in roles {
        let count = sync_folder(&mut pass, &folder, origin).await?;
        report.new_messages.push((origin.name().to_string(), count));
        if origin == Origin::Sent && config.tracking.mode == TrackMode::Flagged {
            refresh_flags(pass.connection, store, &folder).await?;
        }
    }
    // Reported as the seller reads them, whatever order they synced in.
    let reading = [Origin::Sent, Origin::Inbox, Origin::Drafts].map(Origin::name);
    report
        .new_messages
        .sort_by_key(|(role, _)| reading.iter().position(|r| r == role));
    let synced = started.elapsed();
    drafting::fault_point("after-sync");
    read_texts(&mut pass).await?;
    let read = started.elapsed();
    report.changes = apply_messages(&pass).await?;
    report
        .changes
        .extend(drafting::heed_team_suppressions(&pass).await?);
    let applied = started.elapsed();
    // The conversations exist now: reconcile, cadence and the next passes plan on them.
    let stored: usize = report.new_messages.iter().map(|(_, n)| n).sum();
    if stored >= FRESH_STATISTICS && !dry_run {
        // Statistics are an optimisation: a store that refuses them still works.
        if let Err(e) = store.refresh_statistics().await {
            warn!("refreshing the store's statistics: {e}");
        }
    }
    let settled = drafting::reconcile(&mut pass).await?;
    report.changes.extend(settled.changes);
    if settled.sent_meanwhile && !dry_run {
        // A draft was sent while this pass ran: its copy reached Sent after Sent was read.
        // Read Sent again so the touch counts now, then settle the drafts again.
        let sent = pass.folders.sent.clone();
        sync_folder(&mut pass, &sent, Origin::Sent).await?;
        read_texts(&mut pass).await?;
        report.changes.extend(apply_messages(&pass).await?);
        report
            .changes
            .extend(drafting::reconcile(&mut pass).await?.changes);
    }
    let reconciled = started.elapsed();
    let cadence = drafting::act(&mut pass).await?;
    let acted = started.elapsed();
    report.changes.extend(cadence.changes);
    report.drafts = cadence.drafts;
    report.next_wake = cadence.next_wake;
    let inbox = pass.folders.inbox.raw_name.clone();
    let (summary, summary_due) =
        summary::maybe_send(pass.connection, store, config, &inbox, now, dry_run).await?;
    report.changes.extend(summary);
    // The lead's summary is the team's, never a reason to fail this seller's pass.
    match crate::team_summary::maybe_send(store, config, now, dry_run).await {
        Ok(line) => report.changes.extend(line),
        Err(e) => warn!("the team's summary: {e}"),
    }
    if let Some(due) = summary_due {
        report.next_wake = Some(report.next_wake.map_or(due, |w| w.min(due)));
    }
    store
        .meta_set_once("first_started_at", &now.to_rfc3339())
        .await?;
    let summed = started.elapsed();
    // Most of the store is new (a first sync, a long catch-up): it is written once more,
    // without the room its new rows left free in their pages. Only an optimisation.
    if stored >= FRESH_STATISTICS && !dry_run && stored * 2 >= store.message_count().await? as usize
    {
        if let Err(e) = store.compact().await {
            warn!("compacting the store: {e}");
        }
    }
    debug!(
        target: "nudge::timing",
        sync_ms = synced.as_millis() as u64,
        texts_ms = (read - synced).as_millis() as u64,
        apply_ms = (applied - read).as_millis() as u64,
        reconcile_ms = (reconciled - applied).as_millis() as u64,
        cadence_ms = (acted - reconciled).as_millis() as u64,
        summary_ms = (summed - acted).as_millis() as u64,
        compact_ms = (started.elapsed() - summed).as_millis() as u64,
        "pass timing"
    );
    report.header_fetches = pass.connection.header_fetches();
    report.body_fetches = pass.connection.body_fetches();
    Ok(report)
}

/// Stores the headers of the folder's new messages; returns how many were new.
async fn sync_folder(pass: &mut Pass<'_>, folder: &Chosen, origin: Origin) -> Result<usize> {
    let (store, config, now, progress) = (pass.store, pass.config, pass.now, pass.progress);
    let connection = &mut *pass.connection;
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
    progress.folder(&folder.name, uids.len());
    // A FETCH that times out (huge headers, a slow link) is asked again in smaller batches,
    // down to one message; a message that times out alone twice, while the link answers
    // for its flags each time, is quarantined, so sync always makes progress (SPEC 13).
    //
    // Each batch is stored while the next is fetched and read: the store works on another
    // thread while this one reads the server's answer. The batches are stored one after
    // another, in order, each in its transaction with the folder's state.
    let mut size = BATCH;
    let mut lone_timeouts = 0;
    let mut at = 0;
    let mut keeping: Option<InFlight<usize>> = None;
    while at < uids.len() {
        let batch = &uids[at..(at + size).min(uids.len())];
        let fetched = fetch_headers(connection, batch)
            .await
            .map(|fetched| read_batch(fetched, folder, origin, status.uidvalidity, config, now));
        if let Some(kept) = keeping.take() {
            stored += kept.finish(KEEPING).await?;
            progress.fetched(stored);
        }
        let (messages, failed) = match fetched {
            Ok(read) => read,
            Err(e @ Error::Timeout { .. }) => {
                warn!(folder = %folder.name, messages = batch.len(), error = %e,
                    "header fetch timed out: reconnecting, asking for fewer messages");
                *connection = Connection::open(&config.imap.server).await?;
                let again = connection.examine(&folder.raw_name).await?;
                if again.uidvalidity != status.uidvalidity {
                    return Err(Error::Data(format!(
                        "UIDVALIDITY of {} changed during sync",
                        folder.name
                    )));
                }
                if size > 1 {
                    size = (size / 10).max(1);
                    continue;
                }
                // Before the message is blamed, the link is asked for something small about
                // it: a link that cannot answer that either is slow or gone, not the message
                // at fault, and the pass fails (the next one asks again) rather than
                // quarantine a conversation for the network's sake.
                connection.fetch_flags(&batch[0].to_string()).await?;
                lone_timeouts += 1;
                if lone_timeouts < 2 {
                    continue;
                }
                lone_timeouts = 0;
                let placeholder = crate::imap::sync::Fetched {
                    uid: batch[0],
                    ..Default::default()
                };
                let (messages, _) = read_batch(
                    vec![placeholder],
                    folder,
                    origin,
                    status.uidvalidity,
                    config,
                    now,
                );
                (
                    messages,
                    vec![(0, format!("fetching its headers timed out twice: {e}"))],
                )
            }
            Err(e) => return Err(e),
        };
        at += batch.len();
        last_uid = last_uid.max(batch.iter().copied().max().unwrap_or(0));
        let batch = Batch {
            messages,
            failed,
            state: FolderState {
                name: folder.name.clone(),
                uidvalidity: status.uidvalidity,
                last_uid,
                highest_modseq: status.highest_modseq,
            },
        };
        let store = store.clone();
        keeping = Some(InFlight::start(async move {
            keep_batch(&store, batch, origin, now).await
        }));
    }
    if let Some(kept) = keeping.take() {
        stored += kept.finish(KEEPING).await?;
        progress.fetched(stored);
    }
    progress.done();
    if uids.is_empty() {
        // Record the folder even when empty, so the next pass is incremental.
        let state = FolderState {
            name: folder.name.clone(),
            uidvalidity: status.uidvalidity,
            last_uid: last_uid.max(status.uid_next.unwrap_or(1).saturating_sub(1)),
            highest_modseq: status.highest_modseq,
        };
        store
            .store_messages(&[], &state, origin.name(), now)
            .await?;
    }
    info!(folder = %folder.name, new = stored, "synced");
    Ok(stored)
}

const KEEPING: &str = "storing a batch of messages";

/// A batch of a folder's messages, read and waiting to be stored with the folder's state.
struct Batch {
    messages: Vec<NewMessage>,
    /// Messages that could not be read (a panic, a fetch that always times out), by their
    /// place in `messages`, and why: stored as placeholders or as read so far, then
    /// quarantined.
    failed: Vec<(usize, String)>,
    state: FolderState,
}

/// Reads the fetched headers of a batch: each parsed and classified by its headers alone,
/// apart from the others, so that one that cannot be read is set aside and not the batch.
fn read_batch(
    fetched: Vec<crate::imap::sync::Fetched>,
    folder: &Chosen,
    origin: Origin,
    uidvalidity: u32,
    config: &Config,
    now: DateTime<Utc>,
) -> (Vec<NewMessage>, Vec<(usize, String)>) {
    let mut failed = Vec::new();
    let mut messages = Vec::with_capacity(fetched.len());
    for item in fetched {
        let read = std::panic::catch_unwind(|| {
            let parsed = parse(&item.data);
            let readable = parsed.is_some();
            let mail = parsed.unwrap_or_default();
            let from_seller = mail
                .from
                .as_ref()
                .is_some_and(|f| config.account.is_seller(&f.address));
            let automated = is_automated(&mail, from_seller);
            // What the headers say, kept if the text is never read (an out-of-office
            // deleted quickly is still an out-of-office). The seller's own sent mail has
            // no class, and headers that do not parse give none: nothing is a reply by
            // default.
            let class =
                (readable && origin != Origin::Drafts && !(origin == Origin::Sent && from_seller))
                    .then(|| classify(&mail, now.date_naive()).class);
            (mail, from_seller, automated, class)
        });
        let (mail, from_seller, automated, class) = match read {
            Ok(read) => read,
            Err(panic) => {
                let reason = format!(
                    "reading its headers panicked: {}",
                    panic_text(panic.as_ref())
                );
                failed.push((messages.len(), reason));
                (Mail::default(), false, false, None)
            }
        };
        messages.push(NewMessage {
            folder: folder.name.clone(),
            origin,
            class,
            uidvalidity,
            uid: item.uid,
            mail,
            gm_thrid: item.gm_thrid,
            internal_date: item.internal_date,
            flags: item.flags,
            from_seller,
            automated,
        });
    }
    (messages, failed)
}

/// Work on the runtime's other thread while this one goes on (a batch stored, texts read
/// while the next are fetched). Dropped unfinished (the pass cancelled), its task is aborted
/// and its transaction rolls back, as the pass's own would.
struct InFlight<T>(Option<tokio::task::JoinHandle<Result<T>>>);

impl<T: Send + Default + 'static> InFlight<T> {
    fn start(work: impl std::future::Future<Output = Result<T>> + Send + 'static) -> Self {
        InFlight(Some(tokio::spawn(work.in_current_span())))
    }

    /// Waits for the work to end. A panic in it goes on as it would have in the pass itself.
    async fn finish(mut self, what: &str) -> Result<T> {
        let Some(task) = self.0.take() else {
            return Ok(T::default());
        };
        match task.await {
            Ok(done) => done,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(Error::Data(format!("{what}: {e}"))),
        }
    }
}

impl<T> Drop for InFlight<T> {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

/// Stores a batch read by [`read_batch`] with its folder's state, and quarantines the
/// messages that could not be read; returns how many messages it held.
async fn keep_batch(
    store: &Store,
    batch: Batch,
    origin: Origin,
    now: DateTime<Utc>,
) -> Result<usize> {
    let ids = store
        .store_messages(&batch.messages, &batch.state, origin.name(), now)
        .await?;
    for (at, reason) in batch.failed {
        let message = &batch.messages[at];
        warn!(
            folder = %message.folder,
            uid = message.uid,
            reason = %reason,
            "message quarantined: it cannot be processed and is skipped from now on"
        );
        store.quarantine(ids[at], &reason, now).await?;
    }
    Ok(batch.messages.len())
}

/// Fetches the headers of `batch`. A test-only fault, `NUDGE_FAULT_POINT=header-timeout-on-uid:
/// <UID>`, makes every FETCH that asks for that UID time out, as a huge header on a slow link.
async fn fetch_headers(
    connection: &mut Connection,
    batch: &[u32],
) -> Result<Vec<crate::imap::sync::Fetched>> {
    if let Ok(point) = std::env::var("NUDGE_FAULT_POINT") {
        let slow = point
            .strip_prefix("header-timeout-on-uid:")
            .and_then(|uid| uid.parse::<u32>().ok());
        if slow.is_some_and(|uid| batch.contains(&uid)) {
            return Err(Error::Timeout {
                what: "UID FETCH (fault point header-timeout-on-uid)".into(),
                seconds: 0,
            });
        }
    }
    connection.fetch_headers(&uid_set(batch)).await
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
/// concern the seller. The seller's own are read when a draft quotes them.
async fn read_texts(pass: &mut Pass<'_>) -> Result<()> {
    let (store, config) = (pass.store, pass.config);
    // Only what the reading needs is kept of each wanted message: a first sync of a large
    // mailbox is read a page at a time, and only the messages that may be wanted are read.
    let (mut page, mut next) = store.text_candidates_page(None, PAGE).await?;
    let mut wanted: HashMap<String, Vec<Wanted>> = HashMap::new();
    while !page.is_empty() {
        let reach = store
            .seller_reach_of(page.iter().map(|m| (m.thread_id, m.from_addr.as_str())))
            .await?;
        for message in page {
            // The seller's own text is read when a draft quotes them (`with_text`): most
            // never are; drafts and automated mail are never read.
            let needed = message.origin != Origin::Drafts
                && (may_be_bounce(&message.from_addr, &message.subject)
                    || reach.may_concern(
                        message.thread_id,
                        &message.from_addr,
                        config.tracking.stop_on_same_domain,
                    ));
            if needed {
                wanted.entry(message.folder).or_default().push(Wanted {
                    id: message.id,
                    uid: message.uid,
                    from_seller: false,
                    message_id: message.message_id,
                });
            }
        }
        match next {
            Some(after) => (page, next) = store.text_candidates_page(Some(&after), PAGE).await?,
            None => break,
        }
    }
    read_wanted(pass, wanted).await
}

/// Fetches and reads the texts of `wanted`, by folder, [`TEXT_BATCH`] to a FETCH.
async fn read_wanted(pass: &mut Pass<'_>, wanted: HashMap<String, Vec<Wanted>>) -> Result<()> {
    let (store, now) = (pass.store, pass.now);
    // Each batch of texts is read and stored on the runtime's other thread while the next is
    // fetched; one batch at a time, in order.
    let mut reading: Option<InFlight<()>> = None;
    for (folder, messages) in wanted {
        let Some(chosen) = pass.folders.all().find(|c| c.name == folder) else {
            continue;
        };
        let connection = &mut *pass.connection;
        let status = match connection.examined(&chosen.raw_name) {
            Some(status) => status,
            None => connection.examine(&chosen.raw_name).await?,
        };
        let mut by_uid: HashMap<u32, Wanted> = messages.into_iter().map(|m| (m.uid, m)).collect();
        let mut uids: Vec<u32> = by_uid.keys().copied().collect();
        uids.sort_unstable();
        let current = store.folder_state(&folder).await?;
        let same_validity = current.is_some_and(|s| s.uidvalidity == status.uidvalidity);
        if same_validity {
            for batch in uids.chunks(TEXT_BATCH) {
                let fetched = connection.fetch_messages(&uid_set(batch)).await;
                // What was fetched before is kept even when this fetch failed.
                if let Some(read) = reading.take() {
                    read.finish(READING).await?;
                }
                let fetched: Vec<(Wanted, Vec<u8>)> = fetched?
                    .into_iter()
                    .filter_map(|item| by_uid.remove(&item.uid).map(|m| (m, item.data)))
                    .collect();
                let (store, folder) = (store.clone(), folder.clone());
                reading = Some(InFlight::start(async move {
                    keep_texts(&store, &folder, fetched, now).await
                }));
            }
        }
        // Gone from the server (or the folder was rebuilt): what the headers said stands.
    }
    if let Some(read) = reading.take() {
        read.finish(READING).await?;
    }
    Ok(())
}

const READING: &str = "reading a batch of texts";

/// Reads the fetched texts of a batch and stores what they say. A text that does not parse
/// leaves what the headers said; one whose reading panics is quarantined, and the others are
/// read on (SPEC 13).
async fn keep_texts(
    store: &Store,
    folder: &str,
    fetched: Vec<(Wanted, Vec<u8>)>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut texts = Vec::with_capacity(fetched.len());
    for (message, data) in fetched {
        let read = std::panic::catch_unwind(|| read_text(message.from_seller, &data, now));
        match read {
            Ok(Some(facts)) => texts.push(crate::store::MessageText {
                id: message.id,
                class: facts.class,
                snippet: facts.snippet,
                heard: facts.heard,
            }),
            Ok(None) => {}
            Err(panic) => {
                let reason = format!("reading its text panicked: {}", panic_text(panic.as_ref()));
                warn!(
                    folder = %folder,
                    uid = message.uid,
                    message_id = message.message_id.as_deref().unwrap_or(""),
                    reason,
                    "message quarantined: it cannot be processed and is skipped from now on"
                );
                store.quarantine(message.id, &reason, now).await?;
            }
        }
    }
    store.set_message_texts(&texts).await
}

/// Reads the texts of the seller's messages `ids` that were not read yet, all at once: the
/// last touches the drafts of a pass quote.
pub(crate) async fn read_seller_texts(pass: &mut Pass<'_>, ids: &[i64]) -> Result<()> {
    let mut wanted: HashMap<String, Vec<Wanted>> = HashMap::new();
    for &id in ids {
        if let Some(message) = pass.store.message(id).await?.filter(|m| !m.has_body) {
            wanted
                .entry(message.folder.clone())
                .or_default()
                .push(Wanted {
                    id,
                    uid: message.uid,
                    from_seller: message.from_seller,
                    message_id: message.message_id,
                });
        }
    }
    read_wanted(pass, wanted).await
}

/// An unprocessed message whose text a pass reads.
struct Wanted {
    id: i64,
    uid: u32,
    from_seller: bool,
    message_id: Option<String>,
}

/// How many unprocessed messages a pass holds at a time.
const PAGE: usize = 1000;

/// `message` with its text read, when it was not yet: the seller's sent messages are read
/// only when a draft quotes them. A message gone from the server keeps an empty text.
pub(crate) async fn with_text(
    pass: &mut Pass<'_>,
    message: StoredMessage,
) -> Result<StoredMessage> {
    if message.has_body {
        return Ok(message);
    }
    read_seller_texts(pass, &[message.id]).await?;
    Ok(pass.store.message(message.id).await?.unwrap_or(message))
}

/// What a message's text says: its class (inbound mail), a snippet of its new text, and what
/// it says beyond its class. `None` when the text does not parse.
fn read_text(from_seller: bool, raw: &[u8], now: DateTime<Utc>) -> Option<TextFacts> {
    let mail = parse(raw)?;
    Some(text_facts(&mail, from_seller, now))
}

/// What a parsed message's text says (see [`read_text`]).
pub(crate) fn text_facts(mail: &Mail, from_seller: bool, now: DateTime<Utc>) -> TextFacts {
    let text = new_text(&mail.body);
    let snippet: String = text.chars().take(SNIPPET_CHARS).collect();
    let class = (!from_seller).then(|| classify(mail, now.date_naive()));
    let heard = class
        .as_ref()
        .map(|c| crate::model::Heard {
            deferral: c.deferral.clone(),
            departure: c.departure.clone(),
            asks: c.asks,
        })
        .unwrap_or_default();
    TextFacts {
        class,
        snippet,
        heard,
    }
}

/// What [`text_facts`] reads from a message's text.
pub(crate) struct TextFacts {
    pub class: Option<Classification>,
    pub snippet: String,
    pub heard: crate::model::Heard,
}

/// How often one message is decided again when commands keep changing its conversations.
const STALE_RETRIES: u32 = 5;

/// The conversations a pass may change, indexed for linking: every one, or, for a pass of a
/// few messages (`small`), only those the messages can concern.
async fn load_index(store: &Store, small: Option<&[StoredMessage]>) -> Result<Index> {
    let conversations = match small {
        None => store.conversations().await?,
        Some(messages) => {
            let threads: Vec<i64> = messages.iter().map(|m| m.thread_id).collect();
            let returned: Vec<String> = messages
                .iter()
                .filter_map(|m| m.bounced_message_id.clone())
                .collect();
            let mut addresses: Vec<String> = messages
                .iter()
                .map(|m| m.from_addr.to_ascii_lowercase())
                .filter(|a| a.contains('@'))
                .collect();
            addresses.sort();
            addresses.dedup();
            let mut organisations: Vec<String> = addresses
                .iter()
                .map(|a| organisation_domain(&domain(a)))
                .filter(|o| !o.is_empty())
                .collect();
            organisations.sort();
            organisations.dedup();
            store
                .conversations_concerning(&threads, &returned, &addresses, &organisations)
                .await?
        }
    };
    let mut index = Index::default();
    for conversation in conversations {
        index.insert(conversation);
    }
    Ok(index)
}

/// A pass of at most this many new messages loads only the conversations they can concern.
const SMALL_PASS: usize = 100;

/// What the rules ask of the store about many messages, read once per pass and kept current
/// as the pass applies messages: a query per message would cost more than the decision.
struct Known {
    /// Threads holding list or automated inbound mail (among those with unprocessed mail).
    automated_threads: HashSet<i64>,
    /// Conversations whose latest draft is dismissed.
    dismissed: HashMap<i64, DismissedDraft>,
    /// The suppression list, lower case.
    suppressed: HashSet<String>,
    /// The last touch (its message id, and what the rules read of it) of each conversation
    /// whose last touch this pass applied.
    last_touches: HashMap<i64, (i64, LastTouch)>,
}

impl Known {
    async fn read(store: &Store) -> Result<Known> {
        Ok(Known {
            automated_threads: store.threads_with_automated_mail().await?,
            dismissed: store
                .dismissed_drafts()
                .await?
                .into_iter()
                .map(|(id, draft)| {
                    let dismissed = DismissedDraft {
                        step: draft.step,
                        made_at: draft.created_at,
                    };
                    (id, dismissed)
                })
                .collect(),
            suppressed: store.suppressed_entries().await?,
            last_touches: HashMap::new(),
        })
    }

    /// Keeps `message` at hand when it is now `conversation`'s last touch. The recent ones
    /// are kept: a reply mostly follows its touch closely, and memory stays bounded.
    fn touched(&mut self, conversation: &crate::model::Conversation, message: &StoredMessage) {
        if conversation.last_touch_message == Some(message.id) {
            if self.last_touches.len() >= LAST_TOUCHES_KEPT {
                self.last_touches.clear();
            }
            self.last_touches
                .insert(conversation.id, (message.id, LastTouch::of(message)));
        }
    }
}

/// How many last touches [`Known`] keeps at most.
const LAST_TOUCHES_KEPT: usize = 50_000;

/// Messages without effect are marked processed in groups of this size.
const MARK_BATCH: usize = 1000;

/// Applies every unprocessed message to the conversations, in the order the server received
/// them. Returns one line per change.
///
/// Messages are applied a chunk to a transaction, and each conversation a chunk changes is
/// written once, at the commit, in its last state: a first sync of ten years of mail writes
/// each conversation a few times, not once per message. A chunk that finds at its commit that
/// a command changed one of its conversations meanwhile (`nudge stop`, `snooze`) is rolled
/// back whole and decided again on the current rows.
pub(crate) async fn apply_messages(pass: &Pass<'_>) -> Result<Vec<String>> {
    let store = pass.store;
    // A pass with nothing new loads neither the conversations nor the facts.
    let (mut messages, mut next_page) = store.unprocessed_page(None, PAGE).await?;
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let rules = pass.rules();
    let mut known = Known::read(store).await?;
    // A pass of a few messages (a reply in the daemon) reads only what they can concern.
    let small = (next_page.is_none() && messages.len() <= SMALL_PASS).then(|| messages.clone());
    let mut index = load_index(store, small.as_deref()).await?;
    let mut changes = Shown::default();
    let mut replays = 0;
    loop {
        apply_page(
            pass,
            &rules,
            &messages,
            (&mut index, &mut known),
            &mut changes,
            &mut replays,
            small.as_deref(),
        )
        .await?;
        match next_page {
            Some(after) => {
                (messages, next_page) = store.unprocessed_page(Some(&after), PAGE).await?;
            }
            None => break,
        }
    }
    Ok(changes.lines())
}

/// How many lines of what changed a pass reports; the log has every one. A first sync of
/// years of mail changes tens of thousands of conversations: their lines are not held.
pub const CHANGES_SHOWN: usize = 1000;

/// The lines of what changed that a pass reports: the first [`CHANGES_SHOWN`], and how many
/// more there were.
#[derive(Default)]
struct Shown {
    lines: Vec<String>,
    more: usize,
    /// Changes told by mail from before nudge first started, logged at debug.
    past: usize,
}

impl Shown {
    /// Logs `line` and keeps it while there is room. A change told by mail from before nudge
    /// first started (`past`: a first sync of ten years of mail tells tens of thousands) is
    /// the conversation's history, logged at debug; the pass says at info how many there were.
    fn push(&mut self, line: String, past: bool) {
        if past {
            debug!("{line}");
            self.past += 1;
        } else {
            info!("{line}");
        }
        if self.lines.len() < CHANGES_SHOWN {
            self.lines.push(line);
        } else {
            self.more += 1;
        }
    }

    fn lines(mut self) -> Vec<String> {
        if self.past > 0 {
            info!(
                changes = self.past,
                "mail from before nudge first started changed conversations (each change is logged at debug)"
            );
        }
        if self.more > 0 {
            let log = if self.past > 0 {
                "the log has each one, at debug those told by mail from before nudge first started"
            } else {
                "the log has each one"
            };
            self.lines
                .push(format!("… and {} more changes ({log})", self.more));
        }
        self.lines
    }
}

/// Applies one page of messages, in chunks (see [`apply_messages`]).
async fn apply_page(
    pass: &Pass<'_>,
    rules: &Rules<'_>,
    messages: &[StoredMessage],
    (index, known): (&mut Index, &mut Known),
    changes: &mut Shown,
    replays: &mut u32,
    small: Option<&[StoredMessage]>,
) -> Result<()> {
    let store = pass.store;
    let mut chunk = Chunk::default();
    let mut next = 0;
    loop {
        if chunk.full() || next == messages.len() {
            match chunk.commit(store, pass.now).await {
                Ok(()) => {
                    for (line, past) in std::mem::take(&mut chunk.changes) {
                        changes.push(line, past);
                    }
                }
                Err(Error::Stale { id }) if *replays < STALE_RETRIES => {
                    debug!(conversation = id, "changed meanwhile: deciding again");
                    *replays += 1;
                    next = chunk.first;
                    *index = load_index(store, small).await?;
                    *known = Known::read(store).await?;
                }
                Err(e) => return Err(e),
            }
            if next == messages.len() {
                break;
            }
            chunk = Chunk {
                first: next,
                ..Chunk::default()
            };
        }
        let message = &messages[next];
        next += 1;
        // One message never stops the rest (SPEC 13): a panic or a data error while
        // deciding quarantines it, and the pass goes on.
        let decided =
            std::panic::AssertUnwindSafe(effects_of(store, rules, index, known, message, pass.now))
                .catch_unwind()
                .await;
        let effects = match decided {
            Ok(Ok(effects)) => effects,
            Ok(Err(Error::Data(reason))) => {
                chunk.quarantine(message, reason);
                continue;
            }
            Ok(Err(e)) => return Err(e),
            Err(panic) => {
                chunk.quarantine(message, format!("panicked: {}", panic_text(panic.as_ref())));
                continue;
            }
        };
        if effects.is_empty() {
            chunk.processed.push(message.id);
            continue;
        }
        // Mail from before nudge first started is the conversation's past: what did not
        // change its state (a prospect writing again) needs no history row.
        let historic = message.arrived < pass.first_started_at;
        for effect in &effects {
            if let Effect::Update(conversation, _) = effect {
                let moved = index
                    .get(conversation.id)
                    .is_none_or(|read| read.prospects != conversation.prospects);
                chunk.pending.note_prospects(conversation.id, moved);
            }
        }
        let created = chunk
            .apply(store, message.id, &effects, pass.now, historic)
            .await?;
        let mut created = created.into_iter();
        for effect in effects {
            match effect {
                Effect::Track(mut conversation, event) => {
                    conversation.id = created.next().unwrap_or_default();
                    chunk.changes.push((
                        format!(
                            "#{} {}: {}",
                            conversation.id, conversation.subject, event.detail
                        ),
                        historic,
                    ));
                    known.touched(&conversation, message);
                    index.insert(conversation);
                }
                Effect::Update(mut conversation, event) => {
                    conversation.version += 1;
                    chunk.changes.push((
                        format!(
                            "#{} {}: {}",
                            conversation.id, conversation.subject, event.detail
                        ),
                        historic,
                    ));
                    known.touched(&conversation, message);
                    index.insert(conversation);
                }
                Effect::Note(id, event) => {
                    let subject = index.get(id).map(|c| c.subject.as_str()).unwrap_or("");
                    chunk
                        .changes
                        .push((format!("#{id} {subject}: {}", event.detail), historic));
                }
                Effect::Suppress { address, .. } => {
                    known.suppressed.insert(address.to_ascii_lowercase());
                }
                Effect::DraftSent {
                    conversation_id,
                    step,
                } => {
                    if known
                        .dismissed
                        .get(&conversation_id)
                        .is_some_and(|d| d.step == step)
                    {
                        known.dismissed.remove(&conversation_id);
                    }
                }
            }
        }
    }
    Ok(())
}

/// How many messages with an effect one transaction of [`apply_messages`] takes.
const CHUNK: usize = 500;

/// The open transaction of [`apply_messages`]: what the messages applied since its start
/// write, held until its commit.
#[derive(Default)]
struct Chunk {
    /// The first message of the chunk: where a chunk rolled back starts again.
    first: usize,
    /// The lines of what the chunk changed, reported once it commits, each with whether
    /// mail from before nudge first started told it.
    changes: Vec<(String, bool)>,
    tx: Option<crate::store::WriteTx>,
    /// The conversations the chunk created and changed.
    pending: crate::store::Pending,
    applied: usize,
    /// A sent draft was recorded: the drafts' rows are read through other connections, so
    /// the chunk commits at once for the messages after it.
    drafts_changed: bool,
    /// The history rows of the messages applied.
    events: Vec<(i64, crate::model::Event)>,
    /// Messages applied or without effect, marked processed at the commit.
    processed: Vec<i64>,
    /// Messages set aside, and why.
    quarantined: Vec<(i64, String)>,
}

impl Chunk {
    /// Time to commit.
    fn full(&self) -> bool {
        self.applied >= CHUNK
            || self.drafts_changed
            || self.processed.len() + self.quarantined.len() >= MARK_BATCH
    }

    /// The chunk's transaction, begun when first needed.
    async fn tx(&mut self, store: &Store) -> Result<&mut crate::store::WriteTx> {
        match self.tx {
            Some(ref mut tx) => Ok(tx),
            None => Ok(self
                .tx
                .insert(store.write().await.map_err(|e| store.error(e))?)),
        }
    }

    /// Applies one message's effects within the chunk; returns the ids of the conversations
    /// it created. A `historic` message (from before nudge first started) writes no history
    /// row for what changed no state.
    async fn apply(
        &mut self,
        store: &Store,
        message: i64,
        effects: &[Effect],
        now: DateTime<Utc>,
        historic: bool,
    ) -> Result<Vec<i64>> {
        self.tx(store).await?;
        let tx = self.tx.as_mut().expect("begun above");
        let (created, events) = store
            .defer_effects(tx, &mut self.pending, effects, now)
            .await?;
        self.events.extend(
            events
                .into_iter()
                .filter(|(_, e)| !(historic && e.kind == crate::rules::EventKind::WroteAgain)),
        );
        self.processed.push(message);
        self.applied += 1;
        self.drafts_changed |= effects
            .iter()
            .any(|e| matches!(e, Effect::DraftSent { .. }));
        Ok(created)
    }

    /// Sets a message aside: logged now, recorded at the commit.
    fn quarantine(&mut self, message: &StoredMessage, reason: String) {
        warn!(
            folder = %message.folder,
            uid = message.uid,
            message_id = message.message_id.as_deref().unwrap_or(""),
            reason,
            "message quarantined: it cannot be processed and is skipped from now on"
        );
        self.quarantined.push((message.id, reason));
    }

    /// Writes the conversations, history rows, processed marks and quarantines, and
    /// commits. `Error::Stale` when a conversation changed since it was read: nothing is
    /// written.
    async fn commit(&mut self, store: &Store, now: DateTime<Utc>) -> Result<()> {
        if self.tx.is_none() && self.processed.is_empty() && self.quarantined.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let events = std::mem::take(&mut self.events);
        let processed = std::mem::take(&mut self.processed);
        let quarantined = std::mem::take(&mut self.quarantined);
        self.tx(store).await?;
        let mut tx = self.tx.take().expect("begun above");
        store.write_pending(&mut tx, pending, now).await?;
        store.insert_events(&mut tx, &events).await?;
        store.mark_processed_in(&mut tx, &processed).await?;
        for (id, reason) in quarantined {
            store.quarantine_in(&mut tx, id, &reason, now).await?;
        }
        tx.commit().await.map_err(|e| store.error(e))
    }
}

/// What one message does to the conversations: the store gathers the facts the rules ask
/// for (the thread's other messages, a returned message's thread, last touches), then the
/// rules decide.
/// The text a panic carried, for the quarantine reason.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    text.chars().take(200).collect()
}

/// A test-only fault: `NUDGE_FAULT_POINT=panic-on-message:<Message-ID>` makes processing of
/// that message panic, as a bug in parsing or the rules would.
fn panic_point(message_id: Option<&str>) {
    let Ok(point) = std::env::var("NUDGE_FAULT_POINT") else {
        return;
    };
    if let (Some(wanted), Some(id)) = (point.strip_prefix("panic-on-message:"), message_id) {
        if wanted == id {
            panic!("fault point panic-on-message:{id} (NUDGE_FAULT_POINT)");
        }
    }
}

async fn effects_of(
    store: &Store,
    rules: &Rules<'_>,
    index: &Index,
    known: &Known,
    message: &StoredMessage,
    now: DateTime<Utc>,
) -> Result<Vec<Effect>> {
    panic_point(message.message_id.as_deref());
    let needed = rules.facts_needed(index, message);
    let mut facts = Facts {
        thread_automated: needed.thread_automated
            && known.automated_threads.contains(&message.thread_id),
        returned_thread: match &needed.returned_message_id {
            Some(returned) => store.thread_of(returned).await?,
            None => None,
        },
        echoes_seller_message: match &needed.seller_message_id {
            Some(id) => store.seller_sent(id).await?,
            None => false,
        },
        ..Facts::default()
    };
    if let Some(id) = needed.dismissed_draft_of {
        if let Some(draft) = known.dismissed.get(&id) {
            facts.dismissed_drafts.insert(id, *draft);
        }
    }
    for id in rules.touches_needed(index, message, &facts) {
        let Some(touch) = index.get(id).and_then(|c| c.last_touch_message) else {
            continue;
        };
        let found = match known.last_touches.get(&id).filter(|(m, _)| *m == touch) {
            Some((_, cached)) => Some(cached.clone()),
            None => store.message(touch).await?.map(|m| LastTouch::of(&m)),
        };
        if let Some(found) = found {
            facts.last_touches.insert(id, found);
        }
    }
    match rules.decide(index, message, &facts, &known.suppressed, now) {
        Decision::Effects(effects) => Ok(effects),
        Decision::Nothing(reason) => {
            debug!(subject = %crate::display::neutralise(&message.subject), reason, "no effect");
            Ok(Vec::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_reports_the_first_changes_and_counts_the_rest() {
        let mut shown = Shown::default();
        for n in 0..CHANGES_SHOWN + 7 {
            shown.push(format!("change {n}"), false);
        }
        let lines = shown.lines();
        assert_eq!(lines.len(), CHANGES_SHOWN + 1);
        assert_eq!(lines[0], "change 0");
        assert_eq!(
            lines[CHANGES_SHOWN - 1],
            format!("change {}", CHANGES_SHOWN - 1)
        );
        assert_eq!(
            lines[CHANGES_SHOWN],
            "… and 7 more changes (the log has each one)"
        );

        let mut few = Shown::default();
        few.push("one".into(), false);
        assert_eq!(few.lines(), vec!["one".to_string()]);

        // Changes told by old mail are counted apart, and the last line says where they are.
        let mut old = Shown::default();
        for n in 0..CHANGES_SHOWN + 2 {
            old.push(format!("change {n}"), true);
        }
        assert_eq!(old.past, CHANGES_SHOWN + 2);
        let lines = old.lines();
        assert_eq!(
            lines[CHANGES_SHOWN],
            "… and 2 more changes (the log has each one, at debug those told by mail from \
             before nudge first started)"
        );
    }
}
