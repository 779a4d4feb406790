//! Several accounts in one process: `--config` given more than once, or a folder of config
//! files (`conf.d/*.toml`). Each file is one seller's account, checked on its own; the
//! commands that act on one account choose it with `--account`.

use std::path::{Path, PathBuf};

use super::Config;
use crate::error::{ConfigError, Error, Result};

/// Loads every account `paths` name: a file is one account, a folder holds one per `*.toml`
/// file in it (in name order). Two files of one address are refused: each account has one
/// store, one lock and one schedule.
pub fn load_accounts(paths: &[PathBuf]) -> Result<Vec<Config>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| refuse(path, format!("cannot read the folder: {e}")))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(refuse(
                    path,
                    "the folder holds no *.toml config file".into(),
                ));
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    let mut configs: Vec<Config> = Vec::with_capacity(files.len());
    for file in &files {
        let config = Config::load(file)?;
        if let Some(other) = configs
            .iter()
            .find(|c| c.account.email == config.account.email)
        {
            return Err(refuse(
                file,
                format!(
                    "the account {} is configured twice (also in {}): one file per account",
                    config.account.email,
                    other.path.as_deref().unwrap_or(Path::new("?")).display()
                ),
            ));
        }
        configs.push(config);
    }
    Ok(configs)
}

/// The one account a command acts on: the one `account` names (its address or an alias),
/// or the only one configured.
pub fn select_account(configs: Vec<Config>, account: Option<&str>) -> Result<Config> {
    let names = || {
        configs
            .iter()
            .map(|c| c.account.email.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let chosen = match account {
        Some(wanted) => {
            let wanted = wanted.trim().to_ascii_lowercase();
            let found = configs.iter().position(|c| c.account.is_seller(&wanted));
            match found {
                Some(at) => at,
                None => {
                    return Err(choose(format!(
                        "no account {wanted} is configured (the accounts: {})",
                        names()
                    )))
                }
            }
        }
        None if configs.len() == 1 => 0,
        None => {
            return Err(choose(format!(
                "{} accounts are configured: choose one with --account ({})",
                configs.len(),
                names()
            )))
        }
    };
    Ok(configs
        .into_iter()
        .nth(chosen)
        .expect("an index found above"))
}

fn refuse(path: &Path, message: String) -> Error {
    Error::Config(ConfigError {
        path: Some(path.to_path_buf()),
        key: String::new(),
        line: None,
        message,
    })
}

fn choose(message: String) -> Error {
    Error::Config(ConfigError {
        path: None,
        key: "account".into(),
        line: None,
        message,
    })
}
