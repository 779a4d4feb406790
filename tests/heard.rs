//! What the prospect said, end to end through the binary against a real Dovecot (and SMTP for
//! the summary): "try us again after the summer" brings a check-back on the first business day
//! of August in the prospect's language; "she has left, contact Per" ends the conversation,
//! withdraws its draft and puts Per in the summary; `nudge done` takes a conversation off
//! "waiting on you".

mod support;

use mail_parser::MessageParser;
use support::mailclient::{MailClient, Message};
use support::nudge::{smtp_section, Nudge, PASSWORD, SELLER};
use support::{SmtpSecurity, SmtpServer};

/// The seller's opener, from Sent.
fn opener(to: &str, subject: &str, id: &str, date: &str, body: &str) -> String {
    Message::new(SELLER_FROM, to, subject, id, None, date, body).render()
}

/// The prospect's answer to `parent`, with `extra` header lines.
fn answer(
    from: &str,
    subject: &str,
    id: &str,
    parent: &str,
    date: &str,
    body: &str,
    extra: &str,
) -> String {
    Message {
        extra,
        ..Message::new(from, SELLER_FROM, subject, id, Some(parent), date, body)
    }
    .render()
}

const SELLER_FROM: &str = "Kari Nordmann <kari@fjordsalg.no>";

fn drafts_text(drafts: &[support::mailclient::FolderMessage]) -> Vec<String> {
    drafts.iter().map(|d| d.text()).collect()
}

#[tokio::test]
async fn a_deferral_in_june_brings_a_check_back_on_the_first_business_day_of_august() {
    let (_dovecot, nudge, mut client) = support::nudge::seller_world("").await;
    // Two prospects, one writing Norwegian and one English; both ask to wait for the summer.
    client
        .append(
            "Sent",
            &opener(
                "Ingrid Berg <ingrid.berg@fjordkraft.no>",
                "Tilbud på rammeavtale",
                "a1@fjordsalg.no",
                "Mon, 8 Jun 2026 10:00:00 +0200",
                "Hei Ingrid,\n\ntakk for praten i går. Her er tilbudet på rammeavtalen vi \
                 snakket om, med priser for hele året.\n\nVennlig hilsen\nKari",
            ),
            &["\\Seen"],
        )
        .await;
    client
        .append(
            "Sent",
            &opener(
                "Tom Hughes <tom@northwind.example.com>",
                "Proposal for your site team",
                "a2@fjordsalg.no",
                "Mon, 8 Jun 2026 10:30:00 +0200",
                "Hi Tom,\n\nthanks for the call yesterday. Here is the proposal for your \
                 site team that we talked about, with prices for the whole year.\n\nBest \
                 regards\nKari",
            ),
            &["\\Seen"],
        )
        .await;
    nudge.sync("2026-06-08T12:00:00+02:00");
    assert_eq!(nudge.status().len(), 2);
    client
        .append(
            "INBOX",
            &answer(
                "Ingrid Berg <ingrid.berg@fjordkraft.no>",
                "Re: Tilbud på rammeavtale",
                "r1@fjordkraft.no",
                "a1@fjordsalg.no",
                "Wed, 10 Jun 2026 14:30:00 +0200",
                "Hei Kari,\n\ntakk for tilbudet. Vi har ikke kapasitet til dette nå, men ta \
                 gjerne kontakt igjen etter ferien.\n\nHilsen Ingrid\n\n\
                 > Hei Ingrid,\n> takk for praten i går.",
                "",
            ),
            &[],
        )
        .await;
    client
        .append(
            "INBOX",
            &answer(
                "Tom Hughes <tom@northwind.example.com>",
                "Re: Proposal for your site team",
                "r2@northwind.example.com",
                "a2@fjordsalg.no",
                "Wed, 10 Jun 2026 15:00:00 +0200",
                "Hi Kari,\n\nthanks. Not right now, we are in the middle of a reorganisation. \
                 Please try us again after the summer.\n\nTom",
                "",
            ),
            &[],
        )
        .await;
    nudge.sync("2026-06-11T09:00:00+02:00");
    for subject in ["Tilbud på rammeavtale", "Proposal for your site team"] {
        let c = nudge
            .conversation(subject)
            .unwrap_or_else(|| panic!("{subject} tracked: {:?}", nudge.status()));
        assert_eq!(c["state"], "deferred", "{subject}: {c}");
        let due = c["next_due"].as_str().expect("a due time");
        assert!(due.starts_with("2026-08-03"), "{subject}: due {due}");
        let show = support::nudge::ok(nudge.run(&["show", &c["id"].to_string()]));
        assert!(
            show.contains("asked to hear back from 2026-08-01"),
            "{show}"
        );
    }
    // Nothing before August: the cadence of follow-ups does not run meanwhile.
    nudge.sync("2026-06-22T09:00:00+02:00");
    nudge.sync("2026-07-31T09:00:00+02:00");
    assert!(client.messages("Drafts").await.is_empty());
    // Monday 3 August, the first business day of August: one check-back each.
    let out = nudge.sync("2026-08-03T09:00:00+02:00");
    assert_eq!(
        out.matches("the check-back the prospect asked for").count(),
        2,
        "{out}"
    );
    assert!(
        out.contains("in Norwegian") && out.contains("in English"),
        "{out}"
    );
    let drafts = client.messages("Drafts").await;
    assert_eq!(drafts.len(), 2);
    let texts = drafts_text(&drafts);
    let to = |address: &str| {
        texts
            .iter()
            .find(|t| {
                support::mailclient::header_value(t, "To").is_some_and(|to| to.contains(address))
            })
            .unwrap_or_else(|| panic!("a draft to {address}: {texts:?}"))
    };
    let (to_ingrid, to_tom) = (
        to("ingrid.berg@fjordkraft.no"),
        to("tom@northwind.example.com"),
    );
    for (draft, subject) in [(to_ingrid, "Tilbud"), (to_tom, "Proposal")] {
        assert!(
            draft.contains(&format!("Subject: Re: {subject}")),
            "{draft}"
        );
    }
    for subject in ["Tilbud på rammeavtale", "Proposal for your site team"] {
        assert_eq!(nudge.conversation(subject).unwrap()["state"], "drafted");
    }
    // The seller sends the check-back: the cadence goes on after it.
    let ingrid = drafts
        .iter()
        .find(|d| d.text().contains("ingrid.berg@fjordkraft.no"))
        .unwrap();
    client
        .send_draft("Drafts", "Sent", ingrid, "Tue, 4 Aug 2026 08:00:00 +0200")
        .await;
    nudge.sync("2026-08-04T09:00:00+02:00");
    let c = nudge.conversation("Tilbud på rammeavtale").unwrap();
    assert_eq!(
        (c["state"].as_str(), c["step"].as_u64()),
        (Some("waiting"), Some(1))
    );
    client.logout().await;
}

#[tokio::test]
async fn a_departure_withdraws_the_draft_and_the_summary_names_the_replacement() {
    let dovecot = support::nudge::seller_dovecot();
    let smtp = SmtpServer::start(SmtpSecurity::StartTls, SELLER, PASSWORD, dovecot.ca());
    let nudge = Nudge::new(&dovecot, &smtp_section(&dovecot, &smtp));
    let mut client = MailClient::connect(&dovecot, SELLER, PASSWORD).await;
    client
        .append(
            "Sent",
            &opener(
                "Ingrid Berg <ingrid.berg@fjordkraft.no>",
                "Tilbud på rammeavtale",
                "a1@fjordsalg.no",
                "Mon, 16 Nov 2026 10:00:00 +0100",
                "Hei Ingrid,\n\nher er tilbudet vi snakket om.\n\nHilsen Kari",
            ),
            &["\\Seen"],
        )
        .await;
    nudge.sync("2026-11-16T12:00:00+01:00");
    // Follow-up 1 is due three business days later.
    nudge.sync("2026-11-19T09:00:00+01:00");
    assert_eq!(client.messages("Drafts").await.len(), 1, "a draft waits");
    client
        .append(
            "INBOX",
            &answer(
                "Ingrid Berg <ingrid.berg@fjordkraft.no>",
                "Automatisk svar: Tilbud på rammeavtale",
                "ooo1@fjordkraft.no",
                "a1@fjordsalg.no",
                "Thu, 19 Nov 2026 10:00:00 +0100",
                "Takk for e-posten din. Ingrid Berg har sluttet i Fjordkraft AS. \
                 Ta gjerne kontakt med Per Olsen på per.olsen@fjordkraft.no i stedet.\n\n\
                 Med vennlig hilsen\nFjordkraft AS",
                "Auto-Submitted: auto-replied\r\n",
            ),
            &[],
        )
        .await;
    nudge.sync("2026-11-19T11:00:00+01:00");
    let c = nudge.conversation("Tilbud på rammeavtale").unwrap();
    assert_eq!(c["state"], "departed", "{c}");
    assert!(
        client.messages("Drafts").await.is_empty(),
        "the draft is withdrawn"
    );
    let show = support::nudge::ok(nudge.run(&["show", &c["id"].to_string()]));
    assert!(show.contains("per.olsen@fjordkraft.no"), "{show}");
    // Per is suggested, never written to.
    nudge.sync("2026-11-20T09:00:00+01:00");
    assert!(client.messages("Drafts").await.is_empty());
    // Monday's summary, as the SMTP server received it, names him.
    nudge.sync("2026-11-23T07:30:00+01:00");
    let received = smtp.received();
    assert_eq!(received.len(), 1);
    let mail = MessageParser::default().parse(&received[0].data).unwrap();
    let text = mail.body_text(0).unwrap().to_string();
    assert!(text.contains("per.olsen@fjordkraft.no"), "{text}");
    let html = mail.body_html(0).unwrap().to_string();
    assert!(html.contains("per.olsen@fjordkraft.no"), "{html}");
    client.logout().await;
}

#[tokio::test]
async fn done_takes_a_conversation_off_waiting_on_you() {
    let (_dovecot, nudge, mut client) = support::nudge::seller_world("").await;
    for (i, (to, subject)) in [
        (
            "Ingrid Berg <ingrid.berg@fjordkraft.no>",
            "Tilbud på rammeavtale",
        ),
        ("Per Olsen <per@havbruk.no>", "Tilbud på fôrsensorer"),
        ("Liv Dahl <liv@tromsosjomat.no>", "Tilbud på kjølelager"),
    ]
    .into_iter()
    .enumerate()
    {
        client
            .append(
                "Sent",
                &opener(
                    to,
                    subject,
                    &format!("a{i}@fjordsalg.no"),
                    "Mon, 9 Nov 2026 10:00:00 +0100",
                    "Hei,\n\nher er tilbudet vi snakket om.\n\nHilsen Kari",
                ),
                &["\\Seen"],
            )
            .await;
    }
    nudge.sync("2026-11-09T12:00:00+01:00");
    let replies = [
        (
            "Ingrid Berg <ingrid.berg@fjordkraft.no>",
            "Re: Tilbud på rammeavtale",
            "a0@fjordsalg.no",
            "Hei Kari, kan du sende meg prislisten for neste år?\n\nIngrid",
        ),
        (
            "Per Olsen <per@havbruk.no>",
            "Re: Tilbud på fôrsensorer",
            "a1@fjordsalg.no",
            "Perfekt, da sees vi torsdag!\n\nPer",
        ),
        (
            "Liv Dahl <liv@tromsosjomat.no>",
            "Re: Tilbud på kjølelager",
            "a2@fjordsalg.no",
            "Hei Kari, takk. Ikke akkurat nå, vi har nok med andre ting.\n\nLiv",
        ),
    ];
    for (i, (from, subject, parent, body)) in replies.into_iter().enumerate() {
        client
            .append(
                "INBOX",
                &answer(
                    from,
                    subject,
                    &format!("r{i}@example.net"),
                    parent,
                    "Tue, 10 Nov 2026 14:30:00 +0100",
                    body,
                    "",
                ),
                &[],
            )
            .await;
    }
    nudge.sync("2026-11-11T09:00:00+01:00");
    let preview = |nudge: &Nudge| {
        support::nudge::ok(nudge.run(&[
            "summary",
            "--preview",
            "--now",
            "2026-11-16T09:00:00+01:00",
        ]))
    };
    let before = preview(&nudge);
    // A reply that asks something comes first and says so; "see you Thursday" asks nothing
    // and comes after it (still listed: the prospect wrote last).
    let waiting = section(&before, WAITING_ON_YOU);
    let asks = waiting
        .find("Tilbud på rammeavtale")
        .expect("asks for a price list");
    let thursday = waiting.find("fôrsensorer").expect("still listed");
    assert!(asks < thursday, "{waiting}");
    assert_eq!(waiting.matches("spør deg om noe").count(), 1, "{waiting}");
    let not_now = section(&before, SAID_NOT_NOW);
    assert!(not_now.contains("Tilbud på kjølelager"), "{before}");
    let id = nudge.conversation("Tilbud på rammeavtale").unwrap()["id"].to_string();
    let out = support::nudge::ok(nudge.run(&["done", &id]));
    assert!(out.contains("done"), "{out}");
    assert_eq!(
        nudge.conversation("Tilbud på rammeavtale").unwrap()["state"],
        "done"
    );
    let after = preview(&nudge);
    assert!(
        !section(&after, WAITING_ON_YOU).contains("Tilbud på rammeavtale"),
        "{after}"
    );
    client.logout().await;
}

/// The headings of the Norwegian summary (the scenarios' seller writes Norwegian).
const WAITING_ON_YOU: &str = "DE VENTER PÅ SVAR FRA DEG";
const SAID_NOT_NOW: &str = "SA «IKKE NÅ»";

/// The lines of the summary's text part from the heading `title` (any language's heading
/// starting with it, case-insensitive) to the next heading (a line in capitals).
fn section(text: &str, title: &str) -> String {
    let lower = title.to_lowercase();
    let mut lines = text
        .lines()
        .skip_while(|l| !l.to_lowercase().starts_with(&lower));
    let mut out = String::new();
    if let Some(first) = lines.next() {
        out.push_str(first);
        out.push('\n');
    }
    let heading = |l: &str| !l.trim().is_empty() && !l.starts_with(' ') && l.to_uppercase() == l;
    for line in lines.take_while(|l| !heading(l)) {
        out.push_str(line);
        out.push('\n');
    }
    out
}
