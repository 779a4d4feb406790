//! The progress bar of `nudge sync`: per folder, the messages fetched of those to fetch and
//! how many a second. It is drawn only when stdout is a terminal, and only once a folder has
//! taken more than a second: a quick pass, a script, a test or the journal sees exactly the
//! output it always did (the output of `nudge sync` is a contract, SPEC 12).
//!
//! The engine tells a [`SyncProgress`] where it is; `nudge sync` passes a [`Bar`], the daemon
//! [`Quiet`]. Only this module knows indicatif.

use std::borrow::Cow;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What a pass tells about its way through a folder's new messages.
pub trait SyncProgress: Sync {
    /// A folder's sync starts, with `total` messages to fetch.
    fn folder(&self, name: &str, total: usize);
    /// `fetched` of the folder's messages are stored so far.
    fn fetched(&self, fetched: usize);
    /// The folder is done.
    fn done(&self);
}

/// Tells nobody: the daemon, and callers with no terminal of their own.
pub struct Quiet;

impl SyncProgress for Quiet {
    fn folder(&self, _: &str, _: usize) {}
    fn fetched(&self, _: usize) {}
    fn done(&self) {}
}

/// How long a folder runs before its bar appears.
pub const DELAY: Duration = Duration::from_secs(1);

/// Overrides [`DELAY`], in milliseconds. For tests, which need a bar without a slow sync.
pub const DELAY_ENV: &str = "NUDGE_PROGRESS_AFTER_MS";

/// The delay `NUDGE_PROGRESS_AFTER_MS` asks for, or [`DELAY`].
pub fn delay_from(value: Option<&str>) -> Duration {
    value
        .and_then(|ms| ms.trim().parse().ok())
        .map_or(DELAY, Duration::from_millis)
}

/// The bar drawn while `nudge sync` fetches a folder's headers.
pub struct Bar {
    /// Whether stdout is a terminal (the caller decides): nothing is ever drawn otherwise.
    terminal: bool,
    /// How long a folder runs before its bar appears.
    delay: Duration,
    /// Where a bar is drawn: stdout, or a recording screen in tests.
    target: Box<dyn Fn() -> ProgressDrawTarget + Send + Sync>,
    /// The folder being fetched.
    current: Mutex<Option<Folder>>,
    /// Whether log lines step around this bar: the one on stdout, not a test's screen.
    under_logs: bool,
}

/// A folder being fetched.
struct Folder {
    /// Its name, shown before the bar (neutralised: the server chose it).
    name: String,
    /// The messages to fetch: the bar's length.
    total: usize,
    /// When its fetch began: the delay and the rate count from here.
    started: Instant,
    /// Its bar, once the folder has run for the delay.
    bar: Option<ProgressBar>,
}

impl Bar {
    /// A bar on stdout, when `terminal` says stdout is one.
    pub fn new(terminal: bool) -> Bar {
        let delay = delay_from(std::env::var(DELAY_ENV).ok().as_deref());
        let mut bar = Bar::with_target(terminal, delay, ProgressDrawTarget::stdout);
        bar.under_logs = true;
        bar
    }

    /// A bar drawn on what `target` makes, after `delay`; log lines do not step around it.
    pub fn with_target(
        terminal: bool,
        delay: Duration,
        target: impl Fn() -> ProgressDrawTarget + Send + Sync + 'static,
    ) -> Bar {
        Bar {
            terminal,
            delay,
            target: Box::new(target),
            current: Mutex::new(None),
            under_logs: false,
        }
    }

    /// [`SyncProgress::folder`] at `now`.
    pub fn folder_at(&self, name: &str, total: usize, now: Instant) {
        self.done();
        if !self.terminal || total == 0 {
            return;
        }
        *self.lock() = Some(Folder {
            name: crate::display::neutralise(name).into_owned(),
            total,
            started: now,
            bar: None,
        });
    }

    /// [`SyncProgress::fetched`] at `now`: the bar appears once the folder has run for the
    /// delay, and shows how far it is and how fast it goes.
    pub fn fetched_at(&self, fetched: usize, now: Instant) {
        let mut current = self.lock();
        let Some(folder) = current.as_mut() else {
            return;
        };
        let elapsed = now.saturating_duration_since(folder.started);
        if folder.bar.is_none() {
            if elapsed < self.delay {
                return;
            }
            folder.bar = Some(self.draw(&folder.name, folder.total));
        }
        let Some(bar) = &folder.bar else {
            return;
        };
        bar.set_message(rate(fetched, elapsed));
        bar.set_position(fetched as u64);
    }

    /// A new bar for `name`, on screen from now on.
    fn draw(&self, name: &str, total: usize) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(Some(total as u64), (self.target)());
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
                .map(|style| style.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(name.to_string());
        if self.under_logs {
            shown(Some(bar.clone()));
        }
        bar
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Folder>> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// "250 msg/s"; nothing before any time has passed.
fn rate(fetched: usize, elapsed: Duration) -> Cow<'static, str> {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        format!("{:.0} msg/s", fetched as f64 / seconds).into()
    } else {
        "".into()
    }
}

impl SyncProgress for Bar {
    fn folder(&self, name: &str, total: usize) {
        self.folder_at(name, total, Instant::now());
    }

    fn fetched(&self, fetched: usize) {
        self.fetched_at(fetched, Instant::now());
    }

    /// Clears the bar, so that the report after it prints as it would without one.
    fn done(&self) {
        let folder = self.lock().take();
        if let Some(bar) = folder.and_then(|f| f.bar) {
            if self.under_logs {
                shown(None);
            }
            bar.finish_and_clear();
        }
    }
}

impl Drop for Bar {
    /// A pass that failed halfway leaves no bar behind its error.
    fn drop(&mut self) {
        self.done();
    }
}

/// The bar on screen, if any. Log lines go to stderr, often the same terminal: they are
/// written with the bar out of the way ([`around`]).
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

fn shown(bar: Option<ProgressBar>) {
    *SHOWN.lock().unwrap_or_else(|e| e.into_inner()) = bar;
}

/// Runs `write` (a log line) with the bar on screen, if any, cleared, and draws it again after.
pub fn around<R>(write: impl FnOnce() -> R) -> R {
    let bar = SHOWN.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match bar {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use indicatif::TermLike;

    use super::*;

    /// A terminal that records what is drawn on it.
    #[derive(Debug, Clone, Default)]
    struct Screen(Arc<Mutex<String>>);

    impl Screen {
        fn text(&self) -> String {
            self.0.lock().unwrap().clone()
        }

        fn push(&self, text: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(text);
            Ok(())
        }

        /// A bar drawing on this screen, as if stdout were a terminal or not.
        fn bar(&self, terminal: bool, delay: Duration) -> Bar {
            let screen = self.clone();
            Bar::with_target(terminal, delay, move || {
                ProgressDrawTarget::term_like(Box::new(screen.clone()))
            })
        }
    }

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            100
        }
        fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
            self.push(&format!("<up {n}>"))
        }
        fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
            self.push(&format!("<down {n}>"))
        }
        fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
            self.push(&format!("<right {n}>"))
        }
        fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
            self.push(&format!("<left {n}>"))
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.push(&format!("{s}\n"))
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.push(s)
        }
        fn clear_line(&self) -> std::io::Result<()> {
            self.push("<clear>")
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn after(start: Instant, millis: u64) -> Instant {
        start + Duration::from_millis(millis)
    }

    #[test]
    fn nothing_is_drawn_when_stdout_is_not_a_terminal() {
        let screen = Screen::default();
        let bar = screen.bar(false, Duration::ZERO);
        let start = Instant::now();
        bar.folder_at("INBOX", 10_000, start);
        bar.fetched_at(500, after(start, 2_000));
        bar.fetched_at(10_000, after(start, 30_000));
        bar.done();
        assert_eq!(screen.text(), "");
    }

    #[test]
    fn nothing_is_drawn_for_a_folder_done_within_the_delay() {
        let screen = Screen::default();
        let bar = screen.bar(true, DELAY);
        let start = Instant::now();
        bar.folder_at("INBOX", 1_000, start);
        bar.fetched_at(500, after(start, 400));
        bar.fetched_at(1_000, after(start, 999));
        bar.done();
        assert_eq!(screen.text(), "");
    }

    #[test]
    fn a_slow_folder_shows_fetched_of_total_and_the_rate_then_clears() {
        let screen = Screen::default();
        let bar = screen.bar(true, DELAY);
        let start = Instant::now();
        bar.folder_at("INBOX", 1_000, start);
        bar.fetched_at(500, after(start, 600));
        assert_eq!(screen.text(), "", "not before a second");
        bar.fetched_at(800, after(start, 2_000));
        let drawn = screen.text();
        assert!(drawn.contains("INBOX"), "{drawn:?}");
        assert!(drawn.contains("800/1000"), "{drawn:?}");
        assert!(drawn.contains("400 msg/s"), "{drawn:?}");
        bar.done();
        let cleared = screen.text();
        let tail = &cleared[drawn.len()..];
        assert!(
            tail.contains("<clear>"),
            "the bar is cleared when done: {cleared:?}"
        );
        assert!(!tail.contains("INBOX"), "and not drawn again: {cleared:?}");
    }

    #[test]
    fn each_folder_has_its_own_second() {
        let screen = Screen::default();
        let bar = screen.bar(true, DELAY);
        let start = Instant::now();
        bar.folder_at("Sent", 1_000, start);
        bar.fetched_at(1_000, after(start, 5_000));
        bar.done();
        let sent = screen.text();
        assert!(
            sent.contains("Sent") && sent.contains("1000/1000"),
            "{sent:?}"
        );
        bar.folder_at("INBOX", 1_000, after(start, 5_000));
        bar.fetched_at(1_000, after(start, 5_500));
        bar.done();
        assert_eq!(screen.text(), sent, "INBOX took half a second: no bar");
    }

    #[test]
    fn a_bar_left_by_a_failed_pass_is_cleared_when_dropped() {
        let screen = Screen::default();
        let bar = screen.bar(true, Duration::ZERO);
        let start = Instant::now();
        bar.folder_at("INBOX", 100, start);
        bar.fetched_at(50, after(start, 10));
        let drawn = screen.text();
        assert!(drawn.contains("50/100"), "{drawn:?}");
        drop(bar);
        assert!(screen.text()[drawn.len()..].contains("<clear>"));
    }

    #[test]
    fn the_delay_is_a_second_unless_the_environment_names_another() {
        assert_eq!(delay_from(None), Duration::from_secs(1));
        assert_eq!(delay_from(Some("0")), Duration::ZERO);
        assert_eq!(delay_from(Some("250")), Duration::from_millis(250));
        assert_eq!(delay_from(Some("soon")), Duration::from_secs(1));
    }
}
