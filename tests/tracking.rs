//! Conversation tracking against a real Dovecot: the seller's mail is APPENDed to Sent, the
//! other side's to INBOX, then `nudge sync --now` runs and `status --json` is checked.

mod support;

use support::mailclient::Message;
use support::nudge::{seller_world, Nudge};
use support::Dovecot;

const OPENER_DATE: &str = "Mon, 16 Nov 2026 10:00:00 +0100";
const FIRST_PASS: &str = "2026-11-16T12:00:00+01:00";
const SECOND_PASS: &str = "2026-11-18T09:00:00+01:00";

fn opener<'a>(to: &'a str, subject: &'a str, id: &'a str) -> Message<'a> {
    Message {
        from: "Kari Nordmann <kari@fjordsalg.no>",
        to,
        subject,
        message_id: id,
        in_reply_to: None,
        date: OPENER_DATE,
        body: "Hei!\n\nTakk for praten i går. Her er tilbudet vi snakket om.\n\nHilsen Kari",
        extra: "",
    }
}

fn inbound<'a>(
    from: &'a str,
    subject: &'a str,
    id: &'a str,
    parent: Option<&'a str>,
    body: &'a str,
) -> Message<'a> {
    Message {
        from,
        to: "Kari Nordmann <kari@fjordsalg.no>",
        subject,
        message_id: id,
        in_reply_to: parent,
        date: "Tue, 17 Nov 2026 14:30:00 +0100",
        body,
        extra: "",
    }
}

/// The opener to Ingrid in Sent, a first pass, then `answer` in INBOX and a second pass.
/// Returns the conversation's status element after the second pass.
async fn after_answer(answer: Message<'_>) -> (serde_json::Value, Nudge, Dovecot) {
    let (dovecot, nudge, mut client) = seller_world("").await;
    client
        .append(
            "Sent",
            &opener(
                "Ingrid Berg <ingrid.berg@fjordkraft.no>",
                "Tilbud på rammeavtale",
                "a1@fjordsalg.no",
            )
            .render(),
            &["\\Seen"],
        )
        .await;
    nudge.sync(FIRST_PASS);
    let before = nudge
        .conversation("Tilbud på rammeavtale")
        .expect("tracked after the opener");
    assert_eq!(before["state"], "waiting");
    assert_eq!(
        before["prospects"],
        serde_json::json!(["ingrid.berg@fjordkraft.no"])
    );
    client.append("INBOX", &answer.render(), &[]).await;
    client.logout().await;
    nudge.sync(SECOND_PASS);
    let after = nudge
        .conversation("Tilbud på rammeavtale")
        .expect("still listed");
    (after, nudge, dovecot)
}

#[tokio::test]
async fn a_reply_in_the_thread_ends_the_wait() {
    let (c, nudge, _d) = after_answer(inbound(
        "Ingrid Berg <ingrid.berg@fjordkraft.no>",
        "SV: Tilbud på rammeavtale",
        "r1@fjordkraft.no",
        Some("a1@fjordsalg.no"),
        "Takk! Kan vi ta en prat på torsdag?",
    ))
    .await;
    assert_eq!(c["state"], "replied");
    let show = nudge.run(&["show", &c["id"].to_string()]);
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(text.contains("replied in the thread"), "{text}");
}

#[tokio::test]
async fn a_reply_in_a_new_thread_from_the_same_address_counts() {
    let (c, _n, _d) = after_answer(inbound(
        "Ingrid Berg <ingrid.berg@fjordkraft.no>",
        "Spørsmål om tilbudet",
        "new-thread@fjordkraft.no",
        None,
        "Hei Kari, jeg har et spørsmål om prisen.",
    ))
    .await;
    assert_eq!(c["state"], "replied");
}

#[tokio::test]
async fn a_colleague_at_the_prospects_company_counts() {
    let (c, _n, _d) = after_answer(inbound(
        "Per Olsen <per.olsen@fjordkraft.no>",
        "Tilbudet til Ingrid",
        "colleague@fjordkraft.no",
        None,
        "Hei, jeg overtar saken for Ingrid. Ring meg gjerne.",
    ))
    .await;
    assert_eq!(c["state"], "replied");
}

#[tokio::test]
async fn another_gmail_user_is_not_the_prospect() {
    let (_dovecot, nudge, mut client) = seller_world("").await;
    client
        .append(
            "Sent",
            &opener(
                "Ola Hansen <ola.hansen@gmail.com>",
                "Demo av plattformen",
                "b1@fjordsalg.no",
            )
            .render(),
            &[],
        )
        .await;
    nudge.sync(FIRST_PASS);
    client
        .append(
            "INBOX",
            &inbound(
                "Kari Hansen <kari.hansen@gmail.com>",
                "Hei",
                "other@gmail.com",
                None,
                "Hei! Lenge siden.",
            )
            .render(),
            &[],
        )
        .await;
    nudge.sync(SECOND_PASS);
    let c = nudge.conversation("Demo av plattformen").unwrap();
    assert_eq!(
        c["state"], "waiting",
        "a stranger at gmail.com is not Ola's colleague"
    );
}

#[tokio::test]
async fn an_out_of_office_is_not_a_reply_and_its_return_date_is_kept() {
    let mut ooo = inbound(
        "Ingrid Berg <ingrid.berg@fjordkraft.no>",
        "Automatisk svar: Tilbud på rammeavtale",
        "ooo@fjordkraft.no",
        Some("a1@fjordsalg.no"),
        "Jeg er på ferie og er tilbake mandag 7.12. Haster det, ring sentralbordet.",
    );
    ooo.extra = "Auto-Submitted: auto-replied\nX-Auto-Response-Suppress: All";
    let (c, nudge, _d) = after_answer(ooo).await;
    assert_eq!(c["state"], "waiting");
    assert_eq!(c["not_before"], "2026-12-07");
    let show =
        String::from_utf8_lossy(&nudge.run(&["show", &c["id"].to_string()]).stdout).into_owned();
    assert!(show.contains("auto_reply"), "logged in the history: {show}");
}

#[tokio::test]
async fn a_bounce_ends_the_conversation_and_suppresses_the_address() {
    let bounce = "From: Mail Delivery System <MAILER-DAEMON@mx.fjordsalg.no>\n\
To: kari@fjordsalg.no\n\
Subject: Undelivered Mail Returned to Sender\n\
Message-ID: <bounce1@mx.fjordsalg.no>\n\
Date: Mon, 16 Nov 2026 10:01:00 +0100\n\
Auto-Submitted: auto-replied\n\
MIME-Version: 1.0\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n\
\n\
--b1\n\
Content-Type: text/plain\n\
\n\
I'm sorry to have to inform you that your message could not be delivered.\n\
\n\
--b1\n\
Content-Type: message/delivery-status\n\
\n\
Reporting-MTA: dns; mx.fjordsalg.no\n\
\n\
Final-Recipient: rfc822; ingrid.berg@fjordkraft.no\n\
Action: failed\n\
Status: 5.1.1\n\
\n\
--b1\n\
Content-Type: text/rfc822-headers\n\
\n\
From: Kari Nordmann <kari@fjordsalg.no>\n\
To: Ingrid Berg <ingrid.berg@fjordkraft.no>\n\
Subject: Tilbud på rammeavtale\n\
Message-ID: <a1@fjordsalg.no>\n\
\n\
--b1--\n";
    let (_dovecot, nudge, mut client) = seller_world("").await;
    client
        .append(
            "Sent",
            &opener(
                "Ingrid Berg <ingrid.berg@fjordkraft.no>",
                "Tilbud på rammeavtale",
                "a1@fjordsalg.no",
            )
            .render(),
            &[],
        )
        .await;
    client.append("INBOX", bounce, &[]).await;
    nudge.sync(FIRST_PASS);
    let c = nudge.conversation("Tilbud på rammeavtale").unwrap();
    assert_eq!(c["state"], "bounced");
    let store = nudge.store().await;
    assert!(store
        .is_suppressed("ingrid.berg@fjordkraft.no")
        .await
        .unwrap());
    store.close().await;

    // The suppressed address is never tracked again.
    client
        .append(
            "Sent",
            &Message {
                date: "Tue, 17 Nov 2026 10:00:00 +0100",
                ..opener(
                    "ingrid.berg@fjordkraft.no",
                    "Nytt forsøk",
                    "a2@fjordsalg.no",
                )
            }
            .render(),
            &[],
        )
        .await;
    nudge.sync(SECOND_PASS);
    assert!(nudge.conversation("Nytt forsøk").is_none());
}

#[tokio::test]
async fn an_opt_out_ends_the_conversation_and_suppresses_the_sender() {
    let (c, nudge, _d) = after_answer(inbound(
        "Ingrid Berg <ingrid.berg@fjordkraft.no>",
        "SV: Tilbud på rammeavtale",
        "optout@fjordkraft.no",
        Some("a1@fjordsalg.no"),
        "Vennligst ikke kontakt meg igjen om dette.\n\nman. 16. nov. 2026 kl. 10:00 skrev Kari Nordmann <kari@fjordsalg.no>:\n> Hei!",
    ))
    .await;
    assert_eq!(c["state"], "opted_out");
    let store = nudge.store().await;
    assert!(store
        .is_suppressed("ingrid.berg@fjordkraft.no")
        .await
        .unwrap());
}

#[tokio::test]
async fn a_reply_that_only_quotes_unsubscribe_is_a_reply() {
    let (c, _n, _d) = after_answer(inbound(
        "Ingrid Berg <ingrid.berg@fjordkraft.no>",
        "SV: Tilbud på rammeavtale",
        "quote@fjordkraft.no",
        Some("a1@fjordsalg.no"),
        "Dette ser bra ut, send gjerne kontrakten.\n\n> Hei!\n> Vil du ikke ha flere e-poster, svar unsubscribe.",
    ))
    .await;
    assert_eq!(c["state"], "replied");
}

#[tokio::test]
async fn the_sellers_own_mail_is_never_a_reply() {
    let (_dovecot, nudge, mut client) = seller_world("").await;
    client
        .append(
            "Sent",
            &opener(
                "Ingrid Berg <ingrid.berg@fjordkraft.no>",
                "Tilbud på rammeavtale",
                "a1@fjordsalg.no",
            )
            .render(),
            &[],
        )
        .await;
    nudge.sync(FIRST_PASS);
    // A follow-up the seller wrote by hand, in Sent and (as a Bcc copy) in INBOX.
    let follow_up = Message {
        from: "Kari Nordmann <kari.nordmann@fjordsalg.no>",
        to: "Ingrid Berg <ingrid.berg@fjordkraft.no>",
        subject: "Re: Tilbud på rammeavtale",
        message_id: "a2@fjordsalg.no",
        in_reply_to: Some("a1@fjordsalg.no"),
        date: "Tue, 17 Nov 2026 09:00:00 +0100",
        body: "Hei igjen! Fikk du sett på tilbudet?",
        extra: "",
    }
    .render();
    client.append("Sent", &follow_up, &["\\Seen"]).await;
    client.append("INBOX", &follow_up, &[]).await;
    nudge.sync(SECOND_PASS);
    let c = nudge.conversation("Tilbud på rammeavtale").unwrap();
    assert_eq!(c["state"], "waiting");
    assert_eq!(
        c["step"], 0,
        "a hand-written touch restarts the wait, it does not advance"
    );
    assert_eq!(c["last_touch"], "2026-11-17T08:00:00Z");
}

#[tokio::test]
async fn lists_robots_and_old_openers_are_not_tracked() {
    let (_dovecot, nudge, mut client) = seller_world("").await;
    // A mailing-list thread: the list's post in INBOX, the seller's answer in Sent.
    let list_post = Message {
        extra:
            "List-Id: <salg.lists.example.org>\nList-Unsubscribe: <mailto:leave@lists.example.org>",
        date: "Mon, 16 Nov 2026 08:00:00 +0100",
        ..inbound(
            "Salgsforum <forum@lists.example.org>",
            "Beste CRM?",
            "list1@lists.example.org",
            None,
            "Hva bruker dere?",
        )
    };
    client.append("INBOX", &list_post.render(), &[]).await;
    client
        .append(
            "Sent",
            &Message {
                in_reply_to: Some("list1@lists.example.org"),
                ..opener(
                    "Salgsforum <forum@lists.example.org>",
                    "Re: Beste CRM?",
                    "a-list@fjordsalg.no",
                )
            }
            .render(),
            &[],
        )
        .await;
    // Mail to a robot address.
    client
        .append(
            "Sent",
            &opener(
                "noreply@leverandor.example.com",
                "Ordrebekreftelse 123",
                "a-robot@fjordsalg.no",
            )
            .render(),
            &[],
        )
        .await;
    // An opener older than lookback_days at first start.
    client
        .append(
            "Sent",
            &Message {
                date: "Mon, 19 Oct 2026 10:00:00 +0200",
                ..opener(
                    "Ingrid Berg <ingrid.berg@fjordkraft.no>",
                    "Gammel sak",
                    "a-old@fjordsalg.no",
                )
            }
            .render(),
            &[],
        )
        .await;
    // And one that is tracked, so the pass is known to have run.
    client
        .append(
            "Sent",
            &opener(
                "Anna Svensson <anna.svensson@nordichandel.se>",
                "Offert på licenser",
                "c1@fjordsalg.no",
            )
            .render(),
            &[],
        )
        .await;
    nudge.sync(FIRST_PASS);
    let subjects: Vec<String> = nudge
        .status()
        .iter()
        .map(|c| c["subject"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(subjects, vec!["Offert på licenser"]);
}

#[tokio::test]
async fn a_changed_uidvalidity_causes_no_duplicates() {
    let (_dovecot, nudge, mut client) = seller_world("").await;
    let opener = opener(
        "Ingrid Berg <ingrid.berg@fjordkraft.no>",
        "Tilbud på rammeavtale",
        "a1@fjordsalg.no",
    )
    .render();
    client.append("Sent", &opener, &[]).await;
    nudge.sync(FIRST_PASS);
    let store = nudge.store().await;
    let before = store.message_count().await.unwrap();
    store.close().await;

    client.recreate("Sent").await;
    client.append("Sent", &opener, &[]).await;
    let output = nudge.sync(SECOND_PASS);
    assert!(
        output.contains("sent 1"),
        "the folder was rescanned: {output}"
    );
    assert_eq!(nudge.status().len(), 1, "one conversation, not two");
    let store = nudge.store().await;
    assert_eq!(
        store.message_count().await.unwrap(),
        before,
        "no duplicate message rows"
    );
}

#[tokio::test]
async fn a_second_sync_without_changes_fetches_no_headers() {
    let (_dovecot, nudge, mut client) = seller_world("").await;
    for i in 0..60 {
        let id = format!("m{i}@example.net");
        let subject = format!("Nyhetsbrev {i}");
        client
            .append(
                "INBOX",
                &inbound("Someone <someone@example.net>", &subject, &id, None, "Hei").render(),
                &[],
            )
            .await;
    }
    client
        .append(
            "Sent",
            &opener(
                "Ingrid Berg <ingrid.berg@fjordkraft.no>",
                "Tilbud",
                "a1@fjordsalg.no",
            )
            .render(),
            &[],
        )
        .await;
    let first = nudge.sync(FIRST_PASS);
    assert!(first.contains("headers fetched: 61"), "{first}");
    let second = nudge.sync(SECOND_PASS);
    assert!(second.contains("headers fetched: 0,"), "{second}");
    assert!(second.contains("texts fetched: 0)"), "{second}");
}

#[tokio::test]
async fn flagged_mode_tracks_only_what_the_seller_flagged_in_sent() {
    let (_dovecot, nudge, mut client) = seller_world("[tracking]\nmode = \"flagged\"\n").await;
    client
        .append(
            "Sent",
            &opener(
                "Ingrid Berg <ingrid.berg@fjordkraft.no>",
                "Flagget tilbud",
                "f1@fjordsalg.no",
            )
            .render(),
            &["\\Seen", "\\Flagged"],
        )
        .await;
    client
        .append(
            "Sent",
            &opener(
                "Anna Svensson <anna.svensson@nordichandel.se>",
                "Uflagget offert",
                "f2@fjordsalg.no",
            )
            .render(),
            &["\\Seen"],
        )
        .await;
    nudge.sync(FIRST_PASS);
    assert!(nudge.conversation("Flagget tilbud").is_some());
    assert!(nudge.conversation("Uflagget offert").is_none());

    // Flagging it later, in the mail client, starts following it at the next pass.
    let sent = client.messages("Sent").await;
    let uid = sent
        .iter()
        .find(|m| m.text().contains("Uflagget offert"))
        .expect("the unflagged opener")
        .uid;
    client.add_flag("Sent", uid, "\\Flagged").await;
    nudge.sync(SECOND_PASS);
    assert_eq!(
        nudge
            .conversation("Uflagget offert")
            .expect("tracked once flagged")["state"],
        "waiting"
    );
}

/// A first sync of old mail records what changed a conversation's state, not every message
/// of its past: a prospect writing again before nudge started leaves no history row; once
/// nudge runs, it does.
#[tokio::test]
async fn a_first_sync_writes_history_for_changes_of_state_only() {
    let (_dovecot, nudge, mut client) = seller_world("").await;
    client
        .append(
            "Sent",
            &opener(
                "Ingrid Berg <ingrid.berg@fjordkraft.no>",
                "Tilbud på rammeavtale",
                "a1@fjordsalg.no",
            )
            .render(),
            &["\\Seen"],
        )
        .await;
    for (id, date) in [
        ("r1@fjordkraft.no", "Tue, 17 Nov 2026 14:30:00 +0100"),
        ("r2@fjordkraft.no", "Tue, 17 Nov 2026 15:30:00 +0100"),
    ] {
        let mut reply = inbound(
            "Ingrid Berg <ingrid.berg@fjordkraft.no>",
            "Re: Tilbud på rammeavtale",
            id,
            Some("a1@fjordsalg.no"),
            "Takk, vi ser på det.",
        );
        reply.date = date;
        client.append("INBOX", &reply.render(), &[]).await;
    }
    nudge.sync(SECOND_PASS);
    let c = nudge.conversation("Tilbud på rammeavtale").unwrap();
    assert_eq!(c["state"], "replied");
    let id = c["id"].to_string();
    let show = support::nudge::ok(nudge.run(&["show", &id]));
    assert!(show.contains("replied in the thread"), "{show}");
    assert!(!show.contains("wrote again"), "{show}");
    let mut reply = inbound(
        "Ingrid Berg <ingrid.berg@fjordkraft.no>",
        "Re: Tilbud på rammeavtale",
        "r3@fjordkraft.no",
        Some("a1@fjordsalg.no"),
        "En ting til: kan dere levere i januar?",
    );
    reply.date = "Wed, 18 Nov 2026 10:00:00 +0100";
    client.append("INBOX", &reply.render(), &[]).await;
    nudge.sync("2026-11-18T11:00:00+01:00");
    let show = support::nudge::ok(nudge.run(&["show", &id]));
    assert_eq!(show.matches("wrote again").count(), 1, "{show}");
    client.logout().await;
}
