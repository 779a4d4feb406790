//! Time (SPEC 3 and 5): `lookback_days` bounds only what the first start picks up. Through
//! the `nudge` binary with `sync --now` against a real Dovecot; the seller's zone is
//! Europe/Oslo and the holidays Norway's.

mod support;

use support::mailclient::{MailClient, Message};
use support::nudge::{seller_world, Nudge};
use support::Dovecot;

/// The seller's first message to a prospect, in Sent.
fn opener(to: &str, subject: &str, id: &str, date: &str) -> String {
    Message {
        from: "Kari Nordmann <kari@fjordsalg.no>",
        to,
        subject,
        message_id: id,
        in_reply_to: None,
        date,
        body: "Hei,\n\nHer er tilbudet vi snakket om på messen, med priser for tre år.\n\nHilsen Kari",
        extra: "",
    }
    .render()
}

/// Ingrid's opener, dated `date`.
async fn ingrid(client: &mut MailClient, date: &str) {
    let raw = opener(
        "Ingrid Berg <ingrid.berg@fjordkraft.no>",
        "Tilbud på rammeavtale",
        "a1@fjordsalg.no",
        date,
    );
    client.append("Sent", &raw, &["\\Seen"]).await;
}

/// Per's opener, dated `date`.
async fn per(client: &mut MailClient, date: &str) {
    let raw = opener(
        "Per Olsen <per.olsen@kraftlag.no>",
        "Tilbud på service",
        "a2@fjordsalg.no",
        date,
    );
    client.append("Sent", &raw, &["\\Seen"]).await;
}

async fn world(extra: &str) -> (Dovecot, Nudge, MailClient) {
    seller_world(extra).await
}

async fn drafts(client: &mut MailClient) -> usize {
    client.messages("Drafts").await.len()
}

#[tokio::test]
async fn lookback_bounds_only_the_first_start() {
    let (_d, nudge, mut client) = world("").await;
    // First start on Monday 2 November 2026; an opener from long before is left alone.
    per(&mut client, "Mon, 5 Oct 2026 10:00:00 +0200").await;
    nudge.sync("2026-11-02T09:00:00+01:00");
    assert!(nudge.conversation("Tilbud på service").is_none());
    // Kari writes on Wednesday, then the laptop stays off for three weeks.
    ingrid(&mut client, "Wed, 4 Nov 2026 10:00:00 +0100").await;
    let out = nudge.sync("2026-11-25T09:00:00+01:00");
    let c = nudge
        .conversation("Tilbud på rammeavtale")
        .unwrap_or_else(|| panic!("tracked after the break: {out}"));
    assert_eq!(c["state"], "drafted", "{out}");
    assert_eq!(drafts(&mut client).await, 1);
    assert!(
        nudge.conversation("Tilbud på service").is_none(),
        "still older than the lookback at first start"
    );
}

#[tokio::test]
async fn a_new_store_applies_the_lookback_from_its_own_first_start() {
    let (_d, nudge, mut client) = world("").await;
    ingrid(&mut client, "Wed, 4 Nov 2026 10:00:00 +0100").await;
    nudge.sync("2026-11-05T09:00:00+01:00");
    assert!(nudge.conversation("Tilbud på rammeavtale").is_some());
    // The store is reset three weeks later: a first start again.
    std::fs::remove_dir_all(nudge.store_path().parent().unwrap()).unwrap();
    nudge.sync("2026-11-26T09:00:00+01:00");
    assert!(
        nudge.conversation("Tilbud på rammeavtale").is_none(),
        "older than lookback_days at this first start"
    );
}
