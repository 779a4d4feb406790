//! Time (SPEC 3 and 5): drafts appear only on business days between `draft_time` and
//! `quiet_after` in the seller's zone, whether held back by the daily limit or overdue after
//! downtime, and `lookback_days` bounds only what the first start picks up. Through the
//! `nudge` binary with `sync --now` against a real Dovecot; the seller's zone is Europe/Oslo
//! and the holidays Norway's.

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
async fn drafts_held_back_by_the_daily_limit_wait_for_the_next_business_morning() {
    let (_d, nudge, mut client) = world("[cadence]\ndaily_limit = 1\n").await;
    // Both due on Friday 20 November 2026 at 08:30.
    ingrid(&mut client, "Tue, 17 Nov 2026 10:00:00 +0100").await;
    per(&mut client, "Tue, 17 Nov 2026 10:05:00 +0100").await;
    let out = nudge.sync("2026-11-20T09:00:00+01:00");
    assert_eq!(drafts(&mut client).await, 1, "{out}");
    assert!(
        out.contains(
            "1 more drafts are due; the daily limit of 1 holds them until Mon 2026-11-23 08:30"
        ),
        "the next allowed moment, not midnight: {out}"
    );
    // Just after midnight, on the weekend, late on Sunday, and before draft time on Monday.
    for now in [
        "2026-11-21T00:05:00+01:00",
        "2026-11-21T10:00:00+01:00",
        "2026-11-22T23:00:00+01:00",
        "2026-11-23T08:29:00+01:00",
    ] {
        let out = nudge.sync(now);
        assert_eq!(drafts(&mut client).await, 1, "no draft at {now}: {out}");
    }
    let out = nudge.sync("2026-11-23T08:30:00+01:00");
    assert_eq!(drafts(&mut client).await, 2, "Monday at draft time: {out}");
}

#[tokio::test]
async fn overdue_drafts_after_downtime_wait_for_a_business_day_between_draft_time_and_quiet_after()
{
    let (_d, nudge, mut client) = world("").await;
    // Due Thursday 19 November 2026 at 08:30; nudge last ran on Monday.
    ingrid(&mut client, "Mon, 16 Nov 2026 10:00:00 +0100").await;
    nudge.sync("2026-11-16T12:00:00+01:00");
    // Back on Thursday evening, after quiet_after (default 18:00).
    let out = nudge.sync("2026-11-19T18:00:00+01:00");
    assert_eq!(drafts(&mut client).await, 0, "not after 18:00: {out}");
    assert!(
        out.contains("1 drafts are due; they wait for Fri 2026-11-20 08:30"),
        "{out}"
    );
    // Friday before draft time, the weekend, Sunday night.
    for now in [
        "2026-11-20T07:00:00+01:00",
        "2026-11-21T12:00:00+01:00",
        "2026-11-22T23:00:00+01:00",
    ] {
        let out = nudge.sync(now);
        assert_eq!(drafts(&mut client).await, 0, "no draft at {now}: {out}");
    }
    assert_eq!(
        nudge.conversation("Tilbud på rammeavtale").unwrap()["state"],
        "waiting"
    );
    let out = nudge.sync("2026-11-23T08:30:00+01:00");
    assert_eq!(drafts(&mut client).await, 1, "Monday morning: {out}");
}

#[tokio::test]
async fn an_overdue_draft_over_easter_waits_for_the_next_business_day() {
    let (_d, nudge, mut client) = world("").await;
    // Due Tuesday 31 March 2026 at 08:30; nudge last ran the Thursday before. Maundy
    // Thursday, Good Friday and Easter Monday are Norwegian holidays.
    ingrid(&mut client, "Thu, 26 Mar 2026 10:00:00 +0100").await;
    nudge.sync("2026-03-26T12:00:00+01:00");
    for now in [
        "2026-04-02T10:00:00+02:00",
        "2026-04-03T09:00:00+02:00",
        "2026-04-04T00:05:00+02:00",
        "2026-04-06T09:00:00+02:00",
    ] {
        let out = nudge.sync(now);
        assert_eq!(drafts(&mut client).await, 0, "no draft at {now}: {out}");
    }
    let out = nudge.sync("2026-04-07T08:30:00+02:00");
    assert_eq!(drafts(&mut client).await, 1, "{out}");
}

#[tokio::test]
async fn quiet_after_ends_the_drafting_day() {
    let (_d, nudge, mut client) = world("[cadence]\nquiet_after = \"16:00\"\n").await;
    ingrid(&mut client, "Mon, 16 Nov 2026 10:00:00 +0100").await;
    let out = nudge.sync("2026-11-19T16:00:00+01:00");
    assert_eq!(drafts(&mut client).await, 0, "{out}");
    let out = nudge.sync("2026-11-19T15:59:00+01:00");
    assert_eq!(drafts(&mut client).await, 1, "before quiet_after: {out}");
}

#[test]
fn quiet_after_must_come_after_draft_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let text = "[account]\nemail = \"kari@fjordsalg.no\"\nname = \"Kari\"\ntimezone = \"Europe/Oslo\"\n\n\
                [imap]\nhost = \"imap.example.com\"\nusername = \"kari@fjordsalg.no\"\npassword_env = \"X\"\n\n\
                [cadence]\ndraft_time = \"08:30\"\nquiet_after = \"08:00\"\n";
    std::fs::write(&path, text).unwrap();
    let error = nudge::config::Config::load(&path).unwrap_err().to_string();
    assert!(error.contains("cadence.quiet_after"), "{error}");
    assert!(error.contains("line 13"), "{error}");
    for bad in ["\"8.00\"", "\"25:00\"", "18"] {
        std::fs::write(&path, text.replace("\"08:00\"", bad)).unwrap();
        let error = nudge::config::Config::load(&path).unwrap_err().to_string();
        assert!(error.contains("cadence.quiet_after"), "{bad}: {error}");
    }
    // "24:00": no evening limit.
    std::fs::write(&path, text.replace("\"08:00\"", "\"24:00\"")).unwrap();
    nudge::config::Config::load(&path).expect("24:00 is the end of the day");
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
