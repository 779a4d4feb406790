//! Logging through tracing. Under systemd (`JOURNAL_STREAM` set) lines carry no timestamp and
//! no colour, since the journal adds its own; elsewhere colour only on a terminal, so that a
//! log piped to a file or another program stays plain text. `RUST_LOG` chooses what is shown.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber, writing to stderr. Safe to call more than once.
pub fn init(verbose: bool) {
    let default = if verbose {
        "nudge=debug,info"
    } else {
        "nudge=info,warn"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let result = if under_journal() {
        builder.without_time().with_ansi(false).try_init()
    } else {
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
    let _ = result;
}

/// True when stderr goes to the systemd journal.
pub fn under_journal() -> bool {
    std::env::var_os("JOURNAL_STREAM").is_some()
}
