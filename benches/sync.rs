//! How long `nudge sync` takes over a large mailbox, and what a second pass without changes
//! costs. Run with `cargo bench --bench sync` (needs Dovecot, as the tests do).
//!
//! The mailbox: MESSAGES messages in INBOX (newsletters, notifications and replies) and a
//! few hundred of the seller's openers in Sent, all within the lookback window, written
//! straight into the Maildir so seeding takes a moment, then the first pass reads them over
//! IMAP like any other mailbox.

#[path = "../tests/support/mod.rs"]
mod support;

use std::os::unix::fs::chown;
use std::path::Path;
use std::time::Instant;

use support::mailclient::{crlf, opener, MailClient, Message};
use support::nudge::{Nudge, PASSWORD, SELLER};
use support::{Dovecot, DovecotOptions};

const MESSAGES: usize = 10_000;
const OPENERS: usize = 300;

fn write_maildir(dir: &Path, name: &str, raw: &str, uid: u32, gid: u32) {
    let path = dir.join("cur").join(format!("{name}.bench:2,S"));
    std::fs::write(&path, crlf(raw)).expect("write message file");
    chown(&path, Some(uid), Some(gid)).expect("chown message file");
}

fn owner(path: &Path) -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).expect("maildir exists");
    (meta.uid(), meta.gid())
}

fn main() {
    let dovecot = Dovecot::start(DovecotOptions {
        users: vec![(SELLER.to_string(), PASSWORD.to_string())],
        ..Default::default()
    });
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // A first login makes Dovecot create the Maildir with the right owner.
    runtime.block_on(async {
        let client = MailClient::connect(&dovecot, SELLER, PASSWORD).await;
        let mut client = client;
        let _ = client.messages("Sent").await;
        client.logout().await;
    });
    let maildir = dovecot.maildir_of(SELLER);
    let (uid, gid) = owner(&maildir);
    let sent = maildir.join("Sent");
    let seed = Instant::now();
    for i in 0..OPENERS {
        let to = format!("prospect{i}@customer{i}.no");
        let raw = opener(
            i,
            &to,
            "Mon, 16 Nov 2026 10:00:00 +0100",
            "Hei! Her er tilbudet vi snakket om.",
        );
        write_maildir(&sent, &format!("o{i}"), &raw, uid, gid);
    }
    for i in 0..MESSAGES {
        let id = format!("in{i}@example.net");
        let (from, subject, parent, extra) = match i % 10 {
            // Every tenth message answers one of the openers.
            0 => (
                format!("prospect{0}@customer{0}.no", (i / 10) % OPENERS),
                format!("SV: Tilbud {}", (i / 10) % OPENERS),
                Some(format!("opener{}@fjordsalg.no", (i / 10) % OPENERS)),
                "",
            ),
            1..=5 => (
                "news@newsletter.example.org".to_string(),
                format!("Nyhetsbrev {i}"),
                None,
                "List-Id: <news.example.org>",
            ),
            _ => (
                format!("person{i}@elsewhere.example.net"),
                format!("Hei {i}"),
                None,
                "",
            ),
        };
        let raw = Message {
            from: &from,
            to: SELLER,
            subject: &subject,
            message_id: &id,
            in_reply_to: parent.as_deref(),
            date: "Tue, 17 Nov 2026 09:00:00 +0100",
            body: "Takk for sist. Dette er en melding med litt tekst i.",
            extra,
        }
        .render();
        write_maildir(&maildir, &format!("i{i}"), &raw, uid, gid);
    }
    println!(
        "seeded {MESSAGES} INBOX and {OPENERS} Sent messages in {:.1} s",
        seed.elapsed().as_secs_f64()
    );

    let nudge = Nudge::new(&dovecot, "");
    for (label, now) in [
        ("first pass", "2026-11-18T09:00:00+01:00"),
        ("second pass, no changes", "2026-11-18T09:05:00+01:00"),
    ] {
        let started = Instant::now();
        let output = nudge.sync(now);
        let seconds = started.elapsed().as_secs_f64();
        let counts = output
            .lines()
            .find(|l| l.starts_with("New messages"))
            .unwrap_or("");
        println!("{label}: {seconds:.2} s — {counts}");
        for line in output.lines().filter(|l| l.contains("timing")) {
            println!("  {line}");
        }
    }
    let status = nudge.status();
    let replied = status.iter().filter(|c| c["state"] == "replied").count();
    println!("{} conversations tracked, {replied} replied", status.len());
}
