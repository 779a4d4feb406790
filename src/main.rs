//! The `nudge` command: parses arguments, sets up logging, calls the library, and maps errors
//! to exit codes (see `Error::exit_code`).

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use nudge::config::{default_config_path, Config};

#[derive(Parser)]
#[command(
    name = "nudge",
    version,
    about = "Patient, polite follow-up drafts for quiet sales conversations"
)]
struct Cli {
    /// The config file [default: $XDG_CONFIG_HOME/nudge/config.toml]
    #[arg(long, global = true, env = "NUDGE_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,

    /// Log more detail (RUST_LOG overrides)
    #[arg(long, short, global = true)]
    verbose: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a commented config file (never overwrites one)
    Init,
    /// Validate the config, connect, show capabilities and the folders nudge will use
    Check,
    /// One full pass: sync the mailbox, update conversations, then exit
    Sync {
        /// Change nothing on the server; only report what would be done
        #[arg(long)]
        dry_run: bool,
        /// Pretend it is this time (RFC 3339, e.g. 2026-11-23T08:30:00+01:00)
        #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
        now: Option<DateTime<Utc>>,
    },
    /// List tracked conversations
    Status {
        /// Print one JSON array instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Show one conversation with its history
    Show {
        /// The conversation's id (see `nudge status`)
        id: i64,
    },
}

fn parse_now(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{e}: write it as RFC 3339, like 2026-11-23T08:30:00+01:00"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    nudge::logging::init(cli.verbose);
    let config_path = cli.config.clone().unwrap_or_else(default_config_path);
    let result = match cli.command {
        Command::Init => nudge::commands::init(&config_path).map(|()| {
            println!("Wrote {}.", config_path.display());
            println!("Edit it (your address, server and password source), then run `nudge check`.");
        }),
        Command::Check => runtime().block_on(async {
            let config = Config::load(&config_path)?;
            let report = nudge::commands::check(&config).await?;
            println!("{report}");
            Ok(())
        }),
        Command::Sync { dry_run, now } => runtime().block_on(async {
            let config = Config::load(&config_path)?;
            let now = now.unwrap_or_else(Utc::now);
            let report = nudge::commands::sync(&config, now, dry_run).await?;
            print_sync(&report, now, &config, dry_run);
            Ok(())
        }),
        Command::Status { json } => runtime().block_on(async {
            let config = Config::load(&config_path)?;
            let rows = nudge::commands::status(&config).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&rows).unwrap_or_default()
                );
            } else {
                print!(
                    "{}",
                    nudge::commands::status_table(&rows, config.account.timezone)
                );
            }
            Ok(())
        }),
        Command::Show { id } => runtime().block_on(async {
            let config = Config::load(&config_path)?;
            print!("{}", nudge::commands::show(&config, id).await?);
            Ok(())
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("nudge: {error}");
            ExitCode::from(error.exit_code() as u8)
        }
    }
}

fn print_sync(
    report: &nudge::engine::PassReport,
    now: DateTime<Utc>,
    config: &Config,
    dry_run: bool,
) {
    let local = now.with_timezone(&config.account.timezone);
    println!("Pass at {}", local.format("%a %Y-%m-%d %H:%M %Z"));
    let folders: Vec<String> = report
        .new_messages
        .iter()
        .map(|(role, count)| format!("{role} {count}"))
        .collect();
    println!(
        "New messages: {} (headers fetched: {}, texts fetched: {})",
        folders.join(", "),
        report.header_fetches,
        report.body_fetches
    );
    for change in &report.changes {
        println!("  {change}");
    }
    for draft in &report.drafts {
        println!("  {draft}");
    }
    if dry_run {
        println!("Dry run: nothing was changed on the server.");
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the tokio runtime starts")
}
