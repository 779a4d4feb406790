//! Several sellers on one test Dovecot: a config for each, written from Kari's, and what each
//! one's Drafts holds.

use std::path::{Path, PathBuf};

use super::nudge::{Nudge, PASSWORD, SELLER};
use super::{Dovecot, DovecotOptions};

/// Kari's scenario config rewritten for `email` in `dir` (`<local part>.toml`): its own
/// state folder beside Kari's (on PostgreSQL the same database, the account's own schema),
/// the password from `password_env`.
pub fn config_for(kari: &Nudge, email: &str, password_env: &str, dir: &Path) -> PathBuf {
    let local = email.split('@').next().expect("an address");
    let text = std::fs::read_to_string(&kari.config)
        .expect("Kari's config")
        .replace(
            "kari.nordmann@fjordsalg.no",
            &format!("{local}.nordmann@fjordsalg.no"),
        )
        .replace(SELLER, email)
        .replace("Kari Nordmann", &format!("{local} Nordmann"))
        .replace("state/nudge.db", &format!("state-{local}/nudge.db"))
        .replace("NUDGE_TEST_PASSWORD", password_env);
    let path = dir.join(format!("{local}.toml"));
    std::fs::write(&path, text).expect("write the config");
    path
}

/// How many messages `email`'s Drafts holds.
pub fn drafts_of(dovecot: &Dovecot, email: &str) -> usize {
    dovecot
        .doveadm(&["search", "-u", email, "mailbox", "Drafts", "ALL"])
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

/// A folder of configs, one account each: Kari's, and one for each of `others` (address,
/// password variable) written from it. nudge serves them all with `--config FOLDER`.
pub fn folder_of(kari: &Nudge, others: &[(&str, &str)]) -> tempfile::TempDir {
    let folder = tempfile::tempdir().expect("temp dir");
    std::fs::copy(&kari.config, folder.path().join("kari.toml")).expect("copy Kari's config");
    for (email, password_env) in others {
        config_for(kari, email, password_env, folder.path());
    }
    folder
}

/// A Dovecot with a mailbox for each of `sellers`, all with the test password.
pub fn dovecot_of(sellers: &[&str]) -> Dovecot {
    Dovecot::start(DovecotOptions {
        users: sellers
            .iter()
            .map(|u| (u.to_string(), PASSWORD.to_string()))
            .collect(),
        ..Default::default()
    })
}
