//! Logging through tracing. Under systemd (`JOURNAL_STREAM` set) lines carry no timestamp and
//! no colour, since the journal adds its own; elsewhere colour only on a terminal, so that a
//! log piped to a file or another program stays plain text. `RUST_LOG` chooses what is shown,
//! except for the libraries that log protocol bytes (the IMAP login with its password, the
//! XOAUTH2 token, whole messages, SMTP AUTH): they are silenced at every level, whatever
//! `RUST_LOG` says (SPEC 13: secrets never reach logs).

use std::io::IsTerminal;

use tracing_subscriber::filter::{filter_fn, EnvFilter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, Layer};

/// Crates whose log lines can carry protocol bytes, and with them secrets or mail.
pub const SILENCED: &[&str] = &[
    "async_imap",
    "imap_proto",
    "lettre",
    "rustls",
    "tokio_rustls",
];

/// True for a log target inside one of the [`SILENCED`] crates.
pub fn silenced(target: &str) -> bool {
    SILENCED.iter().any(|name| {
        target
            .strip_prefix(name)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    })
}

/// Installs the global subscriber, writing to stderr. Safe to call more than once.
pub fn init(verbose: bool) {
    let default = if verbose {
        "nudge=debug,info"
    } else {
        "nudge=info,warn"
    };
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    for name in SILENCED {
        if let Ok(directive) = format!("{name}=off").parse() {
            filter = filter.add_directive(directive);
        }
    }
    // The directives above lose to a more specific one (`async_imap::client=trace`) or to a
    // span directive; this second filter does not look at RUST_LOG at all.
    let quiet = filter_fn(|meta| !silenced(meta.target()));
    let ansi = !under_journal() && std::io::stderr().is_terminal();
    let layer = fmt::layer()
        .with_writer(move || Neutral {
            inner: std::io::stderr(),
            ansi,
        })
        .with_target(false)
        .with_ansi(ansi);
    let layer = if under_journal() {
        layer.without_time().boxed()
    } else {
        layer.boxed()
    };
    let result = tracing_subscriber::registry()
        .with(layer.with_filter(filter).with_filter(quiet))
        .try_init();
    let _ = result;
}

/// A log writer that neutralises each line (one event is one write): mail text in a message
/// or a field cannot reorder the line with bidi controls or forge a line of its own with a
/// line break. The event's closing newline stays, and so do the colour escapes on a terminal.
struct Neutral<W> {
    inner: W,
    ansi: bool,
}

impl<W: std::io::Write> std::io::Write for Neutral<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let (body, end) = match text.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (text.as_ref(), ""),
        };
        let line = neutralise_log_line(body, self.ansi);
        // A progress bar on the same terminal steps aside for the line.
        crate::progress::around(|| {
            self.inner.write_all(line.as_bytes())?;
            self.inner.write_all(end.as_bytes())
        })?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// [`crate::display::neutralise`], keeping ESC when the log is coloured.
fn neutralise_log_line(line: &str, ansi: bool) -> String {
    if ansi {
        line.split('\x1b')
            .map(|part| crate::display::neutralise(part).into_owned())
            .collect::<Vec<_>>()
            .join("\x1b")
    } else {
        crate::display::neutralise(line).into_owned()
    }
}

/// True when stderr goes to the systemd journal.
pub fn under_journal() -> bool {
    std::env::var_os("JOURNAL_STREAM").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_crates_are_silenced_and_nudge_is_not() {
        assert!(silenced("async_imap"));
        assert!(silenced("async_imap::client"));
        assert!(silenced("imap_proto::parser"));
        assert!(silenced("lettre::transport::smtp"));
        assert!(silenced("rustls::client::hs"));
        assert!(!silenced("nudge"));
        assert!(!silenced("nudge::imap"));
        assert!(!silenced("async_imapx"));
        assert!(!silenced("rustlsy"));
    }

    #[test]
    fn log_lines_are_neutralised_but_keep_their_newline() {
        use std::io::Write;
        let mut out = Neutral {
            inner: Vec::new(),
            ansi: false,
        };
        out.write_all(b"INFO subject=\"a\xe2\x80\xaeb\nFAKE line\"\n")
            .unwrap();
        assert_eq!(
            String::from_utf8(out.inner).unwrap(),
            "INFO subject=\"a<U+202E>b<U+000A>FAKE line\"\n"
        );
        assert_eq!(
            neutralise_log_line("\x1b[2mx\u{200F}\x1b[0m", true),
            "\x1b[2mx<U+200F>\x1b[0m"
        );
    }
}
