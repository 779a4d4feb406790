//! The seller's commands: stop, resume, snooze, suppress, and templates, against a real
//! Dovecot through the binary.

mod support;

use support::mailclient::{MailClient, Message};
use support::nudge::{ok, seller_world, Nudge};
use support::Dovecot;

fn opener(to: &str, subject: &str, id: &str) -> String {
    Message {
        from: "Kari Nordmann <kari@fjordsalg.no>",
        to,
        subject,
        message_id: id,
        in_reply_to: None,
        date: "Mon, 16 Nov 2026 10:00:00 +0100",
        body: "Hei Ingrid,\n\nHer er tilbudet vi snakket om på messen, med priser for tre år.\n\nHilsen Kari",
        extra: "",
    }
    .render()
}

async fn setup(extra: &str) -> (Dovecot, Nudge, MailClient) {
    let (dovecot, nudge, mut client) = seller_world(extra).await;
    client
        .append(
            "Sent",
            &opener(
                "Ingrid Berg <ingrid.berg@fjordkraft.no>",
                "Tilbud på rammeavtale",
                "a1@fjordsalg.no",
            ),
            &["\\Seen"],
        )
        .await;
    (dovecot, nudge, client)
}

#[tokio::test]
async fn stop_withdraws_the_draft_and_resume_starts_the_wait_again() {
    let (_d, nudge, mut client) = setup("").await;
    nudge.sync("2026-11-19T08:30:00+01:00");
    assert_eq!(client.messages("Drafts").await.len(), 1);
    let id = nudge.conversation("Tilbud").unwrap()["id"].to_string();

    let said = ok(nudge.run(&["stop", &id, "--now", "2026-11-19T09:00:00+01:00"]));
    assert!(said.contains("withdrawn at the next pass"), "{said}");
    nudge.sync("2026-11-19T09:05:00+01:00");
    assert!(client.messages("Drafts").await.is_empty());
    assert_eq!(nudge.conversation("Tilbud").unwrap()["state"], "stopped");
    nudge.sync("2026-11-30T09:00:00+01:00");
    assert!(
        client.messages("Drafts").await.is_empty(),
        "stopped stays stopped"
    );

    ok(nudge.run(&["resume", &id, "--now", "2026-11-30T10:00:00+01:00"]));
    nudge.sync("2026-11-30T10:05:00+01:00");
    let c = nudge.conversation("Tilbud").unwrap();
    assert_eq!(c["state"], "waiting");
    assert_eq!(
        c["next_due"], "2026-12-03T07:30:00Z",
        "3 business days from the resume"
    );
}

#[tokio::test]
async fn snooze_holds_the_follow_up_until_the_date() {
    let (_d, nudge, mut client) = setup("").await;
    nudge.sync("2026-11-17T09:00:00+01:00");
    let id = nudge.conversation("Tilbud").unwrap()["id"].to_string();
    ok(nudge.run(&["snooze", &id, "2w", "--now", "2026-11-17T10:00:00+01:00"]));
    let c = nudge.conversation("Tilbud").unwrap();
    assert_eq!(c["state"], "snoozed");
    nudge.sync("2026-11-30T09:00:00+01:00");
    assert!(
        client.messages("Drafts").await.is_empty(),
        "not before the snooze ends"
    );
    nudge.sync("2026-12-01T08:30:00+01:00");
    assert_eq!(client.messages("Drafts").await.len(), 1);
    let bad = nudge.run(&["snooze", &id, "soon"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("3d, 2w, 1m"));
}

#[tokio::test]
async fn suppressing_a_domain_stops_follow_ups_to_it() {
    let (_d, nudge, mut client) = setup("").await;
    nudge.sync("2026-11-17T09:00:00+01:00");
    let said = ok(nudge.run(&["suppress", "add", "fjordkraft.no"]));
    assert!(said.contains("fjordkraft.no is suppressed"), "{said}");
    assert!(ok(nudge.run(&["suppress", "list"])).contains("fjordkraft.no"));
    nudge.sync("2026-11-19T08:30:00+01:00");
    assert!(client.messages("Drafts").await.is_empty());
    assert_eq!(nudge.conversation("Tilbud").unwrap()["state"], "stopped");
    // A new opener to the domain is not tracked either.
    client
        .append(
            "Sent",
            &opener("per@fjordkraft.no", "Nytt tilbud", "a2@fjordsalg.no"),
            &[],
        )
        .await;
    nudge.sync("2026-11-19T09:00:00+01:00");
    assert!(nudge.conversation("Nytt tilbud").is_none());
    ok(nudge.run(&["suppress", "remove", "fjordkraft.no"]));
    assert!(ok(nudge.run(&["suppress", "list"])).contains("empty"));
    let missing = nudge.run(&["suppress", "remove", "fjordkraft.no"]);
    assert!(!missing.status.success());
}

#[tokio::test]
async fn templates_are_listed_previewed_and_overridden_by_the_sellers_file() {
    let (_d, nudge, mut client) = setup("").await;
    let list = ok(nudge.run(&["templates", "list"]));
    assert_eq!(list.matches("built in").count(), 24, "{list}");
    for shown in ["fi   followup-1", "de   close-the-loop", "en   check-back"] {
        assert!(list.contains(shown), "{shown}: {list}");
    }
    let preview = ok(nudge.run(&["templates", "preview", "close-the-loop", "--lang", "sv"]));
    assert!(preview.contains("variant 1"), "{preview}");
    assert!(preview.contains("Vänliga hälsningar"), "{preview}");
    assert!(!nudge
        .run(&["templates", "preview", "nope"])
        .status
        .success());

    // The seller's own followup-1 in Norwegian, next to the config file.
    let dir = nudge.config.parent().unwrap().join("templates/nb");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("followup-1.txt.tera"),
        "Hei {{ prospect_first_name }},\n\nHar du hatt tid til å se på «{{ subject }}»? Passer det ikke nå, si ifra.",
    )
    .unwrap();
    let list = ok(nudge.run(&["templates", "list"]));
    assert!(list.contains("templates/nb/followup-1.txt.tera"), "{list}");
    nudge.sync("2026-11-19T08:30:00+01:00");
    let drafts = client.messages("Drafts").await;
    assert_eq!(drafts.len(), 1);
    assert!(
        drafts[0].text().contains("Har du hatt tid til"),
        "{}",
        drafts[0].text()
    );

    // A broken template is a clear error, before anything is done.
    std::fs::write(
        dir.join("followup-2.txt.tera"),
        "Hei {{ prospect_first_name ",
    )
    .unwrap();
    let broken = nudge.run(&["sync", "--now", "2026-11-20T08:30:00+01:00"]);
    assert_eq!(broken.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("followup-2.txt.tera"));
}
