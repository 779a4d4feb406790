//! The patient cadence end to end: the `nudge` binary runs `sync --now` against a real Dovecot
//! through simulated weeks, while the test acts as the seller's mail client (sending a draft =
//! a new Message-ID, X- headers dropped, a copy in Sent, the draft removed; editing = a
//! replacement draft with a new Message-ID; dismissing = deleting it).

mod support;

use mail_parser::MessageParser;
use support::mailclient::{FolderMessage, MailClient, Message};
use support::nudge::{seller_dovecot, smtp_section, Nudge, PASSWORD, SELLER};
use support::{Dovecot, SmtpSecurity, SmtpServer};

const OPENER_ID: &str = "a1@fjordsalg.no";

/// Kari's opener to Ingrid, in Norwegian, Monday 16 November 2026 at 10:00 Oslo time.
fn opener() -> String {
    Message {
        from: "Kari Nordmann <kari@fjordsalg.no>",
        to: "Ingrid Berg <ingrid.berg@fjordkraft.no>",
        subject: "Tilbud på rammeavtale",
        message_id: OPENER_ID,
        in_reply_to: None,
        date: "Mon, 16 Nov 2026 10:00:00 +0100",
        body:
            "Hei Ingrid,\n\nTakk for en hyggelig prat på messen i forrige uke. Her er tilbudet på \
               rammeavtalen vi snakket om, med priser for tre år.\n\nVennlig hilsen\nKari",
        extra: "",
    }
    .render()
}

fn reply(date: &str, parent: &str) -> String {
    Message {
        from: "Ingrid Berg <ingrid.berg@fjordkraft.no>",
        to: "Kari Nordmann <kari@fjordsalg.no>",
        subject: "SV: Tilbud på rammeavtale",
        message_id: "r1@fjordkraft.no",
        in_reply_to: Some(parent),
        date,
        body: "Hei Kari, takk! La oss ta en prat på torsdag.",
        extra: "",
    }
    .render()
}

struct World {
    /// Kept alive for the test's length.
    _dovecot: Dovecot,
    /// A real SMTP server for the weekly summaries these weeks bring: it must only ever
    /// receive mail addressed to the seller.
    smtp: SmtpServer,
    nudge: Nudge,
    client: MailClient,
}

impl World {
    async fn new(extra_config: &str) -> World {
        let dovecot = seller_dovecot();
        let smtp = SmtpServer::start(SmtpSecurity::StartTls, SELLER, PASSWORD, dovecot.ca());
        let smtp_section = smtp_section(&dovecot, &smtp);
        let nudge = Nudge::new(&dovecot, &format!("{smtp_section}{extra_config}"));
        let mut client = MailClient::connect(&dovecot, SELLER, PASSWORD).await;
        client.append("Sent", &opener(), &["\\Seen"]).await;
        World {
            _dovecot: dovecot,
            smtp,
            nudge,
            client,
        }
    }

    async fn drafts(&mut self) -> Vec<FolderMessage> {
        self.client.messages("Drafts").await
    }

    fn conversation(&self) -> serde_json::Value {
        self.nudge
            .conversation("Tilbud på rammeavtale")
            .expect("tracked")
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        for mail in self.smtp.received() {
            assert_eq!(
                mail.rcpt_to,
                vec![SELLER.to_string()],
                "nudge mailed someone else"
            );
        }
    }
}

fn header(message: &FolderMessage, name: &str) -> String {
    message.header(name).unwrap_or_default()
}

#[tokio::test]
async fn a_draft_appears_on_the_due_day_threaded_and_in_the_openers_language() {
    let mut w = World::new("").await;
    w.nudge.sync("2026-11-16T12:00:00+01:00");
    assert_eq!(
        w.conversation()["next_due"],
        "2026-11-19T07:30:00Z",
        "3 business days at 08:30"
    );
    w.nudge.sync("2026-11-18T23:59:00+01:00");
    assert!(w.drafts().await.is_empty(), "no draft the day before");
    assert_eq!(w.conversation()["state"], "waiting");

    let out = w.nudge.sync("2026-11-19T08:30:00+01:00");
    assert!(
        out.contains("drafted follow-up 1 to Ingrid Berg in Norwegian"),
        "{out}"
    );
    let drafts = w.drafts().await;
    assert_eq!(drafts.len(), 1);
    let draft = &drafts[0];
    assert!(
        draft.flags.iter().any(|f| f.contains("Draft")),
        "{:?}",
        draft.flags
    );
    assert!(
        draft.flags.iter().any(|f| f.contains("Seen")),
        "{:?}",
        draft.flags
    );
    let parsed = MessageParser::default()
        .parse(&draft.raw)
        .expect("the draft parses");
    assert_eq!(parsed.subject(), Some("Re: Tilbud på rammeavtale"));
    assert_eq!(parsed.in_reply_to().as_text(), Some(OPENER_ID));
    assert_eq!(header(draft, "References"), format!("<{OPENER_ID}>"));
    assert_eq!(
        parsed.from().unwrap().first().unwrap().address(),
        Some(SELLER)
    );
    let to: Vec<_> = parsed
        .to()
        .unwrap()
        .iter()
        .filter_map(|a| a.address())
        .collect();
    assert_eq!(to, vec!["ingrid.berg@fjordkraft.no"]);
    assert!(parsed.message_id().unwrap().ends_with("@fjordsalg.no"));
    assert!(
        parsed.header("Auto-Submitted").is_none(),
        "the seller sends it as their own"
    );
    let body = parsed.body_text(0).unwrap();
    assert!(body.contains("Ingrid"), "{body}");
    assert!(
        body.contains("skrev Kari Nordmann <kari@fjordsalg.no>:"),
        "Norwegian quote: {body}"
    );
    assert!(body.contains("> Takk for en hyggelig prat"), "{body}");
    let state = w.conversation();
    assert_eq!(state["state"], "drafted");
    assert_eq!(state["draft"], true);
}

#[tokio::test]
async fn sent_drafts_advance_the_cadence_to_close_the_loop_and_let_go() {
    let mut w = World::new("").await;
    w.nudge.sync("2026-11-19T08:30:00+01:00");
    let draft = w.drafts().await.remove(0);
    w.client
        .send_draft("Drafts", "Sent", &draft, "Thu, 19 Nov 2026 10:00:00 +0100")
        .await;
    w.nudge.sync("2026-11-19T11:00:00+01:00");
    let c = w.conversation();
    assert_eq!(
        (c["state"].as_str(), c["step"].as_u64()),
        (Some("waiting"), Some(1))
    );
    assert_eq!(
        c["next_due"], "2026-11-30T07:30:00Z",
        "7 business days after the send"
    );
    assert!(w.drafts().await.is_empty());

    w.nudge.sync("2026-11-30T08:30:00+01:00");
    let draft = w.drafts().await.remove(0);
    w.client
        .send_draft("Drafts", "Sent", &draft, "Mon, 30 Nov 2026 09:00:00 +0100")
        .await;
    w.nudge.sync("2026-11-30T10:00:00+01:00");
    assert_eq!(w.conversation()["next_due"], "2026-12-14T07:30:00Z");

    let out = w.nudge.sync("2026-12-14T08:30:00+01:00");
    assert!(out.contains("close-the-loop"), "{out}");
    let draft = w.drafts().await.remove(0);
    w.client
        .send_draft("Drafts", "Sent", &draft, "Mon, 14 Dec 2026 09:00:00 +0100")
        .await;
    w.nudge.sync("2026-12-14T10:00:00+01:00");
    let c = w.conversation();
    assert_eq!(
        (c["state"].as_str(), c["step"].as_u64()),
        (Some("closing"), Some(3))
    );
    // 10 business days in Norway: 25 and 26 December are holidays.
    let show = w.nudge.run(&["show", &c["id"].to_string()]);
    assert_eq!(
        c["next_due"],
        "2026-12-29T07:30:00Z",
        "{}",
        String::from_utf8_lossy(&show.stdout)
    );
    w.nudge.sync("2026-12-28T12:00:00+01:00");
    assert_eq!(w.conversation()["state"], "closing");
    w.nudge.sync("2026-12-29T09:00:00+01:00");
    assert_eq!(w.conversation()["state"], "let_go");
    // Passes ran in weeks 47 (the first: no summary), 49, 51 and 53: one summary in each of
    // the last three, to the seller alone (checked on drop).
    assert_eq!(w.smtp.received().len(), 3);
    assert!(w.drafts().await.is_empty());

    // Ingrid answers in January after all: a reply that came back after close.
    w.client
        .append(
            "INBOX",
            &reply("Tue, 5 Jan 2027 10:00:00 +0100", OPENER_ID),
            &[],
        )
        .await;
    w.nudge.sync("2027-01-05T11:00:00+01:00");
    let c = w.conversation();
    assert_eq!(c["state"], "replied");
    let show =
        String::from_utf8_lossy(&w.nudge.run(&["show", &c["id"].to_string()]).stdout).into_owned();
    assert!(show.contains("came back after close"), "{show}");
}

#[tokio::test]
async fn a_language_set_for_the_domain_wins_over_detection() {
    // The opener is in Norwegian, but Fjordkraft's people read Swedish here.
    let mut w = World::new("[languages]\n\"fjordkraft.no\" = \"sv\"\n").await;
    w.nudge.sync("2026-11-19T08:30:00+01:00");
    let draft = w.drafts().await.remove(0);
    let parsed = MessageParser::default().parse(&draft.raw).unwrap();
    let body = parsed.body_text(0).unwrap();
    assert!(body.contains("Vänliga hälsningar"), "{body}");
    assert!(
        body.contains("Den mån 16 nov. 2026 kl 10:00 skrev"),
        "{body}"
    );
}

#[tokio::test]
async fn a_reply_while_a_draft_waits_withdraws_it() {
    let mut w = World::new("").await;
    w.nudge.sync("2026-11-19T08:30:00+01:00");
    assert_eq!(w.drafts().await.len(), 1);
    w.client
        .append(
            "INBOX",
            &reply("Thu, 19 Nov 2026 09:10:00 +0100", OPENER_ID),
            &[],
        )
        .await;
    w.nudge.sync("2026-11-19T09:15:00+01:00");
    assert!(w.drafts().await.is_empty(), "the draft is gone from Drafts");
    assert_eq!(w.client.messages("Trash").await.len(), 1, "moved to Trash");
    assert_eq!(w.conversation()["state"], "replied");
}

#[tokio::test]
async fn an_edited_draft_stays_pending_and_a_deleted_one_stops_the_conversation() {
    let mut w = World::new("").await;
    w.nudge.sync("2026-11-19T08:30:00+01:00");
    let draft = w.drafts().await.remove(0);
    w.client
        .edit_draft("Drafts", &draft, "Jeg legger ved referansen fra Statkraft.")
        .await;
    w.nudge.sync("2026-11-19T12:00:00+01:00");
    assert_eq!(
        w.conversation()["state"],
        "drafted",
        "an edit is not a dismissal"
    );
    let drafts = w.drafts().await;
    assert_eq!(drafts.len(), 1, "the seller's edit stays");
    assert!(drafts[0].text().contains("Statkraft"));

    w.client.delete("Drafts", drafts[0].uid).await;
    w.nudge.sync("2026-11-19T15:00:00+01:00");
    let c = w.conversation();
    assert_eq!(c["state"], "stopped");
    let show =
        String::from_utf8_lossy(&w.nudge.run(&["show", &c["id"].to_string()]).stdout).into_owned();
    assert!(show.contains("dismissed"), "{show}");
}

#[tokio::test]
async fn on_dismiss_skip_moves_to_the_next_step() {
    let mut w = World::new("[cadence]\non_dismiss = \"skip\"\n").await;
    w.nudge.sync("2026-11-19T08:30:00+01:00");
    let draft = w.drafts().await.remove(0);
    w.client.delete("Drafts", draft.uid).await;
    w.nudge.sync("2026-11-19T15:00:00+01:00");
    let c = w.conversation();
    assert_eq!(
        (c["state"].as_str(), c["step"].as_u64()),
        (Some("waiting"), Some(1))
    );
    assert_eq!(
        c["next_due"], "2026-11-30T07:30:00Z",
        "7 business days from the dismissal"
    );
}

#[tokio::test]
async fn the_sellers_own_follow_up_counts_and_withdraws_the_draft() {
    let mut w = World::new("").await;
    w.nudge.sync("2026-11-19T08:30:00+01:00");
    let own = Message {
        from: "Kari Nordmann <kari@fjordsalg.no>",
        to: "Ingrid Berg <ingrid.berg@fjordkraft.no>",
        subject: "Re: Tilbud på rammeavtale",
        message_id: "own@fjordsalg.no",
        in_reply_to: Some(OPENER_ID),
        date: "Thu, 19 Nov 2026 09:00:00 +0100",
        body: "Hei igjen Ingrid, jeg glemte vedlegget. Her er det!",
        extra: "",
    };
    w.client.append("Sent", &own.render(), &["\\Seen"]).await;
    w.nudge.sync("2026-11-19T09:30:00+01:00");
    assert!(w.drafts().await.is_empty(), "nudge's draft is withdrawn");
    let c = w.conversation();
    assert_eq!(
        (c["state"].as_str(), c["step"].as_u64()),
        (Some("waiting"), Some(1))
    );
    assert_eq!(c["last_touch"], "2026-11-19T08:00:00Z");
}

#[tokio::test]
async fn an_out_of_office_return_date_moves_the_draft() {
    let mut w = World::new("").await;
    let ooo = Message {
        from: "Ingrid Berg <ingrid.berg@fjordkraft.no>",
        to: "Kari Nordmann <kari@fjordsalg.no>",
        subject: "Automatisk svar: Tilbud på rammeavtale",
        message_id: "ooo@fjordkraft.no",
        in_reply_to: Some(OPENER_ID),
        date: "Mon, 16 Nov 2026 10:00:05 +0100",
        body: "Jeg er på ferie og er tilbake mandag 30.11. Haster det, ring sentralbordet.",
        extra: "Auto-Submitted: auto-replied",
    };
    w.client.append("INBOX", &ooo.render(), &[]).await;
    w.nudge.sync("2026-11-19T08:30:00+01:00");
    assert!(w.drafts().await.is_empty(), "not while Ingrid is away");
    assert_eq!(
        w.conversation()["next_due"],
        "2026-12-01T07:30:00Z",
        "first business day after 30 Nov"
    );
    w.nudge.sync("2026-11-30T12:00:00+01:00");
    assert!(w.drafts().await.is_empty());
    w.nudge.sync("2026-12-01T08:30:00+01:00");
    assert_eq!(w.drafts().await.len(), 1);
}

#[tokio::test]
async fn exactly_one_draft_across_repeated_passes_and_a_crash_after_append() {
    let mut w = World::new("").await;
    let now = "2026-11-19T08:30:00+01:00";
    w.nudge.sync(now);
    w.nudge.sync(now);
    assert_eq!(w.drafts().await.len(), 1, "two passes at the same time");

    // A second conversation, and a process killed right after the APPEND.
    let second = Message {
        from: "Kari Nordmann <kari@fjordsalg.no>",
        to: "Anna Svensson <anna.svensson@nordichandel.se>",
        subject: "Offert på licenser",
        message_id: "c1@fjordsalg.no",
        in_reply_to: None,
        date: "Mon, 16 Nov 2026 11:00:00 +0100",
        body: "Hej Anna, här kommer offerten på licenserna som vi pratade om.",
        extra: "",
    };
    w.client.append("Sent", &second.render(), &["\\Seen"]).await;
    let crashed = w.nudge.run_with_env(
        &["sync", "--now", "2026-11-19T09:00:00+01:00"],
        &[("NUDGE_FAULT_POINT", "after-append")],
    );
    assert!(
        !crashed.status.success(),
        "the fault point stops the process"
    );
    assert_eq!(w.drafts().await.len(), 2, "the APPEND happened");
    w.nudge.sync("2026-11-19T09:05:00+01:00");
    w.nudge.sync("2026-11-19T09:10:00+01:00");
    assert_eq!(
        w.drafts().await.len(),
        2,
        "no second draft for the crashed one"
    );
    let anna = w.nudge.conversation("Offert på licenser").unwrap();
    assert_eq!(anna["state"], "drafted");
}

#[tokio::test]
async fn a_withdrawal_never_expunges_the_sellers_deleted_messages() {
    let mut w = World::new("").await;
    // The seller's own half-deleted draft, flagged \Deleted but not expunged.
    let mine = Message {
        from: "Kari Nordmann <kari@fjordsalg.no>",
        to: "ola@example.org",
        subject: "Notat til meg selv",
        message_id: "note@fjordsalg.no",
        in_reply_to: None,
        date: "Mon, 16 Nov 2026 08:00:00 +0100",
        body: "Husk å ringe Ola.",
        extra: "",
    };
    w.client
        .append("Drafts", &mine.render(), &["\\Draft", "\\Deleted"])
        .await;
    w.nudge.sync("2026-11-19T08:30:00+01:00");
    assert_eq!(w.drafts().await.len(), 2);
    w.client
        .append(
            "INBOX",
            &reply("Thu, 19 Nov 2026 09:10:00 +0100", OPENER_ID),
            &[],
        )
        .await;
    w.nudge.sync("2026-11-19T09:15:00+01:00");
    let left = w.drafts().await;
    assert_eq!(left.len(), 1, "only nudge's draft was withdrawn");
    assert!(left[0].text().contains("Notat til meg selv"));
    assert!(
        left[0].flags.iter().any(|f| f.contains("Deleted")),
        "still flagged, not expunged"
    );
}

#[tokio::test]
async fn a_dry_run_lists_drafts_and_changes_nothing_on_the_server() {
    let mut w = World::new("").await;
    let output = w
        .nudge
        .run(&["sync", "--dry-run", "--now", "2026-11-19T08:30:00+01:00"]);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("would draft follow-up 1 to Ingrid Berg"),
        "{text}"
    );
    assert!(w.drafts().await.is_empty());
    // Nor in the store (SPEC 7): the real pass finds everything still to do.
    assert!(w.nudge.status().is_empty(), "{:#?}", w.nudge.status());
    w.nudge.sync("2026-11-19T08:30:00+01:00");
    assert_eq!(w.conversation()["state"], "drafted");
}

/// A due time is kept from one pass to the next only while the cadence that worked it out
/// stands: a seller back early from time away gets the follow-up on its ordinary day.
#[tokio::test]
async fn a_changed_cadence_plans_every_conversation_again() {
    let away = "[cadence]\naway = [{ from = \"2026-11-17\", to = \"2026-11-27\" }]\n";
    let mut w = World::new(away).await;
    w.nudge.sync("2026-11-16T12:00:00+01:00");
    let later = w.conversation()["next_due"].clone();
    assert_eq!(
        later, "2026-12-02T07:30:00Z",
        "3 business days after time away"
    );
    w.nudge.sync("2026-11-18T12:00:00+01:00");
    assert_eq!(
        w.conversation()["next_due"],
        later,
        "kept while nothing changed"
    );

    let text = std::fs::read_to_string(&w.nudge.config).unwrap();
    std::fs::write(&w.nudge.config, text.replace(away, "")).unwrap();
    let out = w.nudge.sync("2026-11-19T08:30:00+01:00");
    assert!(
        out.contains("drafted follow-up 1 to Ingrid Berg"),
        "due on the ordinary day once the time away is gone: {out}"
    );
    assert_eq!(w.drafts().await.len(), 1);
}
