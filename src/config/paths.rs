//! Where nudge's files live (XDG base directories) and which time zone the system is in.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono_tz::Tz;

/// The config path used when none is given: `$XDG_CONFIG_HOME/nudge/config.toml`.
pub fn default_config_path() -> PathBuf {
    xdg_dir("XDG_CONFIG_HOME", ".config").join("nudge/config.toml")
}

/// The store path used when none is configured: `$XDG_STATE_HOME/nudge/nudge.db`.
pub fn default_store_path() -> PathBuf {
    xdg_dir("XDG_STATE_HOME", ".local/state").join("nudge/nudge.db")
}

/// The folder holding the config file: templates placed here override shipped ones.
pub fn config_dir(config_path: &Path) -> PathBuf {
    config_path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn xdg_dir(variable: &str, fallback: &str) -> PathBuf {
    match std::env::var_os(variable) {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        _ => home_dir().join(fallback),
    }
}

fn home_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// The system's time zone: `TZ`, else the `/etc/localtime` link, else `/etc/timezone`, else UTC.
pub fn system_timezone() -> Tz {
    let from_tz = std::env::var("TZ")
        .ok()
        .map(|s| s.trim_start_matches(':').to_string());
    let from_link = std::fs::read_link("/etc/localtime")
        .ok()
        .and_then(|target| {
            let target = target.to_string_lossy().into_owned();
            target
                .split_once("zoneinfo/")
                .map(|(_, name)| name.to_string())
        });
    let from_file = std::fs::read_to_string("/etc/timezone")
        .ok()
        .map(|s| s.trim().to_string());
    [from_tz, from_link, from_file]
        .into_iter()
        .flatten()
        .find_map(|name| Tz::from_str(&name).ok())
        .unwrap_or(Tz::UTC)
}
