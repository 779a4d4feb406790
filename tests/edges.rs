//! Edge cases end to end: the `nudge` binary against a real Dovecot, the test acting as the
//! seller's mail client (Sent), the other side's servers (INBOX) and the seller at the shell.
//! Each test names the SPEC rule it checks. Dates are in November 2026; Kari's opener goes out
//! Monday 16 November at 10:00 Oslo time, so follow-up 1 is due Thursday 19 November at 08:30.

mod support;

use serde_json::Value;
use support::mailclient::{FolderMessage, MailClient, Message};
use support::nudge::{seller_world, Nudge};
use support::Dovecot;

const KARI: &str = "Kari Nordmann <kari@fjordsalg.no>";
const INGRID: &str = "Ingrid Berg <ingrid.berg@fjordkraft.no>";
const INGRID_ADDR: &str = "ingrid.berg@fjordkraft.no";
const SUBJECT: &str = "Tilbud på rammeavtale";
const RE_SUBJECT: &str = "Re: Tilbud på rammeavtale";
const OPENER_ID: &str = "a1@fjordsalg.no";
const OPENER_DATE: &str = "Mon, 16 Nov 2026 10:00:00 +0100";
const OPENER_TEXT: &str =
    "Hei Ingrid,\n\nTakk for praten på messen i forrige uke. Her er tilbudet \
    på rammeavtalen, med priser for tre år.\n\nVennlig hilsen\nKari";
/// The opener as `status --json` shows its time.
const OPENER_TOUCH: &str = "2026-11-16T09:00:00Z";

/// Right after the opener.
const FIRST_PASS: &str = "2026-11-16T12:00:00+01:00";
/// Tuesday noon, after the day's inbound mail.
const NEXT_DAY: &str = "2026-11-17T12:00:00+01:00";
/// Follow-up 1 is due: three business days after the opener, at 08:30.
const DUE: &str = "2026-11-19T08:30:00+01:00";
const DUE_UTC: &str = "2026-11-19T07:30:00Z";
/// Well past every step-1 due time of these scenarios.
const LATER: &str = "2026-11-30T09:00:00+01:00";
/// The Monday after: the weekly summary covers 16–22 November.
const NEXT_MONDAY: &str = "2026-11-23T09:00:00+01:00";

// ---------------------------------------------------------------------------------------------
// Messages

/// A message from Kari (for Sent).
fn from_kari<'a>(
    to: &'a str,
    subject: &'a str,
    id: &'a str,
    parent: Option<&'a str>,
    date: &'a str,
    body: &'a str,
) -> Message<'a> {
    Message::new(KARI, to, subject, id, parent, date, body)
}

/// Kari's opener to Ingrid.
fn opener() -> Message<'static> {
    from_kari(INGRID, SUBJECT, OPENER_ID, None, OPENER_DATE, OPENER_TEXT)
}

/// A message to Kari (for INBOX).
fn to_kari<'a>(
    from: &'a str,
    subject: &'a str,
    id: &'a str,
    parent: Option<&'a str>,
    date: &'a str,
    body: &'a str,
) -> Message<'a> {
    Message::new(from, KARI, subject, id, parent, date, body)
}

/// An RFC 3464 delivery status notification from Kari's own mail server: delivery to `failed`
/// failed for good; the returned message's headers name `returned_id`.
fn dsn(failed: &str, returned_id: &str, date: &str) -> String {
    format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.fjordsalg.no>
To: kari@fjordsalg.no
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn.{failed}@mx.fjordsalg.no>
Date: {date}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary=\"dsn-boundary\"

--dsn-boundary
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.fjordsalg.no.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{failed}>: host mx.example said: 550 5.1.1 User unknown

--dsn-boundary
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.fjordsalg.no
Arrival-Date: {date}

Final-Recipient: rfc822; {failed}
Original-Recipient: rfc822;{failed}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{failed}>: Recipient address rejected: User unknown

--dsn-boundary
Content-Type: text/rfc822-headers

From: Kari Nordmann <kari@fjordsalg.no>
To: {failed}
Subject: {SUBJECT}
Message-ID: <{returned_id}>
Date: {OPENER_DATE}

--dsn-boundary--
"
    )
}

// ---------------------------------------------------------------------------------------------
// The world of one test

/// The seller's Dovecot, nudge configured for it, and the seller's mail client.
struct World {
    _dovecot: Dovecot,
    nudge: Nudge,
    client: MailClient,
}

impl World {
    /// `extra` is more config (such as a `[tracking]` section).
    async fn new(extra: &str) -> World {
        let (dovecot, nudge, client) = seller_world(extra).await;
        World {
            _dovecot: dovecot,
            nudge,
            client,
        }
    }

    /// A world whose Sent folder holds Kari's opener to Ingrid.
    async fn with_opener() -> World {
        let mut w = World::new("").await;
        w.sent(&opener()).await;
        w
    }

    /// Kari's openers to Ingrid and to her colleague Per (another thread), and a first pass.
    async fn with_two_at_one_company() -> World {
        let mut w = World::with_opener().await;
        w.sent(&from_kari(
            "Per Olsen <per.olsen@fjordkraft.no>",
            "Tilbud på serviceavtale",
            "b1@fjordsalg.no",
            None,
            OPENER_DATE,
            "Hei Per,\n\nHer er tilbudet på serviceavtalen.\n\nHilsen Kari",
        ))
        .await;
        w.sync(FIRST_PASS);
        w
    }

    /// After the next day's pass, Ingrid's conversation bounced and Per's goes on; only her
    /// address is suppressed.
    fn only_ingrid_bounced(&self) {
        self.sync(NEXT_DAY);
        let states = (
            self.conversation(SUBJECT)["state"].clone(),
            self.conversation("serviceavtale")["state"].clone(),
        );
        assert_eq!(states, (Value::from("bounced"), Value::from("waiting")));
        assert_eq!(self.suppressed(), vec![INGRID_ADDR]);
    }

    /// Kari's client saves `message` in Sent.
    async fn sent(&mut self, message: &Message<'_>) {
        self.client
            .append("Sent", &message.render(), &["\\Seen"])
            .await;
    }

    /// `message` is delivered to INBOX, received at its Date.
    async fn inbox(&mut self, message: &Message<'_>) {
        self.client.append("INBOX", &message.render(), &[]).await;
    }

    fn sync(&self, now: &str) {
        self.nudge.sync(now);
    }

    /// The conversation whose subject contains `subject`.
    fn conversation(&self, subject: &str) -> Value {
        self.nudge
            .conversation(subject)
            .unwrap_or_else(|| panic!("no conversation «{subject}» in {:#?}", self.nudge.status()))
    }

    fn id(&self, subject: &str) -> String {
        self.conversation(subject)["id"].to_string()
    }

    /// Runs a command that must succeed; its stdout.
    fn command(&self, args: &[&str]) -> String {
        let output = self.nudge.run(args);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "nudge {args:?} failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    /// `nudge stop ID`.
    fn stop(&self, subject: &str, now: &str) {
        self.command(&["stop", &self.id(subject), "--now", now]);
    }

    /// The event kinds of `nudge show ID`'s history, oldest first.
    fn history_kinds(&self, subject: &str) -> Vec<String> {
        let show = self.command(&["show", &self.id(subject)]);
        show.lines()
            .skip_while(|line| !line.starts_with("History:"))
            .skip(1)
            .filter_map(|line| line.split_whitespace().nth(2).map(str::to_string))
            .collect()
    }

    /// The addresses and domains on the suppression list.
    fn suppressed(&self) -> Vec<String> {
        let list = self.command(&["suppress", "list"]);
        if list.contains("is empty") {
            return Vec::new();
        }
        list.lines()
            .filter_map(|line| line.split_whitespace().next())
            .map(str::to_string)
            .collect()
    }

    /// The text part of `nudge summary --preview --now NOW`.
    fn summary(&self, now: &str) -> String {
        self.command(&["summary", "--preview", "--now", now])
    }

    async fn drafts(&mut self) -> Vec<FolderMessage> {
        self.client.messages("Drafts").await
    }

    /// Drafts with `address` among their To/Cc.
    async fn drafts_to(&mut self, address: &str) -> Vec<FolderMessage> {
        self.drafts()
            .await
            .into_iter()
            .filter(|d| recipients(d).iter().any(|r| r == address))
            .collect()
    }

    /// The opener's conversation is still waiting the next day and gets its follow-up to
    /// Ingrid when it is due: what came in meanwhile was no reply.
    async fn still_followed_up(&mut self) {
        self.sync(NEXT_DAY);
        assert_eq!(self.conversation(SUBJECT)["state"], "waiting");
        self.sync(DUE);
        assert_eq!(self.conversation(SUBJECT)["state"], "drafted");
        assert_eq!(recipients(&self.the_draft().await), vec![INGRID_ADDR]);
    }

    /// The only draft in Drafts.
    async fn the_draft(&mut self) -> FolderMessage {
        let mut drafts = self.drafts().await;
        assert_eq!(
            drafts.len(),
            1,
            "one draft expected; conversations: {:#?}",
            self.nudge.status()
        );
        drafts.remove(0)
    }
}

/// The addresses of a draft's To and Cc, lowercased.
fn recipients(draft: &FolderMessage) -> Vec<String> {
    let parsed = mail_parser::MessageParser::default()
        .parse(&draft.raw)
        .expect("the draft parses");
    [parsed.to(), parsed.cc()]
        .into_iter()
        .flatten()
        .flat_map(|a| a.iter())
        .filter_map(|a| a.address())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// A draft's header section.
fn head(draft: &FolderMessage) -> String {
    let text = draft.text();
    text.split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_string()
}

fn body(draft: &FolderMessage) -> String {
    draft.body_text().unwrap_or_default()
}

/// The part of a summary text from `heading` to the next blank line.
fn section<'a>(text: &'a str, heading: &str) -> &'a str {
    text.split_once(heading)
        .map(|(_, rest)| rest.split("\n\n").next().unwrap_or(rest))
        .unwrap_or("")
}

// ---------------------------------------------------------------------------------------------
// 1. Provenance: only Sent holds the seller's touches (SPEC 2 "touch", 6 "Headers")

/// SPEC 2: a message claiming a seller identity outside Sent is not the seller's; SPEC 6: the
/// draft's recipients, From name and quote come from the last real touch.
#[tokio::test]
async fn a_forged_seller_message_in_inbox_is_not_a_touch() {
    let mut w = World::with_opener().await;
    w.sync(FIRST_PASS);
    w.inbox(&Message::new(
        "\"Someone Else\" <kari@fjordsalg.no>",
        "attacker@evil.example",
        RE_SUBJECT,
        "forged1@evil.example",
        Some(OPENER_ID),
        "Tue, 17 Nov 2026 10:00:00 +0100",
        "FORGED WORDS",
    ))
    .await;
    w.sync(NEXT_DAY);
    w.sync(DUE);
    let draft = w.the_draft().await;
    assert_eq!(recipients(&draft), vec![INGRID_ADDR]);
    let head = head(&draft);
    assert!(!head.contains("evil.example"), "{head}");
    let from = draft.header("From").unwrap_or_default();
    assert!(from.contains("Kari Nordmann"), "From: {from}");
    assert!(!from.contains("Someone Else"), "From: {from}");
    let body = body(&draft);
    assert!(body.contains("> Takk for praten på messen"), "{body}");
    assert!(!body.contains("FORGED WORDS"), "{body}");
}

/// SPEC 2: a forged seller message in INBOX to a new address starts no conversation.
#[tokio::test]
async fn a_forged_seller_message_to_a_stranger_starts_nothing() {
    let mut w = World::with_opener().await;
    w.inbox(&Message::new(
        KARI,
        "Ola Nilsen <ola.nilsen@stranger.example>",
        "Bestilling av utstyr",
        "forged2@evil.example",
        None,
        "Mon, 16 Nov 2026 10:30:00 +0100",
        "Send meg fakturaen, takk.",
    ))
    .await;
    w.sync(FIRST_PASS);
    w.sync(DUE);
    let subjects: Vec<Value> = w
        .nudge
        .status()
        .iter()
        .map(|c| c["subject"].clone())
        .collect();
    assert_eq!(subjects, vec![Value::from(SUBJECT)], "only the real opener");
    assert!(w.drafts_to("ola.nilsen@stranger.example").await.is_empty());
}

/// SPEC 2: a copy of a Sent message elsewhere (a self-Bcc in INBOX) is the same touch.
#[tokio::test]
async fn a_self_bcc_copy_of_the_opener_is_the_same_touch() {
    let mut w = World::with_opener().await;
    w.inbox(&opener()).await;
    w.sync(FIRST_PASS);
    w.sync(NEXT_DAY);
    let status = w.nudge.status();
    assert_eq!(status.len(), 1, "one conversation: {status:#?}");
    let c = &status[0];
    assert_eq!(c["state"], "waiting", "{c:#}");
    assert_eq!(c["step"], 0, "{c:#}");
    assert_eq!(c["last_touch"], OPENER_TOUCH, "{c:#}");
    assert_eq!(c["next_due"], DUE_UTC, "{c:#}");
}

// ---------------------------------------------------------------------------------------------
// 2. A touch needs a prospect among its recipients (SPEC 2 "touch")

/// Kari forwards the thread to a colleague.
fn internal_forward<'a>(parent: &'a str, date: &'a str) -> Message<'a> {
    from_kari(
        "Per Olsen <per.olsen@fjordsalg.no>",
        "VS: Tilbud på rammeavtale",
        "fwd1@fjordsalg.no",
        Some(parent),
        date,
        "Per, kan du ta en titt på denne før torsdag?\n\n\
         -------- Videresendt melding --------\nEmne: Tilbud på rammeavtale\n\n\
         Hei Ingrid,\n\nTakk for praten på messen i forrige uke.",
    )
}

/// SPEC 2: an internal forward is not a touch: the wait still counts from the opener, and the
/// follow-up goes to the prospect.
#[tokio::test]
async fn an_internal_forward_is_not_a_touch() {
    let mut w = World::with_opener().await;
    w.sync(FIRST_PASS);
    w.sent(&internal_forward(
        OPENER_ID,
        "Tue, 17 Nov 2026 10:00:00 +0100",
    ))
    .await;
    w.sync(NEXT_DAY);
    let c = w.conversation(SUBJECT);
    assert_eq!(c["state"], "waiting", "{c:#}");
    assert_eq!(c["step"], 0, "{c:#}");
    assert_eq!(c["last_touch"], OPENER_TOUCH, "{c:#}");
    assert_eq!(c["next_due"], DUE_UTC, "{c:#}");
    w.sync(DUE);
    let draft = w.the_draft().await;
    assert_eq!(recipients(&draft), vec![INGRID_ADDR]);
    let body = body(&draft);
    assert!(!body.contains("kan du ta en titt"), "{body}");
}

/// SPEC 2, 7: an internal forward neither sends nor supersedes the pending draft.
#[tokio::test]
async fn an_internal_forward_keeps_the_pending_draft() {
    let mut w = World::with_opener().await;
    w.sync(DUE);
    assert_eq!(w.conversation(SUBJECT)["state"], "drafted");
    w.sent(&internal_forward(
        OPENER_ID,
        "Thu, 19 Nov 2026 09:00:00 +0100",
    ))
    .await;
    w.sync("2026-11-19T09:30:00+01:00");
    let c = w.conversation(SUBJECT);
    assert_eq!(c["state"], "drafted", "{c:#}");
    assert_eq!(c["draft"], true, "{c:#}");
    let draft = w.the_draft().await;
    assert_eq!(recipients(&draft), vec![INGRID_ADDR]);
}

/// SPEC 2, 3: forwarding the prospect's reply to a colleague is not writing to the prospect
/// again: the conversation stays replied and no follow-up is drafted.
#[tokio::test]
async fn an_internal_forward_of_a_reply_does_not_reopen_it() {
    let mut w = World::with_opener().await;
    w.sync(FIRST_PASS);
    w.inbox(&to_kari(
        INGRID,
        "SV: Tilbud på rammeavtale",
        "r1@fjordkraft.no",
        Some(OPENER_ID),
        "Tue, 17 Nov 2026 10:00:00 +0100",
        "Hei Kari, takk! Vi ser på det internt og kommer tilbake.",
    ))
    .await;
    w.sync(NEXT_DAY);
    assert_eq!(w.conversation(SUBJECT)["state"], "replied");
    w.sent(&internal_forward(
        "r1@fjordkraft.no",
        "Tue, 17 Nov 2026 13:00:00 +0100",
    ))
    .await;
    w.sync("2026-11-17T14:00:00+01:00");
    let c = w.conversation(SUBJECT);
    assert_eq!(c["state"], "replied", "{c:#}");
    for now in [DUE, LATER] {
        w.sync(now);
        assert!(w.drafts().await.is_empty(), "a draft at {now}");
    }
    assert_eq!(w.conversation(SUBJECT)["state"], "replied");
}

// ---------------------------------------------------------------------------------------------
// 3. An inbound newsletter or list post is never a reply (SPEC 3)

/// SPEC 3: a list post is never a reply, even from the prospect's own address.
#[tokio::test]
async fn a_newsletter_from_the_prospects_own_address_is_not_a_reply() {
    let mut w = World::with_opener().await;
    w.sync(FIRST_PASS);
    w.inbox(&Message {
        extra: "List-Id: <news.fjordkraft.no>\n\
                List-Unsubscribe: <mailto:unsubscribe@news.fjordkraft.no>",
        ..to_kari(
            INGRID,
            "Nyhetsbrev: strømprisene i november",
            "news-nov@news.fjordkraft.no",
            None,
            "Tue, 17 Nov 2026 10:00:00 +0100",
            "Månedens nyheter fra Fjordkraft.",
        )
    })
    .await;
    w.still_followed_up().await;
}

/// SPEC 3, 4: bulk mail from the prospect's company is automated, not a reply.
#[tokio::test]
async fn bulk_mail_from_the_prospects_company_is_not_a_reply() {
    let mut w = World::with_opener().await;
    w.sync(FIRST_PASS);
    w.inbox(&Message {
        extra: "Precedence: bulk",
        ..to_kari(
            "Per Olsen <per@fjordkraft.no>",
            "Kampanje: 20 % rabatt i desember",
            "bulk1@fjordkraft.no",
            None,
            "Tue, 17 Nov 2026 11:00:00 +0100",
            "Til alle våre kunder: 20 % rabatt i desember.",
        )
    })
    .await;
    w.still_followed_up().await;
}

// ---------------------------------------------------------------------------------------------
// 4. A bounce ends only the recipient that failed (SPEC 4)

/// SPEC 4: a bounce links only through the message it returns: a colleague's conversation at
/// the same company goes on, and only the failed address is suppressed.
#[tokio::test]
async fn a_bounce_ends_only_the_conversation_it_returns() {
    let mut w = World::with_two_at_one_company().await;
    w.client
        .append(
            "INBOX",
            &dsn(INGRID_ADDR, OPENER_ID, "Tue, 17 Nov 2026 08:00:00 +0100"),
            &[],
        )
        .await;
    w.only_ingrid_bounced();
}

/// SPEC 4: a bounce never links by organisation: a non-standard bounce written by the
/// prospect's own mail server (postmaster at their domain) ends the conversation whose message
/// it returns, and the colleague's conversation at that company goes on.
#[tokio::test]
async fn a_bounce_from_the_prospects_postmaster_never_links_by_organisation() {
    let mut w = World::with_two_at_one_company().await;
    let bounce = format!(
        "From: postmaster@fjordkraft.no
To: kari@fjordsalg.no
Subject: Undeliverable: {SUBJECT}
Message-ID: <ndr.1@fjordkraft.no>
Date: Tue, 17 Nov 2026 08:00:00 +0100
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Delivery has failed to these recipients or groups:

{INGRID_ADDR}
The email address you entered couldn't be found.

Original message headers:

From: Kari Nordmann <kari@fjordsalg.no>
To: {INGRID_ADDR}
Subject: {SUBJECT}
Message-ID: <{OPENER_ID}>
Date: {OPENER_DATE}
"
    );
    w.client.append("INBOX", &bounce, &[]).await;
    w.only_ingrid_bounced();
}

/// SPEC 4, 13: what the headers said at sync time stands when the text can never be read: an
/// out-of-office (Auto-Submitted, with an ordinary reply subject) deleted before nudge read
/// its text is still an out-of-office, never a reply.
#[tokio::test]
async fn an_auto_reply_deleted_before_its_text_is_read_is_still_one() {
    let mut w = World::with_opener().await;
    w.sync(FIRST_PASS);
    w.inbox(&Message {
        extra: "Auto-Submitted: auto-replied",
        ..to_kari(
            INGRID,
            RE_SUBJECT,
            "ooo.1@fjordkraft.no",
            Some(OPENER_ID),
            "Tue, 17 Nov 2026 08:00:00 +0100",
            "Jeg er på reise og leser ikke e-post.",
        )
    })
    .await;
    // A pass that stops after storing the headers, before it reads any text.
    let crashed = w.nudge.run_with_env(
        &["sync", "--now", NEXT_DAY],
        &[("NUDGE_FAULT_POINT", "after-sync")],
    );
    assert!(
        !crashed.status.success(),
        "the fault point stops the process"
    );
    let inbox = w.client.messages("INBOX").await;
    assert_eq!(inbox.len(), 1);
    w.client.delete("INBOX", inbox[0].uid).await;
    w.sync(NEXT_DAY);
    assert_eq!(w.conversation(SUBJECT)["state"], "waiting");
    assert!(
        w.history_kinds(SUBJECT).contains(&"auto_reply".to_string()),
        "{:?}",
        w.history_kinds(SUBJECT)
    );
}

/// SPEC 4: a failed Cc ends nothing: the conversation goes on without that address, which alone
/// is suppressed; SPEC 6: the draft leaves it out.
#[tokio::test]
async fn a_failed_cc_ends_nothing_but_that_address() {
    let mut w = World::new("").await;
    w.sent(&Message {
        extra: "Cc: Ola Nilsen <ola.nilsen@fjordkraft.no>",
        ..opener()
    })
    .await;
    w.sync(FIRST_PASS);
    w.client
        .append(
            "INBOX",
            &dsn(
                "ola.nilsen@fjordkraft.no",
                OPENER_ID,
                "Tue, 17 Nov 2026 08:00:00 +0100",
            ),
            &[],
        )
        .await;
    w.sync(NEXT_DAY);
    let c = w.conversation(SUBJECT);
    assert_eq!(c["state"], "waiting", "{c:#}");
    assert_eq!(w.suppressed(), vec!["ola.nilsen@fjordkraft.no"]);
    w.sync(DUE);
    assert_eq!(recipients(&w.the_draft().await), vec![INGRID_ADDR]);
}

/// SPEC 4: a failed CRM Bcc address ends nothing and suppresses nobody.
#[tokio::test]
async fn a_failed_crm_bcc_ends_nothing() {
    let mut w = World::new("").await;
    w.sent(&Message {
        extra: "Bcc: crm-123@dropbox.crmsystem.example",
        ..opener()
    })
    .await;
    w.sync(FIRST_PASS);
    w.client
        .append(
            "INBOX",
            &dsn(
                "crm-123@dropbox.crmsystem.example",
                OPENER_ID,
                "Tue, 17 Nov 2026 08:00:00 +0100",
            ),
            &[],
        )
        .await;
    w.sync(NEXT_DAY);
    let c = w.conversation(SUBJECT);
    assert_eq!(c["state"], "waiting", "{c:#}");
    assert_eq!(w.suppressed(), Vec::<String>::new());
}

/// SPEC 4: a person's reply whose subject quotes a bounce is a human reply, not a bounce.
#[tokio::test]
async fn a_person_replying_under_an_undeliverable_subject_is_a_reply() {
    let mut w = World::with_opener().await;
    w.sync(FIRST_PASS);
    w.inbox(&to_kari(
        INGRID,
        "Re: Undeliverable: Tilbud på rammeavtale",
        "r1@fjordkraft.no",
        Some(OPENER_ID),
        "Tue, 17 Nov 2026 10:00:00 +0100",
        "Hei Kari, takk for tilbudet. Kan du ringe meg i morgen formiddag?",
    ))
    .await;
    w.sync(NEXT_DAY);
    let c = w.conversation(SUBJECT);
    assert_eq!(c["state"], "replied", "{c:#}");
    assert_eq!(w.suppressed(), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// 5. Organisations by the Public Suffix List (SPEC 4 rule 3)

/// SPEC 4 rule 3: the organisation domain is the registrable domain by the Public Suffix List:
/// two municipalities under kommune.no, two tenants of onmicrosoft.com are four organisations.
#[tokio::test]
async fn organisations_follow_the_public_suffix_list() {
    let mut w = World::new("").await;
    let conversations = [
        ("Anne <anne@bergen.kommune.no>", "Avtale med Bergen", "k1"),
        ("Ole <ole@voss.kommune.no>", "Avtale med Voss", "k2"),
        (
            "A <a@contoso.onmicrosoft.com>",
            "Lisenser for Contoso",
            "k3",
        ),
        (
            "B <b@fabrikam.onmicrosoft.com>",
            "Lisenser for Fabrikam",
            "k4",
        ),
    ];
    for (to, subject, id) in conversations {
        let id = format!("{id}@fjordsalg.no");
        w.sent(&from_kari(
            to,
            subject,
            &id,
            None,
            OPENER_DATE,
            "Hei,\n\nHer er tilbudet vi snakket om.\n\nHilsen Kari",
        ))
        .await;
    }
    w.sync(FIRST_PASS);
    // Colleagues of Ole and of B write, each in a new thread.
    w.inbox(&to_kari(
        "Kari Holm <kari.holm@voss.kommune.no>",
        "Spørsmål om avtalen",
        "q1@voss.kommune.no",
        None,
        "Tue, 17 Nov 2026 10:00:00 +0100",
        "Hei, jeg overtar saken for Ole. Kan vi snakke sammen?",
    ))
    .await;
    w.inbox(&to_kari(
        "Carl <carl@fabrikam.onmicrosoft.com>",
        "Question about the licences",
        "q2@fabrikam.onmicrosoft.com",
        None,
        "Tue, 17 Nov 2026 10:30:00 +0100",
        "Hi, I am taking over from B. Can we talk?",
    ))
    .await;
    w.sync(NEXT_DAY);
    let states: Vec<(&str, Value)> = conversations
        .iter()
        .map(|(_, subject, _)| (*subject, w.conversation(subject)["state"].clone()))
        .collect();
    assert_eq!(
        states,
        vec![
            ("Avtale med Bergen", Value::from("waiting")),
            ("Avtale med Voss", Value::from("replied")),
            ("Lisenser for Contoso", Value::from("waiting")),
            ("Lisenser for Fabrikam", Value::from("replied")),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Opt-outs are honoured in every state (SPEC 4)

const OPT_OUT: &str = "Please remove me from your list and do not contact me again.";

/// SPEC 4: an opt-out is honoured after `stopped`: suppressed and recorded; and no draft is ever
/// made to that address, even after the seller writes again.
#[tokio::test]
async fn an_opt_out_after_stop_is_honoured() {
    let mut w = World::with_opener().await;
    w.sync(FIRST_PASS);
    w.stop(SUBJECT, "2026-11-16T13:00:00+01:00");
    w.sync("2026-11-16T13:05:00+01:00");
    w.inbox(&to_kari(
        INGRID,
        RE_SUBJECT,
        "optout@fjordkraft.no",
        Some(OPENER_ID),
        "Tue, 17 Nov 2026 10:00:00 +0100",
        OPT_OUT,
    ))
    .await;
    w.sync(NEXT_DAY);
    assert!(
        w.suppressed().iter().any(|s| s == INGRID_ADDR),
        "{:?}",
        w.suppressed()
    );
    let kinds = w.history_kinds(SUBJECT);
    assert!(kinds.iter().any(|k| k == "opt_out"), "{kinds:?}");
    w.sent(&from_kari(
        INGRID,
        RE_SUBJECT,
        "a2@fjordsalg.no",
        Some("optout@fjordkraft.no"),
        "Tue, 17 Nov 2026 14:00:00 +0100",
        "Hei Ingrid, det er notert. Ha en fin dag!\n\nKari",
    ))
    .await;
    for now in [
        "2026-11-17T15:00:00+01:00",
        "2026-11-20T09:00:00+01:00",
        LATER,
    ] {
        w.sync(now);
        assert!(
            w.drafts_to(INGRID_ADDR).await.is_empty(),
            "a draft at {now}"
        );
    }
}

/// SPEC 4: an opt-out is honoured after `replied`.
#[tokio::test]
async fn an_opt_out_after_a_reply_is_honoured() {
    let mut w = World::with_opener().await;
    w.sync(FIRST_PASS);
    w.inbox(&to_kari(
        INGRID,
        RE_SUBJECT,
        "r1@fjordkraft.no",
        Some(OPENER_ID),
        "Tue, 17 Nov 2026 10:00:00 +0100",
        "Takk, jeg ser på det og kommer tilbake.",
    ))
    .await;
    w.sync(NEXT_DAY);
    assert_eq!(w.conversation(SUBJECT)["state"], "replied");
    w.inbox(&to_kari(
        INGRID,
        RE_SUBJECT,
        "optout@fjordkraft.no",
        Some("r1@fjordkraft.no"),
        "Wed, 18 Nov 2026 10:00:00 +0100",
        OPT_OUT,
    ))
    .await;
    w.sync("2026-11-18T12:00:00+01:00");
    let c = w.conversation(SUBJECT);
    assert_eq!(c["state"], "opted_out", "{c:#}");
    assert!(
        w.suppressed().iter().any(|s| s == INGRID_ADDR),
        "{:?}",
        w.suppressed()
    );
    let kinds = w.history_kinds(SUBJECT);
    assert!(kinds.iter().any(|k| k == "opt_out"), "{kinds:?}");
}

/// SPEC 4: only the new text of a reply can opt out; "unsubscribe" in the quoted opener below
/// "On … wrote:" does not.
#[tokio::test]
async fn unsubscribe_in_the_quoted_opener_is_not_an_opt_out() {
    let mut w = World::new("").await;
    w.sent(&Message {
        body: "Hi Ingrid,\n\nHere is the offer we discussed at the fair.\n\
               If you would rather not hear from me, just reply unsubscribe.\n\nKari",
        ..opener()
    })
    .await;
    w.sync(FIRST_PASS);
    w.inbox(&to_kari(
        INGRID,
        RE_SUBJECT,
        "r1@fjordkraft.no",
        Some(OPENER_ID),
        "Tue, 17 Nov 2026 10:00:00 +0100",
        "Thanks, let's talk Thursday.\n\n\
         On Mon, 16 Nov 2026 at 10:00, Kari Nordmann <kari@fjordsalg.no> wrote:\n\
         > Hi Ingrid,\n>\n> Here is the offer we discussed at the fair.\n\
         > If you would rather not hear from me, just reply unsubscribe.\n>\n> Kari",
    ))
    .await;
    w.sync(NEXT_DAY);
    let c = w.conversation(SUBJECT);
    assert_eq!(c["state"], "replied", "{c:#}");
    assert_eq!(w.suppressed(), Vec::<String>::new());
}

/// SPEC 4: a thread about unsubscribe links is not an opt-out: the person's words decide.
#[tokio::test]
async fn an_unsubscribe_subject_is_not_an_opt_out() {
    let mut w = World::new("").await;
    w.sent(&from_kari(
        INGRID,
        "Unsubscribe links in your newsletter tool",
        OPENER_ID,
        None,
        OPENER_DATE,
        "Hi Ingrid,\n\nAs promised, here is how our tool handles the links in your \
         newsletters. Shall we go through it on a call?\n\nBest regards\nKari",
    ))
    .await;
    w.sync(FIRST_PASS);
    w.inbox(&to_kari(
        INGRID,
        "Re: Unsubscribe links in your newsletter tool",
        "r1@fjordkraft.no",
        Some(OPENER_ID),
        "Tue, 17 Nov 2026 10:00:00 +0100",
        "Sounds good, call me.",
    ))
    .await;
    w.sync(NEXT_DAY);
    let c = w.conversation("Unsubscribe links");
    assert_eq!(c["state"], "replied", "{c:#}");
    assert_eq!(w.suppressed(), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// 7. Suppressed people are never on a draft (SPEC 6 "Headers")

/// SPEC 6: To/Cc leave out suppressed addresses, robots and `ignore` matches; the greeting
/// moves to the prospect who is left.
#[tokio::test]
async fn suppressed_people_are_left_off_the_draft_and_not_greeted() {
    let mut w = World::new("[tracking]\nignore = [\"*@newsletter.example.com\"]\n").await;
    w.sent(&Message {
        extra: "Cc: Ingrid Berg <ingrid.berg@fjordkraft.no>, noreply@fjordkraft.no, \
                someone@newsletter.example.com",
        ..from_kari(
            "Per Olsen <per.olsen@fjordkraft.no>",
            SUBJECT,
            OPENER_ID,
            None,
            OPENER_DATE,
            "Hei begge,\n\nHer er tilbudet på rammeavtalen vi snakket om.\n\nVennlig hilsen\nKari",
        )
    })
    .await;
    w.sync(FIRST_PASS);
    w.command(&["suppress", "add", "per.olsen@fjordkraft.no"]);
    w.sync(DUE);
    let draft = w.the_draft().await;
    assert_eq!(recipients(&draft), vec![INGRID_ADDR]);
    let body = body(&draft);
    let greeting = body.lines().next().unwrap_or_default();
    assert!(greeting.contains("Ingrid"), "greeting: {greeting}\n{body}");
    assert!(!body.contains("Hei Per"), "{body}");
}

/// SPEC 6: when no prospect is left after suppression, no draft, and the conversation stops.
#[tokio::test]
async fn no_draft_when_the_only_prospect_is_suppressed() {
    let mut w = World::new("").await;
    w.sent(&Message {
        extra: "Cc: noreply@fjordkraft.no",
        ..from_kari(
            "Per Olsen <per.olsen@fjordkraft.no>",
            SUBJECT,
            OPENER_ID,
            None,
            OPENER_DATE,
            "Hei Per,\n\nHer er tilbudet på rammeavtalen.\n\nHilsen Kari",
        )
    })
    .await;
    w.sync(FIRST_PASS);
    w.command(&["suppress", "add", "per.olsen@fjordkraft.no"]);
    w.sync(DUE);
    assert!(w.drafts().await.is_empty());
    let c = w.conversation(SUBJECT);
    assert_eq!(c["state"], "stopped", "{c:#}");
}

// ---------------------------------------------------------------------------------------------
// 8. Clocks lie (SPEC 4: "after" by INTERNALDATE and by reference)

/// Kari's hand-written follow-up, Wednesday 18 November at 10:00.
fn hand_follow_up() -> Message<'static> {
    from_kari(
        INGRID,
        RE_SUBJECT,
        "a2@fjordsalg.no",
        Some(OPENER_ID),
        "Wed, 18 Nov 2026 10:00:00 +0100",
        "Hei igjen Ingrid, fikk du sett på tilbudet?\n\nKari",
    )
}

/// SPEC 4: a reply naming the last touch is after it, whatever its (slow) Date header says.
#[tokio::test]
async fn a_reply_with_a_slow_clock_still_counts() {
    let mut w = World::with_opener().await;
    w.sync(FIRST_PASS);
    w.sent(&hand_follow_up()).await;
    w.sync("2026-11-18T10:30:00+01:00");
    assert_eq!(
        w.conversation(SUBJECT)["last_touch"],
        "2026-11-18T09:00:00Z"
    );
    let reply = Message {
        extra: "In-Reply-To: <a2@fjordsalg.no>\nReferences: <a1@fjordsalg.no> <a2@fjordsalg.no>",
        ..to_kari(
            INGRID,
            RE_SUBJECT,
            "r1@fjordkraft.no",
            None,
            "Tue, 17 Nov 2026 09:00 +0100",
            "Hei Kari, ja, la oss ta en prat på fredag.",
        )
    };
    w.client
        .append_at("INBOX", &reply.render(), &[], "18-Nov-2026 11:00:00 +0100")
        .await;
    w.sync("2026-11-18T11:30:00+01:00");
    let c = w.conversation(SUBJECT);
    assert_eq!(c["state"], "replied", "{c:#}");
    for now in [NEXT_MONDAY, LATER] {
        w.sync(now);
        assert!(w.drafts().await.is_empty(), "a draft at {now}");
    }
}

/// SPEC 4: a reply that crossed the seller's follow-up in flight (sent a minute before it,
/// seen only after it) still ends the wait.
#[tokio::test]
async fn a_reply_that_crossed_the_follow_up_in_flight_counts() {
    let mut w = World::with_opener().await;
    w.sync(FIRST_PASS);
    w.sent(&hand_follow_up()).await;
    w.sync("2026-11-18T10:30:00+01:00");
    assert_eq!(
        w.conversation(SUBJECT)["last_touch"],
        "2026-11-18T09:00:00Z"
    );
    w.inbox(&to_kari(
        INGRID,
        RE_SUBJECT,
        "r1@fjordkraft.no",
        Some(OPENER_ID),
        "Wed, 18 Nov 2026 09:59:00 +0100",
        "Hei Kari, takk! Vi vil gjerne gå videre. Ring meg i dag?",
    ))
    .await;
    w.sync("2026-11-18T11:00:00+01:00");
    let c = w.conversation(SUBJECT);
    assert_eq!(c["state"], "replied", "{c:#}");
    for now in [NEXT_MONDAY, LATER] {
        w.sync(now);
        assert!(w.drafts().await.is_empty(), "a draft at {now}");
    }
}

// ---------------------------------------------------------------------------------------------
// 9. The record stays honest (SPEC 4 history, 8 summary, 12 status)

const WAITING_ON_YOU: &str = "DE VENTER PÅ SVAR FRA DEG";
const WHO_REPLIED: &str = "HVEM SVARTE";

/// SPEC 4, 8: a reply to a stopped conversation is recorded, and the summary lists the prospect
/// under "waiting on you": the seller must not ghost prospects either.
#[tokio::test]
async fn a_reply_to_a_stopped_conversation_waits_on_the_seller() {
    let mut w = World::with_opener().await;
    w.sync(FIRST_PASS);
    w.stop(SUBJECT, "2026-11-16T13:00:00+01:00");
    w.sync("2026-11-16T13:05:00+01:00");
    w.inbox(&to_kari(
        INGRID,
        RE_SUBJECT,
        "r1@fjordkraft.no",
        Some(OPENER_ID),
        "Tue, 17 Nov 2026 10:00:00 +0100",
        "Hei Kari, beklager sent svar. Kan vi ta en prat på torsdag?",
    ))
    .await;
    w.sync(NEXT_DAY);
    let kinds = w.history_kinds(SUBJECT);
    assert!(kinds.iter().any(|k| k == "reply"), "{kinds:?}");
    let summary = w.summary(NEXT_MONDAY);
    let waiting = section(&summary, WAITING_ON_YOU);
    assert!(waiting.contains(SUBJECT), "{summary}");
}

/// SPEC 8: a reply is credited to the step it answered (follow-up 1), also after the seller
/// answered it and the conversation goes on.
#[tokio::test]
async fn a_reply_after_follow_up_one_is_credited_to_follow_up_one() {
    let mut w = World::with_opener().await;
    w.sync(DUE);
    let draft = w.the_draft().await;
    let sent_id = w
        .client
        .send_draft("Drafts", "Sent", &draft, "Thu, 19 Nov 2026 10:00:00 +0100")
        .await;
    w.sync("2026-11-19T11:00:00+01:00");
    let c = w.conversation(SUBJECT);
    assert_eq!(
        (c["state"].clone(), c["step"].clone()),
        ("waiting".into(), 1.into())
    );
    let references = format!("In-Reply-To: <{sent_id}>\nReferences: <{OPENER_ID}> <{sent_id}>");
    w.inbox(&Message {
        extra: &references,
        ..to_kari(
            INGRID,
            RE_SUBJECT,
            "r1@fjordkraft.no",
            None,
            "Fri, 20 Nov 2026 10:00:00 +0100",
            "Hei Kari, takk for påminnelsen. Ring meg mandag.",
        )
    })
    .await;
    w.sync("2026-11-20T12:00:00+01:00");
    assert_eq!(w.conversation(SUBJECT)["state"], "replied");
    w.sent(&from_kari(
        INGRID,
        RE_SUBJECT,
        "a3@fjordsalg.no",
        Some("r1@fjordkraft.no"),
        "Fri, 20 Nov 2026 14:00:00 +0100",
        "Hei Ingrid, det gjør jeg. God helg!\n\nKari",
    ))
    .await;
    w.sync("2026-11-20T15:00:00+01:00");
    let summary = w.summary(NEXT_MONDAY);
    let replied = section(&summary, WHO_REPLIED);
    assert!(replied.contains(SUBJECT), "{summary}");
    assert!(replied.contains("Svarte etter: Oppfølging 1"), "{summary}");
    assert!(!replied.contains("Første e-post"), "{summary}");
}

/// SPEC 12: a bounced or opted-out conversation has nothing due.
#[tokio::test]
async fn nothing_is_due_after_a_bounce_or_an_opt_out() {
    let mut w = World::with_opener().await;
    w.sent(&from_kari(
        "Anna Svensson <anna.svensson@nordichandel.se>",
        "Offert på licenser",
        "b1@fjordsalg.no",
        None,
        OPENER_DATE,
        "Hej Anna,\n\nHär är offerten på licenserna.\n\nVänliga hälsningar\nKari",
    ))
    .await;
    w.sync(FIRST_PASS);
    w.client
        .append(
            "INBOX",
            &dsn(INGRID_ADDR, OPENER_ID, "Tue, 17 Nov 2026 08:00:00 +0100"),
            &[],
        )
        .await;
    w.inbox(&to_kari(
        "Anna Svensson <anna.svensson@nordichandel.se>",
        "Re: Offert på licenser",
        "optout@nordichandel.se",
        Some("b1@fjordsalg.no"),
        "Tue, 17 Nov 2026 10:00:00 +0100",
        OPT_OUT,
    ))
    .await;
    w.sync(NEXT_DAY);
    let ends: Vec<(Value, Value)> = [SUBJECT, "Offert på licenser"]
        .iter()
        .map(|s| {
            let c = w.conversation(s);
            (c["state"].clone(), c["next_due"].clone())
        })
        .collect();
    assert_eq!(
        ends,
        vec![
            (Value::from("bounced"), Value::Null),
            (Value::from("opted_out"), Value::Null),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Look everywhere before drafting

/// Ingrid's reply to the opener, on Tuesday.
fn ingrid_replies() -> Message<'static> {
    to_kari(
        INGRID,
        RE_SUBJECT,
        "r1@fjordkraft.no",
        Some(OPENER_ID),
        "Tue, 17 Nov 2026 10:00:00 +0100",
        "Takk, Kari! La oss ta en prat på torsdag.",
    )
}

/// A reply the seller archived from the phone before nudge saw it in INBOX is a reply: before
/// drafting, nudge searches the other folders.
#[tokio::test]
async fn a_reply_archived_before_the_pass_stops_the_follow_up() {
    let mut w = World::with_opener().await;
    w.sync(FIRST_PASS);
    w.client.create("Archive").await;
    w.client
        .append("Archive", &ingrid_replies().render(), &["\\Seen"])
        .await;
    w.sync(DUE);
    assert_eq!(w.conversation(SUBJECT)["state"], "replied");
    assert!(
        w.drafts().await.is_empty(),
        "no follow-up to someone who replied"
    );
    assert!(w.history_kinds(SUBJECT).contains(&"reply".to_string()));
}

/// A server rule filed the prospect's new message (outside the thread) into a customer folder:
/// it counts; and a reply seen in INBOX and again in another folder counts once.
#[tokio::test]
async fn mail_filed_into_any_folder_counts_once() {
    let mut w = World::with_opener().await;
    w.sync(FIRST_PASS);
    w.client.create("Kunder").await;
    w.inbox(&ingrid_replies()).await;
    w.client
        .append("Kunder", &ingrid_replies().render(), &["\\Seen"])
        .await;
    w.sync(DUE);
    assert_eq!(w.conversation(SUBJECT)["state"], "replied");
    let kinds = w.history_kinds(SUBJECT);
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "reply" || *k == "wrote_again")
            .count(),
        1,
        "{kinds:?}"
    );

    let mut other = World::with_opener().await;
    other.sync(FIRST_PASS);
    other.client.create("Kunder").await;
    other
        .client
        .append(
            "Kunder",
            &to_kari(
                INGRID,
                "Spørsmål om prisene",
                "q1@fjordkraft.no",
                None,
                "Tue, 17 Nov 2026 11:00:00 +0100",
                "Hei Kari, kan du forklare prisene for år to?",
            )
            .render(),
            &[],
        )
        .await;
    other.sync(DUE);
    assert_eq!(other.conversation(SUBJECT)["state"], "replied");
    assert!(other.drafts().await.is_empty());
}
