//! How fast `nudge run` withdraws a waiting draft once the prospect's reply lands in INBOX:
//! 20 trials against a real Dovecot, median and worst. Run with
//! `cargo bench --bench reply_latency` (needs Dovecot, as the tests do).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use chrono::{Duration as Days, Utc};
use support::daemon::{wait_until, Daemon};
use support::mailclient::{crlf, Message};
use support::nudge::{Nudge, PASSWORD, SELLER};
use support::{Dovecot, DovecotOptions};

const TRIALS: usize = 20;

fn count(dovecot: &Dovecot, folder: &str) -> usize {
    dovecot
        .doveadm(&["search", "-u", SELLER, "mailbox", folder, "ALL"])
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

fn main() {
    let dovecot = Dovecot::start(DovecotOptions {
        users: vec![(SELLER.to_string(), PASSWORD.to_string())],
        ..Default::default()
    });
    for i in 0..TRIALS {
        let to = format!("p{i}@customer{i}.no");
        let subject = format!("Tilbud {i}");
        let id = format!("opener{i}@fjordsalg.no");
        let date = (Utc::now() - Days::days(14)).to_rfc2822();
        let raw = Message {
            from: "Kari Nordmann <kari@fjordsalg.no>",
            to: &to,
            subject: &subject,
            message_id: &id,
            in_reply_to: None,
            date: &date,
            body: "Hei! Her er tilbudet vi snakket om.",
            extra: "",
        }
        .render();
        dovecot.save_message(SELLER, "Sent", crlf(&raw).as_bytes());
    }
    let nudge = Nudge::new(
        &dovecot,
        "[tracking]\nlookback_days = 60\n\n[cadence]\nholidays = []\ndaily_limit = 100\n",
    );
    let daemon = Daemon::start_default(&nudge);
    wait_until(Duration::from_secs(60), || {
        count(&dovecot, "Drafts") == TRIALS
    })
    .unwrap_or_else(|| panic!("drafts not made:\n{}", daemon.log()));
    std::thread::sleep(Duration::from_secs(1));

    let mut latencies = Vec::new();
    for i in 0..TRIALS {
        let from = format!("p{i}@customer{i}.no");
        let subject = format!("SV: Tilbud {i}");
        let id = format!("reply{i}@customer{i}.no");
        let parent = format!("opener{i}@fjordsalg.no");
        let raw = Message {
            from: &from,
            to: SELLER,
            subject: &subject,
            message_id: &id,
            in_reply_to: Some(&parent),
            date: &Utc::now().to_rfc2822(),
            body: "Takk, la oss snakkes.",
            extra: "",
        }
        .render();
        let before = count(&dovecot, "Drafts");
        dovecot.save_message(SELLER, "INBOX", crlf(&raw).as_bytes());
        let took = wait_until(Duration::from_secs(30), || {
            count(&dovecot, "Drafts") < before
        })
        .unwrap_or_else(|| panic!("trial {i}: draft not withdrawn:\n{}", daemon.log()));
        latencies.push(took);
        std::thread::sleep(Duration::from_millis(300));
    }
    latencies.sort();
    let median = latencies[TRIALS / 2];
    let worst = latencies[TRIALS - 1];
    println!(
        "reply → draft withdrawn over {TRIALS} trials: median {:.0} ms, best {:.0} ms, worst {:.0} ms",
        median.as_secs_f64() * 1000.0,
        latencies[0].as_secs_f64() * 1000.0,
        worst.as_secs_f64() * 1000.0
    );
}
