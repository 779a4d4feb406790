//! `nudge run`: the long-running service.
//!
//! One loop runs the same pass as `nudge sync` whenever something may have changed: INBOX
//! changed (IDLE on a connection of its own, so a reply withdraws a waiting draft within
//! seconds), a draft or let-go fell due, or a minute went by (Sent and Drafts are polled:
//! a pass without changes fetches nothing). Errors decide by their kind: network errors
//! reconnect with jittered exponential backoff; a refused login, a password or token helper
//! that fails, and a folder that vanished while running retry slowly, logged at error the
//! first time and at info while they go on; configuration errors (a rejected certificate
//! included) stop the daemon with the reason.
//! Shutdown gives a pass in flight a few seconds to finish; one that needs longer (a first
//! sync) is cancelled: its store transactions roll back and the next start finishes the work,
//! as after any crash.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, error, info, warn, Instrument};

use crate::compose::templates::Templates;
use crate::config::{config_dir, Config};
use crate::engine;
use crate::error::{Error, ErrorKind, Result};
use crate::imap::idle::{IdleInbox, Woken};
use crate::imap::Connection;
use crate::lock::{self, Lock};
use crate::progress::Quiet;
use crate::store::Store;
use crate::systemd::Notifier;

/// Sent and Drafts are looked at this often even when nothing else happens.
const POLL: Duration = Duration::from_secs(60);
/// IDLE is re-issued this often: NAT boxes drop silent connections after 5–15 minutes.
const IDLE_PERIOD: Duration = Duration::from_secs(5 * 60);
/// How long shutdown waits for the watchers.
const DRAIN: Duration = Duration::from_secs(5);
/// How long shutdown waits for a pass in flight to finish before cutting it short.
const PASS_GRACE: Duration = Duration::from_secs(4);

/// A pass running longer than this is hung: systemd's watchdog is no longer pinged.
const PASS_HANG_SECONDS: i64 = 10 * 60;

/// Tests shorten the daemon's waits by this factor (`NUDGE_TEST_TIME_DIVISOR`, 1 to 3600):
/// every backoff, the poll of Sent and Drafts, and the wait before a summary is tried again,
/// so that minutes of real waiting become seconds. 1 when unset.
pub fn test_divisor() -> u32 {
    static DIVISOR: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *DIVISOR.get_or_init(|| {
        std::env::var("NUDGE_TEST_TIME_DIVISOR")
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
            .map_or(1, |d| d.clamp(1, 3600))
    })
}

/// How often Sent and Drafts are looked at ([`POLL`], shortened for tests).
fn poll() -> Duration {
    POLL / test_divisor()
}

/// Exponential backoff with jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    fn new(first: Duration, max: Duration) -> Backoff {
        let divisor = test_divisor();
        Backoff {
            first: first / divisor,
            max: max / divisor,
            failures: 0,
        }
    }

    /// About 2 s doubling to 5 minutes: for network trouble.
    pub fn network() -> Backoff {
        Backoff::new(Duration::from_secs(2), Duration::from_secs(300))
    }

    /// 30 s doubling to 30 minutes: a wrong password will not fix itself quickly, and
    /// hammering a server with bad logins gets accounts locked. Also for a password helper
    /// that fails (a locked keyring) and a folder that vanished.
    pub fn authentication() -> Backoff {
        Backoff::new(Duration::from_secs(30), Duration::from_secs(1800))
    }

    /// The wait before the next attempt: the base doubled per failure, plus up to 25 % jitter.
    pub fn next_delay(&mut self) -> Duration {
        let base = self
            .first
            .saturating_mul(1u32 << self.failures.min(16))
            .min(self.max);
        self.failures += 1;
        let jitter = base.mul_f64(fastrand::f64() * 0.25);
        (base + jitter).min(self.max + self.max / 4)
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// How often the daemon looks for the seller's commands in the store.
const CONTROL_WATCH: Duration = Duration::from_millis(250);

/// How long a second daemon waits for the first before it gives up.
const DAEMON_LOCK_WAIT: Duration = Duration::from_secs(5);

/// Serves every account of `configs` in this one process until `shutdown` is cancelled:
/// each account has its own connections, store, locks, schedule and summary, as if it ran
/// alone, and its log lines carry its address. An account that fails to start or stops on an
/// error (its store unreachable, another daemon serving it) is tried again after a backoff,
/// alone; one whose configuration is wrong stops with the reason, and the others go on. One
/// account is [`run`] as it always was.
pub async fn run_all(configs: Vec<Config>, shutdown: CancellationToken) -> Result<()> {
    use tracing::Instrument;
    if configs.len() == 1 {
        let config = configs.into_iter().next().expect("one account");
        return run(config, shutdown).await;
    }
    info!("serving {} accounts", configs.len());
    let mut accounts = tokio::task::JoinSet::new();
    let emails: Vec<String> = configs.iter().map(|c| c.account.email.clone()).collect();
    let notifiers = Notifier::from_env().for_accounts(&emails);
    for (config, notifier) in configs.into_iter().zip(notifiers) {
        let span = tracing::info_span!("account", account = %config.account.email);
        accounts.spawn(serve_account(config, notifier, shutdown.child_token()).instrument(span));
    }
    let mut stopped = Vec::new();
    while let Some(done) = accounts.join_next().await {
        match done {
            Ok(Ok(())) => {}
            Ok(Err(error)) => stopped.push(error),
            Err(panic) => error!("an account's service ended abnormally: {panic}"),
        }
    }
    Notifier::from_env().send("STOPPING=1");
    // Every account stopped on its own: the first reason is the service's.
    match stopped.into_iter().next() {
        Some(error) if !shutdown.is_cancelled() => Err(error),
        _ => Ok(()),
    }
}

/// One account of [`run_all`]: [`run`] again after a backoff when it ends on an error that
/// time may mend; its configuration errors end it.
async fn serve_account(
    config: Config,
    notifier: Notifier,
    shutdown: CancellationToken,
) -> Result<()> {
    let mut backoff = Backoff::network();
    loop {
        let started = std::time::Instant::now();
        let error = match run_with(config.clone(), shutdown.child_token(), notifier.clone()).await {
            Ok(()) => return Ok(()),
            Err(_) if shutdown.is_cancelled() => return Ok(()),
            Err(error) if error.kind() == ErrorKind::Configuration => {
                error!("stopped, the other accounts go on: {error}");
                notifier.stopped();
                return Err(error);
            }
            Err(error) => error,
        };
        // It failed before or during its first pass: the service is as ready as it gets.
        notifier.send("READY=1");
        notifier.resting();
        if started.elapsed() > Duration::from_secs(600) {
            backoff.reset();
        }
        let delay = backoff.next_delay();
        error!(
            "stopped: {error}; starting again in {} s, the other accounts go on",
            delay.as_secs().max(1)
        );
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.cancelled() => return Ok(()),
        }
    }
}

/// Runs the daemon until `shutdown` is cancelled (SIGTERM, SIGINT) or a configuration error.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<()> {
    run_with(config, shutdown, Notifier::from_env()).await
}

/// [`run`], telling systemd through `notifier`.
async fn run_with(config: Config, shutdown: CancellationToken, notifier: Notifier) -> Result<()> {
    let store = Store::for_config(&config).await?;
    // One daemon per store: a second one says who runs already and stops.
    let daemon_lock = tokio::sync::Mutex::new(
        Lock::acquire_for(
            &config.store,
            &store,
            lock::Kind::Daemon,
            "nudge run",
            DAEMON_LOCK_WAIT,
        )
        .await?,
    );
    let templates = Templates::load(config.path.as_deref().map(config_dir).as_deref())?;
    let wake = Arc::new(Notify::new());
    // Whether the last pass reached the server: the watcher connects only then, so a wrong
    // password or a dead server is tried by one loop, at one pace.
    let (online_tx, online) = watch::channel(false);
    let tracker = TaskTracker::new();
    // Each task logs in the account's span, as the main loop does.
    tracker.spawn(
        watch_inbox(config.clone(), wake.clone(), online, shutdown.clone()).in_current_span(),
    );
    // The seller's commands (`stop`, `snooze`, `suppress`, …) write a mark into the store;
    // watching it wakes the main loop within a second instead of at the next poll.
    {
        let (store, wake, shutdown) = (store.clone(), wake.clone(), shutdown.clone());
        tracker.spawn(
            async move {
                let mut seen = store.control_mark().await.ok().flatten();
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(CONTROL_WATCH) => {}
                        _ = shutdown.cancelled() => break,
                    }
                    let now = store.control_mark().await.ok().flatten();
                    if now != seen {
                        debug!("a command changed the store");
                        seen = now;
                        wake.notify_one();
                    }
                }
            }
            .in_current_span(),
        );
    }
    // The watchdog is pinged unless a pass hangs: `pass_started` holds the start of the pass
    // in flight (0 between passes), and a pass is bounded by its network timeouts.
    let heartbeat = Arc::new(AtomicI64::new(0));
    if let Some(every) = notifier.watchdog_interval() {
        let (notifier, shutdown, heartbeat) =
            (notifier.clone(), shutdown.clone(), heartbeat.clone());
        tracker.spawn(
            async move {
                loop {
                    let started = heartbeat.load(Ordering::Relaxed);
                    if started == 0 || Utc::now().timestamp() - started < PASS_HANG_SECONDS {
                        notifier.send("WATCHDOG=1");
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(every) => {}
                        _ = shutdown.cancelled() => break,
                    }
                }
            }
            .in_current_span(),
        );
    }

    let result = main_loop(&Service {
        config: &config,
        store: &store,
        templates: &templates,
        notifier: &notifier,
        wake: &wake,
        online: &online_tx,
        heartbeat: &heartbeat,
        shutdown: &shutdown,
        daemon_lock: &daemon_lock,
    })
    .await;
    notifier.send("STOPPING=1");
    shutdown.cancel();
    tracker.close();
    if tokio::time::timeout(DRAIN, tracker.wait()).await.is_err() {
        warn!("the INBOX watcher did not stop in time");
    }
    store.close().await;
    info!("stopped");
    result
}

/// What the main loop works with.
struct Service<'a> {
    config: &'a Config,
    /// The record of truth, shared with the command line.
    store: &'a Store,
    templates: &'a Templates,
    /// Tells systemd READY, STATUS and STOPPING.
    notifier: &'a Notifier,
    /// Woken by the INBOX watcher when the server reports a change.
    wake: &'a Notify,
    /// Tells the INBOX watcher whether the server was reachable at the last pass.
    online: &'a watch::Sender<bool>,
    /// When the pass in flight started (0 between passes), for the watchdog.
    heartbeat: &'a AtomicI64,
    /// SIGTERM / SIGINT.
    shutdown: &'a CancellationToken,
    /// One daemon per account; on PostgreSQL it is made sure of before every pass.
    daemon_lock: &'a tokio::sync::Mutex<Lock>,
}

async fn main_loop(service: &Service<'_>) -> Result<()> {
    let Service {
        config,
        store,
        templates,
        notifier,
        wake,
        online,
        heartbeat,
        shutdown,
        daemon_lock,
    } = *service;
    let mut connection: Option<Connection> = None;
    let mut network = Backoff::network();
    // Login refused, a password helper failing, a folder gone: slow retries.
    let mut slow = Backoff::authentication();
    // The slow kinds of failure already logged at error since the last pass that worked: the
    // same again is logged at info, so that a night of retries is not a night of errors.
    let mut reported: Vec<ErrorKind> = Vec::new();
    let mut ready = false;
    // READY=1 went out: the first pass ended, done or failing and retried.
    let mut settled = false;
    loop {
        heartbeat.store(Utc::now().timestamp(), Ordering::Relaxed);
        let pass = async {
            if connection.is_none() {
                connection = Some(Connection::open(&config.imap.server).await?);
            }
            let open = connection.as_mut().expect("connected above");
            // Still the account's daemon: a restart of the store's server ends its lock there.
            daemon_lock.lock().await.keep(store).await?;
            // A `nudge sync` beside the service has its turn; the pass waits for it.
            let _turn = Lock::acquire_for(
                &config.store,
                store,
                lock::Kind::Pass,
                "nudge run",
                lock::PASS_WAIT,
            )
            .await?;
            // The service draws no progress bar: nobody watches it, and the journal keeps lines.
            engine::pass_on(open, config, store, templates, Utc::now(), false, &Quiet).await
        };
        let outcome = {
            let mut pass = std::pin::pin!(pass);
            tokio::select! {
                outcome = &mut pass => outcome,
                _ = shutdown.cancelled() => {
                    // A pass in flight is given a moment to finish, so that what it did (a
                    // draft appended) is recorded now rather than by the next start.
                    if tokio::time::timeout(PASS_GRACE, &mut pass).await.is_err() {
                        info!("the pass in flight was cut short; the next start finishes it");
                    }
                    break;
                }
            }
        };
        heartbeat.store(0, Ordering::Relaxed);
        let wait = match outcome {
            Ok(report) => {
                online.send_replace(true);
                if !reported.is_empty() {
                    info!(
                        "logged in and working again after {} failed attempts",
                        slow.failures
                    );
                    reported.clear();
                }
                network.reset();
                slow.reset();
                if !ready {
                    ready = true;
                    if !settled {
                        settled = true;
                        notifier.send("READY=1");
                    }
                    info!("ready: first pass done");
                }
                let (open, drafts) = summary_counts(store).await;
                notifier.send(&format!(
                    "STATUS=watching {open} conversations, {drafts} drafts waiting"
                ));
                let until_due = report
                    .next_wake
                    .map(|at| (at - Utc::now()).to_std().unwrap_or(Duration::ZERO));
                until_due.map_or(poll(), |d| d.min(poll()))
            }
            Err(e) => {
                connection = None;
                online.send_replace(false);
                // Once the folders were found, one that is gone may come back.
                let kind = if ready {
                    e.kind_while_running()
                } else {
                    e.kind()
                };
                if kind != ErrorKind::Configuration && !settled {
                    // Started and retrying: systemd is told so rather than left waiting for
                    // a first pass that may take hours of an outage.
                    settled = true;
                    notifier.send("READY=1");
                }
                match kind {
                    ErrorKind::Configuration => {
                        error!("{e}");
                        notifier.send(&format!("STATUS=stopped: {e}"));
                        return Err(e);
                    }
                    ErrorKind::Authentication | ErrorKind::Unavailable => {
                        let delay = slow.next_delay();
                        if reported.contains(&kind) {
                            info!("still failing: {e}; trying again in {} s", delay.as_secs());
                        } else {
                            reported.push(kind);
                            error!(
                                "{e}; trying again in {} s (until it works, the same failure \
                                 is logged at info)",
                                delay.as_secs()
                            );
                        }
                        notifier.send(if kind == ErrorKind::Authentication {
                            "STATUS=authentication failed; retrying slowly"
                        } else if matches!(e, Error::Secret { .. }) {
                            "STATUS=the password helper failed; retrying slowly"
                        } else {
                            "STATUS=a folder is missing; retrying slowly"
                        });
                        delay
                    }
                    ErrorKind::Network => {
                        let delay = network.next_delay();
                        warn!("{e}; reconnecting in {} s", delay.as_secs());
                        notifier.send("STATUS=server unreachable; reconnecting");
                        delay
                    }
                    ErrorKind::Data => {
                        warn!("{e}; trying again in a minute");
                        poll()
                    }
                }
            }
        };
        let in_backoff = network.failures > 0 || slow.failures > 0;
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            // A change in INBOX: act now, unless the server is being given time to recover.
            _ = wake.notified(), if !in_backoff => debug!("woken by INBOX"),
            _ = shutdown.cancelled() => break,
        }
    }
    if let Some(open) = connection {
        let _ = tokio::time::timeout(Duration::from_secs(2), open.logout()).await;
    }
    Ok(())
}

async fn summary_counts(store: &Store) -> (usize, usize) {
    let open = store
        .open_conversations()
        .await
        .map(|c| c.len())
        .unwrap_or(0);
    let drafts = store.waiting_drafts().await.map(|d| d.len()).unwrap_or(0);
    (open, drafts)
}

/// Keeps an IDLE on INBOX and wakes the main loop whenever the server reports a change.
async fn watch_inbox(
    config: Config,
    wake: Arc<Notify>,
    mut online: watch::Receiver<bool>,
    shutdown: CancellationToken,
) {
    let mut backoff = Backoff::network();
    while !shutdown.is_cancelled() {
        // Connect only while the main loop reaches the server.
        tokio::select! {
            result = online.wait_for(|up| *up) => if result.is_err() { break },
            _ = shutdown.cancelled() => break,
        }
        match idle_session(&config, &wake, &shutdown).await {
            Ok(()) => break,
            Err(e) if e.kind() == ErrorKind::Configuration => {
                // The main loop reports it and stops the daemon.
                break;
            }
            Err(e) => {
                let delay = backoff.next_delay();
                debug!("INBOX watcher: {e}; again in {} s", delay.as_secs());
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shutdown.cancelled() => break,
                }
            }
        }
    }
}

/// One IDLE connection, until it fails or shutdown. Returns `Ok` only on shutdown.
async fn idle_session(config: &Config, wake: &Notify, shutdown: &CancellationToken) -> Result<()> {
    let connection = Connection::open(&config.imap.server).await?;
    if !connection.has_capability("IDLE") {
        info!("the server has no IDLE: INBOX is polled every minute");
        shutdown.cancelled().await;
        return Ok(());
    }
    let mut inbox = IdleInbox::examine(connection).await?;
    // From here on the server reports every change, even one made before IDLE starts.
    debug!("watching INBOX");
    // Something may have arrived while we were away.
    wake.notify_one();
    loop {
        let (waited, woken) = inbox.wait(IDLE_PERIOD, shutdown).await?;
        inbox = waited;
        match woken {
            Woken::Changed => {
                debug!("INBOX changed");
                wake.notify_one();
            }
            Woken::Timeout => {}
            Woken::Shutdown => {
                inbox.logout().await;
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_stays_bounded() {
        let mut b = Backoff::network();
        let first = b.next_delay();
        assert!(first >= Duration::from_secs(2) && first <= Duration::from_millis(2500));
        let second = b.next_delay();
        assert!(second >= Duration::from_secs(4) && second <= Duration::from_secs(5));
        for _ in 0..30 {
            let d = b.next_delay();
            assert!(d <= Duration::from_secs(375), "{d:?}");
        }
        assert!(b.next_delay() >= Duration::from_secs(300));
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(2500));
        assert!(Backoff::authentication().next_delay() >= Duration::from_secs(30));
    }
}
