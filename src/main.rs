//! The `nudge` command: parses arguments, sets up logging, calls the library, and maps errors
//! to exit codes (see `Error::exit_code`).

use std::path::PathBuf;
use std::process::ExitCode;

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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("nudge: {error}");
            ExitCode::from(error.exit_code() as u8)
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the tokio runtime starts")
}
