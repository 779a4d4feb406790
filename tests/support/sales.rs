//! The seller's conversations the process-level scenarios are made of: Kari's opener to
//! prospect N, and prospect N's reply to it.

use super::mailclient::{crlf, Message};
use super::nudge::SELLER;
use super::Dovecot;

/// Drafts on any day, at any hour, and a lookback long enough for mail two weeks old: for
/// the daemon, which runs in real time.
pub const ALWAYS: &str = "[tracking]\nlookback_days = 60\n\n[cadence]\nholidays = []\ndraft_time = \"00:00\"\nquiet_after = \"24:00\"\nworkdays = [\"monday\", \"tuesday\", \"wednesday\", \"thursday\", \"friday\", \"saturday\", \"sunday\"]\n";

/// Kari's opener to prospect `n` ("Tilbud N", Message-ID `openerN@fjordsalg.no`).
pub fn opener(n: usize, date: &str) -> String {
    let to = format!("Prospect {n} <p{n}@customer{n}.no>");
    let subject = format!("Tilbud {n}");
    let id = format!("opener{n}@fjordsalg.no");
    Message::new(
        "Kari Nordmann <kari@fjordsalg.no>",
        &to,
        &subject,
        &id,
        None,
        date,
        "Hei! Her er tilbudet vi snakket om. Hilsen Kari",
    )
    .render()
}

/// Prospect `n`'s human reply to the opener; `tag` keeps Message-IDs apart.
pub fn reply(n: usize, tag: &str, date: &str) -> String {
    let from = format!("Prospect {n} <p{n}@customer{n}.no>");
    let subject = format!("SV: Tilbud {n}");
    let id = format!("reply{n}.{tag}@customer{n}.no");
    let parent = format!("opener{n}@fjordsalg.no");
    Message::new(
        &from,
        SELLER,
        &subject,
        &id,
        Some(&parent),
        date,
        "Takk, la oss snakkes på torsdag.",
    )
    .render()
}

/// Stores a raw message in the seller's `folder` directly (doveadm save).
pub fn save(dovecot: &Dovecot, folder: &str, raw: &str) {
    dovecot.save_message(SELLER, folder, crlf(raw).as_bytes());
}

/// How many messages the seller's `folder` holds.
pub fn count(dovecot: &Dovecot, folder: &str) -> usize {
    dovecot
        .doveadm(&["search", "-u", SELLER, "mailbox", folder, "ALL"])
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

/// Today's weekday in Oslo as the config names it ("monday" …): a summary set for today is
/// due since its time.
pub fn weekday_today() -> &'static str {
    use chrono::Datelike;
    const NAMES: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Oslo)
        .weekday();
    NAMES[today.num_days_from_monday() as usize]
}
