//! The weekly summary: its numbers over a scenario with known outcomes, escaping, and delivery
//! over a real SMTP server (STARTTLS and implicit TLS) or into INBOX, once per week, to the
//! seller only.

mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use mail_parser::{MessageParser, MimeHeaders};
use nudge::config::Config;
use nudge::model::{Conversation, State};
use nudge::progress::Quiet;
use nudge::rules::{event, EventKind};
use nudge::store::{Draft, DraftState, Effect, Store};
use support::mailclient::{MailClient, Message};
use support::nudge::{Nudge, PASSWORD, SELLER};
use support::{AfterData, Dovecot, DovecotOptions, SmtpOptions, SmtpSecurity, SmtpServer};

fn oslo(d: u32, h: u32) -> DateTime<Utc> {
    chrono_tz::Europe::Oslo
        .with_ymd_and_hms(2026, 11, d, h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn config() -> Config {
    let text = r#"
[account]
email = "kari@fjordsalg.no"
name = "Kari Nordmann"
own_domains = ["fjordsalg.no"]
timezone = "Europe/Oslo"
language = "en"

[imap]
host = "127.0.0.1"
security = "plain"
username = "kari"
password_env = "X"
"#;
    Config::parse(text, None, true).unwrap()
}

/// A conversation in `state` after `step` follow-ups, with a history entry `kind` at `at`.
#[allow(clippy::too_many_arguments)]
async fn add(
    store: &Store,
    thread: i64,
    prospect: &str,
    subject: &str,
    state: State,
    step: u32,
    replied_after: Option<u32>,
    kind: EventKind,
    detail: &str,
    at: DateTime<Utc>,
) -> i64 {
    // The threads table only needs a row to point at.
    let conversation = Conversation {
        state,
        step,
        replied_after_step: replied_after,
        ..Conversation::new(thread, subject, vec![prospect.into()], oslo(2, 10), None)
    };
    let ids = store
        .commit_effects(
            None,
            &[Effect::Track(
                conversation,
                event(oslo(2, 10), EventKind::Tracked, "old"),
            )],
            at,
        )
        .await
        .unwrap();
    let mut saved = store.conversation(ids[0]).await.unwrap().unwrap();
    saved.state = state;
    store
        .commit_effects(None, &[Effect::Update(saved, event(at, kind, detail))], at)
        .await
        .unwrap();
    ids[0]
}

/// Threads 1..=`n` for the conversations to point at.
async fn threads(store: &Store, n: i64) {
    for thread in 1..=n {
        let message = nudge::store::NewMessage {
            folder: "Sent".into(),
            uidvalidity: 1,
            uid: thread as u32,
            mail: nudge::mail::parse::Mail {
                message_id: Some(format!("t{thread}@x")),
                ..Default::default()
            },
            gm_thrid: None,
            internal_date: None,
            flags: vec![],
            from_seller: true,
            automated: true,
            origin: nudge::model::Origin::Sent,
            class: None,
        };
        let state = nudge::store::FolderState {
            name: "Sent".into(),
            uidvalidity: 1,
            last_uid: thread as u32,
            highest_modseq: None,
        };
        store
            .store_messages(&[message], &state, "sent", oslo(2, 9))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn every_number_of_a_known_week_appears_in_both_parts() {
    let dir = tempfile::tempdir().unwrap();
    let store = support::stores::fresh(dir.path()).await;
    threads(&store, 12).await;
    let week = oslo(18, 12); // inside the week before Monday 23 November
    add(
        &store,
        1,
        "a@one.no",
        "Opener answered",
        State::Replied,
        0,
        Some(0),
        EventKind::Reply,
        "replied",
        week,
    )
    .await;
    add(
        &store,
        2,
        "b@two.no",
        "After follow-up 1",
        State::Replied,
        1,
        Some(1),
        EventKind::Reply,
        "replied",
        week,
    )
    .await;
    add(
        &store,
        3,
        "c@three.no",
        "After follow-up 2",
        State::Replied,
        2,
        Some(2),
        EventKind::Reply,
        "replied",
        week,
    )
    .await;
    add(
        &store,
        4,
        "d@four.no",
        "After the last one",
        State::Replied,
        3,
        Some(3),
        EventKind::Reply,
        "replied; came back after close",
        week,
    )
    .await;
    add(
        &store,
        5,
        "e@five.no",
        "Let go",
        State::LetGo,
        3,
        None,
        EventKind::LetGo,
        "let go",
        week,
    )
    .await;
    add(
        &store,
        6,
        "f@six.no",
        "Bounced",
        State::Bounced,
        0,
        None,
        EventKind::Bounce,
        "bounced",
        week,
    )
    .await;
    add(
        &store,
        7,
        "g@seven.no",
        "Opted out",
        State::OptedOut,
        1,
        None,
        EventKind::OptOut,
        "opted out",
        week,
    )
    .await;
    add(
        &store,
        8,
        "h@eight.no",
        "Dismissed",
        State::Stopped,
        1,
        None,
        EventKind::Dismissed,
        "deleted",
        week,
    )
    .await;
    let drafted = add(
        &store,
        9,
        "<script>alert(1)</script>@nine.no",
        "Tilbud & <b>pris</b>",
        State::Drafted,
        1,
        None,
        EventKind::Drafted,
        "drafted",
        week,
    )
    .await;
    add(
        &store,
        10,
        "j@ten.no",
        "Still waiting",
        State::Waiting,
        0,
        None,
        EventKind::Touch,
        "wrote",
        week,
    )
    .await;
    store
        .begin_draft(&Draft {
            id: 0,
            conversation_id: drafted,
            step: 2,
            template: "followup-2".into(),
            variant: 0,
            language: "en".into(),
            message_id: "d@x".into(),
            folder: Some("Drafts".into()),
            uidvalidity: Some(1),
            uid: Some(1),
            state: DraftState::Pending,
            created_at: oslo(19, 8),
            fingerprint: None,
            parent_message_id: None,
            seller_message_id: None,
            removal_attempts: 0,
        })
        .await
        .unwrap();

    let config = config();
    let due = oslo(23, 7);
    let summary = nudge::summary::compute(&store, &config, due, due)
        .await
        .unwrap();
    let n = &summary.n;
    assert_eq!(
        (
            n.tracked,
            n.replies,
            n.drafts_waiting,
            n.let_go,
            n.bounced,
            n.opted_out,
            n.dismissed,
            n.came_back
        ),
        (2, 4, 1, 1, 1, 1, 1, 1)
    );
    let rates: Vec<(u32, u32, u32)> = summary
        .rates
        .iter()
        .map(|r| (r.reached, r.replied, r.percent))
        .collect();
    // Reached: every conversation reached the opener; step k when it got k follow-ups.
    assert_eq!(rates, vec![(10, 1, 10), (7, 1, 14), (3, 1, 33), (2, 1, 50)]);
    assert_eq!(summary.week, 48);

    let (text, html) = nudge::summary::render(&summary, config.account.language).unwrap();
    for number in [
        "Opener answered",
        "After follow-up 1",
        "After the last one",
        "Let go",
    ] {
        assert!(text.contains(number), "text lacks {number}:\n{text}");
    }
    for (value, what) in [
        (n.tracked, "tracked"),
        (n.replies, "replies"),
        (n.let_go, "let go"),
    ] {
        assert!(text.contains(&value.to_string()), "text lacks {what}");
        assert!(html.contains(&value.to_string()), "html lacks {what}");
    }
    for percent in ["10%", "14%", "33%", "50%"] {
        assert!(text.contains(percent), "text lacks {percent}:\n{text}");
        assert!(
            html.contains(&format!("width:{percent}"))
                || html.contains(&format!("width: {percent}")),
            "html bar {percent}"
        );
    }
    assert!(html.contains("&lt;script&gt;"), "escaped prospect");
    assert!(
        html.contains("Tilbud &amp; &lt;b&gt;pris&lt;&#x2F;b&gt;")
            || html.contains("Tilbud &amp; &lt;b&gt;pris&lt;/b&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script"), "never raw");
    assert!(!html.contains("src="), "no remote content");
    assert_eq!(
        nudge::summary::subject(&summary, config.account.language),
        "Your week: 4 replies, 1 draft waiting"
    );
}

/// A busy week: each list keeps its most pressing entries, up to the limit, and counts the
/// rest; the numbers count them all.
#[tokio::test]
async fn a_busy_week_keeps_the_most_pressing_of_each_list() {
    let dir = tempfile::tempdir().unwrap();
    let store = support::stores::fresh(dir.path()).await;
    let limit = nudge::summary::LIST_LIMIT;
    let each = limit + 3;
    for thread in 1..=(3 * each) as i64 {
        let message = nudge::store::NewMessage {
            folder: "Sent".into(),
            uidvalidity: 1,
            uid: thread as u32,
            mail: nudge::mail::parse::Mail {
                message_id: Some(format!("t{thread}@x")),
                ..Default::default()
            },
            gm_thrid: None,
            internal_date: None,
            flags: vec![],
            from_seller: true,
            automated: true,
            origin: nudge::model::Origin::Sent,
            class: None,
        };
        let state = nudge::store::FolderState {
            name: "Sent".into(),
            uidvalidity: 1,
            last_uid: thread as u32,
            highest_modseq: None,
        };
        store
            .store_messages(&[message], &state, "sent", oslo(2, 9))
            .await
            .unwrap();
    }
    // Replies and let-gos through the week, one an hour; drafts made one an hour, the
    // newest first.
    for i in 0..each {
        let at = oslo(17, 8) + Duration::hours(i as i64);
        let thread = i as i64 + 1;
        add(
            &store,
            thread,
            &format!("r{i}@x.no"),
            &format!("Replied {i}"),
            State::Replied,
            1,
            Some(1),
            EventKind::Reply,
            "replied",
            at,
        )
        .await;
        let thread = (each + i) as i64 + 1;
        add(
            &store,
            thread,
            &format!("l{i}@x.no"),
            &format!("Let go {i}"),
            State::LetGo,
            3,
            None,
            EventKind::LetGo,
            "let go",
            at,
        )
        .await;
        let thread = (2 * each + i) as i64 + 1;
        let id = add(
            &store,
            thread,
            &format!("d{i}@x.no"),
            &format!("Drafted {i}"),
            State::Drafted,
            1,
            None,
            EventKind::Drafted,
            "drafted",
            at,
        )
        .await;
        store
            .begin_draft(&Draft {
                id: 0,
                conversation_id: id,
                step: 2,
                template: "followup-2".into(),
                variant: 0,
                language: "en".into(),
                message_id: format!("d{i}@x"),
                folder: Some("Drafts".into()),
                uidvalidity: Some(1),
                uid: Some(i as u32 + 1),
                state: DraftState::Pending,
                created_at: oslo(21, 20) - Duration::hours(i as i64),
                fingerprint: None,
                parent_message_id: None,
                seller_message_id: None,
                removal_attempts: 0,
            })
            .await
            .unwrap();
    }
    let due = oslo(23, 7);
    let summary = nudge::summary::compute(&store, &config(), due, due)
        .await
        .unwrap();
    let (n, more) = (&summary.n, &summary.more);
    assert_eq!(
        (n.replies, n.let_go, n.drafts_waiting),
        (each as u32, each as u32, each as u32)
    );
    assert_eq!((more.replied, more.let_go, more.drafts_waiting), (3, 3, 3));
    let subjects = |list: Vec<&String>| list.into_iter().cloned().collect::<Vec<String>>();
    // The latest replies and let-gos first: the ones the seller is least likely to have seen.
    let latest: Vec<String> = (0..each)
        .rev()
        .take(limit)
        .map(|i| format!("Replied {i}"))
        .collect();
    assert_eq!(
        subjects(summary.replied.iter().map(|r| &r.subject).collect()),
        latest
    );
    let latest: Vec<String> = (0..each)
        .rev()
        .take(limit)
        .map(|i| format!("Let go {i}"))
        .collect();
    assert_eq!(
        subjects(summary.let_go.iter().map(|l| &l.subject).collect()),
        latest
    );
    // The oldest drafts first: the ones going stale.
    let oldest: Vec<String> = (0..each)
        .rev()
        .take(limit)
        .map(|i| format!("Drafted {i}"))
        .collect();
    assert_eq!(
        subjects(summary.drafts_waiting.iter().map(|d| &d.subject).collect()),
        oldest
    );

    let (text, html) = nudge::summary::render(&summary, config().account.language).unwrap();
    assert_eq!(text.matches("\n  and 3 more\n").count(), 3, "{text}");
    assert_eq!(html.matches(">and 3 more</td>").count(), 3);
    assert!(
        !text.contains("Replied 2\"") && text.contains("Replied 3\""),
        "{text}"
    );
}

fn opener(days_ago_from: DateTime<Utc>) -> String {
    Message {
        from: "Kari Nordmann <kari@fjordsalg.no>",
        to: "Ingrid Berg <ingrid.berg@fjordkraft.no>",
        subject: "Tilbud på rammeavtale",
        message_id: "a1@fjordsalg.no",
        in_reply_to: None,
        date: &(days_ago_from - Duration::days(2)).to_rfc2822(),
        body: "Hei Ingrid, her er tilbudet vi snakket om.",
        extra: "",
    }
    .render()
}

async fn deliver_over(security: SmtpSecurity, smtp_security: &str) {
    let dovecot = Dovecot::start(DovecotOptions {
        users: vec![(SELLER.to_string(), PASSWORD.to_string())],
        ..Default::default()
    });
    let smtp = SmtpServer::start(security, SELLER, PASSWORD, dovecot.ca());
    let extra = format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"{smtp_security}\"\nusername = \"{SELLER}\"\npassword_env = \"NUDGE_TEST_PASSWORD\"\nca_file = \"{}\"\n",
        smtp.port(),
        dovecot.ca().ca_path().display()
    );
    let nudge = Nudge::new(&dovecot, &extra);
    let mut client = MailClient::connect(&dovecot, SELLER, PASSWORD).await;
    client
        .append("Sent", &opener(oslo(18, 9)), &["\\Seen"])
        .await;
    // First start in week 47: no summary that week, even on its due day.
    nudge.sync("2026-11-18T09:00:00+01:00");
    assert!(smtp.received().is_empty());
    // Monday 23 November 07:30 is due.
    nudge.sync("2026-11-23T07:00:00+01:00");
    assert!(smtp.received().is_empty(), "not before its time");
    let out = nudge.sync("2026-11-23T07:30:00+01:00");
    assert!(
        out.contains("sent the weekly summary for 2026-W48"),
        "{out}"
    );
    let received = smtp.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].rcpt_to,
        vec![SELLER.to_string()],
        "only ever to the seller"
    );
    let mail = MessageParser::default().parse(&received[0].data).unwrap();
    assert_eq!(
        mail.content_type()
            .map(|c| (c.ctype().to_string(), c.subtype().map(str::to_string))),
        Some(("multipart".into(), Some("alternative".into())))
    );
    assert_eq!(
        mail.header_raw("Auto-Submitted").map(str::trim),
        Some("auto-generated")
    );
    assert_eq!(
        mail.header_raw("X-Nudge-Summary").map(str::trim),
        Some("2026-W48")
    );
    assert!(mail.body_html(0).is_some() && mail.body_text(0).is_some());
    // Later the same week: nothing more. The next week: the next one.
    nudge.sync("2026-11-26T12:00:00+01:00");
    assert_eq!(smtp.received().len(), 1);
    // Gmail keeps a copy in Sent: it is never tracked.
    client
        .append(
            "Sent",
            &String::from_utf8_lossy(&received[0].data),
            &["\\Seen"],
        )
        .await;
    nudge.sync("2026-11-30T08:00:00+01:00");
    let received = smtp.received();
    assert_eq!(received.len(), 2);
    assert!(received
        .iter()
        .all(|m| m.rcpt_to == vec![SELLER.to_string()]));
    assert_eq!(
        nudge.status().len(),
        1,
        "the summary's copy in Sent is not a conversation"
    );
}

#[tokio::test]
async fn the_summary_goes_out_over_starttls_with_auth() {
    deliver_over(SmtpSecurity::StartTls, "starttls").await;
}

#[tokio::test]
async fn the_summary_goes_out_over_implicit_tls() {
    deliver_over(SmtpSecurity::ImplicitTls, "tls").await;
}

#[tokio::test]
async fn without_smtp_the_summary_lands_unread_in_inbox() {
    let dovecot = Dovecot::start(DovecotOptions {
        users: vec![(SELLER.to_string(), PASSWORD.to_string())],
        ..Default::default()
    });
    let nudge = Nudge::new(&dovecot, "");
    let mut client = MailClient::connect(&dovecot, SELLER, PASSWORD).await;
    client
        .append("Sent", &opener(oslo(18, 9)), &["\\Seen"])
        .await;
    nudge.sync("2026-11-18T09:00:00+01:00");
    nudge.sync("2026-11-23T08:00:00+01:00");
    let inbox = client.messages("INBOX").await;
    let summaries: Vec<_> = inbox
        .iter()
        .filter(|m| m.header("X-Nudge-Summary").is_some())
        .collect();
    assert_eq!(summaries.len(), 1);
    assert!(
        !summaries[0].flags.iter().any(|f| f.contains("Seen")),
        "unread"
    );
    nudge.sync("2026-11-23T09:00:00+01:00");
    assert_eq!(
        nudge.status().len(),
        1,
        "the summary in INBOX is not a reply or a conversation"
    );
    assert_ne!(nudge.conversation("Tilbud").unwrap()["state"], "replied");
    let preview = nudge.run(&["summary", "--preview", "--now", "2026-11-23T09:00:00+01:00"]);
    let text = String::from_utf8_lossy(&preview.stdout);
    assert!(preview.status.success(), "{text}");
    assert!(text.contains("The HTML part is in"), "{text}");
}

#[tokio::test]
async fn summary_send_delivers_now_once_a_week() {
    let dovecot = Dovecot::start(DovecotOptions {
        users: vec![(SELLER.to_string(), PASSWORD.to_string())],
        ..Default::default()
    });
    let nudge = Nudge::new(&dovecot, "");
    let now = "2026-11-25T12:00:00+01:00";
    let first = nudge.run(&["summary", "--send", "--now", now]);
    let said = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(
        first.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(said.contains("2026-W48"), "{said}");
    let again = nudge.run(&["summary", "--send", "--now", now]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("sent before"));
    let mut client = MailClient::connect(&dovecot, SELLER, PASSWORD).await;
    let summaries = client
        .messages("INBOX")
        .await
        .into_iter()
        .filter(|m| m.header("X-Nudge-Summary").is_some())
        .count();
    assert_eq!(summaries, 1);
    assert!(
        !nudge.run(&["summary"]).status.success(),
        "--preview or --send is required"
    );
}

/// The seller's Dovecot with one tracked opener, and nudge configured for an SMTP server on
/// `port` (STARTTLS) that may not be running yet, with `secret` (a `password_…` line) and
/// `extra` lines in `[smtp]`. nudge first starts in week 47, so week 48's summary is due on
/// Monday 23 November 07:30.
async fn world_with_smtp_on(port: u16, secret: &str, extra: &str) -> (Dovecot, Nudge) {
    let dovecot = Dovecot::start(DovecotOptions {
        users: vec![(SELLER.to_string(), PASSWORD.to_string())],
        ..Default::default()
    });
    let section = format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"starttls\"\nusername = \"{SELLER}\"\n{secret}\nca_file = \"{}\"\n{extra}\n",
        dovecot.ca().ca_path().display()
    );
    let nudge = Nudge::new(&dovecot, &section);
    let mut client = MailClient::connect(&dovecot, SELLER, PASSWORD).await;
    client
        .append("Sent", &opener(oslo(18, 9)), &["\\Seen"])
        .await;
    nudge.sync("2026-11-18T09:00:00+01:00");
    (dovecot, nudge)
}

fn smtp_on(port: u16, dovecot: &Dovecot, after_data: AfterData) -> SmtpServer {
    SmtpServer::start_with(
        SmtpSecurity::StartTls,
        SELLER,
        PASSWORD,
        dovecot.ca(),
        SmtpOptions {
            port: Some(port),
            after_data,
        },
    )
}

#[tokio::test]
async fn a_summary_the_server_was_down_for_goes_out_once_at_a_later_pass() {
    let port = support::free_port();
    let (dovecot, nudge) =
        world_with_smtp_on(port, "password_env = \"NUDGE_TEST_PASSWORD\"", "").await;
    // Nothing listens yet: connection refused. The pass itself goes on and succeeds.
    let out = nudge.sync("2026-11-23T07:30:00+01:00");
    assert!(
        out.contains("the weekly summary for 2026-W48 did not reach the server (attempt 1)")
            && out.contains("trying again after 07:35:00"),
        "{out}"
    );
    let smtp = smtp_on(port, &dovecot, AfterData::Reply);
    // Before its retry time, the next pass leaves it alone.
    let out = nudge.sync("2026-11-23T07:33:00+01:00");
    assert!(!out.contains("weekly summary"), "{out}");
    assert!(smtp.received().is_empty(), "not before the retry time");
    let out = nudge.sync("2026-11-23T07:35:30+01:00");
    assert!(
        out.contains("sent the weekly summary for 2026-W48"),
        "{out}"
    );
    assert_eq!(smtp.received().len(), 1);
    // Later passes that week, and a retry time long gone: still exactly one.
    nudge.sync("2026-11-23T09:00:00+01:00");
    nudge.sync("2026-11-26T12:00:00+01:00");
    let received = smtp.received();
    assert_eq!(received.len(), 1, "delivered exactly once");
    let mail = MessageParser::default().parse(&received[0].data).unwrap();
    assert_eq!(
        mail.header_raw("X-Nudge-Summary").map(str::trim),
        Some("2026-W48")
    );
}

#[tokio::test]
async fn a_refused_login_is_tried_again_with_growing_waits_and_sends_once_fixed() {
    let port = support::free_port();
    let secret_file = std::env::temp_dir().join(format!("nudge-smtp-secret-{}", fastrand::u64(..)));
    std::fs::write(&secret_file, "not-the-password\n").unwrap();
    let secret = format!("password_command = \"cat {}\"", secret_file.display());
    let (dovecot, nudge) = world_with_smtp_on(port, &secret, "").await;
    let smtp = smtp_on(port, &dovecot, AfterData::Reply);

    let out = nudge.sync("2026-11-23T07:30:00+01:00");
    assert!(
        out.contains("(attempt 1)") && out.contains("authentication"),
        "{out}"
    );
    assert!(
        out.contains("trying again after 07:35:00"),
        "5 minutes: {out}"
    );
    let out = nudge.sync("2026-11-23T07:35:00+01:00");
    eprintln!("{out}");
    assert!(
        out.contains("(attempt 2)") && out.contains("trying again after 07:45:00"),
        "then 10 minutes: {out}"
    );
    assert!(
        !out.contains("not-the-password"),
        "the secret is in no message"
    );
    // The seller fixes the password; the next attempt waits for its time, then goes out.
    std::fs::write(&secret_file, format!("{PASSWORD}\n")).unwrap();
    let out = nudge.sync("2026-11-23T07:40:00+01:00");
    assert!(!out.contains("weekly summary"), "{out}");
    let out = nudge.sync("2026-11-23T07:45:00+01:00");
    assert!(
        out.contains("sent the weekly summary for 2026-W48"),
        "{out}"
    );
    nudge.sync("2026-11-23T10:00:00+01:00");
    nudge.sync("2026-11-27T10:00:00+01:00");
    assert_eq!(smtp.received().len(), 1, "delivered exactly once");
    let _ = std::fs::remove_file(&secret_file);
}

/// The server takes the text and then ends the connection (`Drop`) or keeps its answer past
/// nudge's timeout (`Hang`): the summary may have been delivered, so it is never sent again,
/// not even to a server that works perfectly afterwards.
async fn never_resent_after(after_data: AfterData) {
    let port = support::free_port();
    let (dovecot, nudge) = world_with_smtp_on(
        port,
        "password_env = \"NUDGE_TEST_PASSWORD\"",
        "timeout_seconds = 3",
    )
    .await;
    let mut flaky = smtp_on(port, &dovecot, after_data);
    let out = nudge.sync("2026-11-23T07:30:00+01:00");
    eprintln!("{after_data:?}: {out}");
    assert!(
        out.contains("the weekly summary for 2026-W48 may or may not have been delivered")
            && out.contains("not sent again"),
        "{out}"
    );
    assert_eq!(flaky.received().len(), 1, "the server did get it");
    flaky.stop();
    let good = smtp_on(port, &dovecot, AfterData::Reply);
    for now in [
        "2026-11-23T07:40:00+01:00",
        "2026-11-23T09:00:00+01:00",
        "2026-11-24T12:00:00+01:00",
        "2026-11-29T20:00:00+01:00",
    ] {
        let out = nudge.sync(now);
        assert!(!out.contains("weekly summary"), "{now}: {out}");
    }
    assert!(good.received().is_empty(), "never sent a second time");
    // The next week's summary is a new one.
    let out = nudge.sync("2026-11-30T08:00:00+01:00");
    assert!(
        out.contains("sent the weekly summary for 2026-W49"),
        "{out}"
    );
    assert_eq!(good.received().len(), 1);
}

#[tokio::test]
async fn a_summary_whose_connection_dropped_after_its_text_is_never_sent_again() {
    never_resent_after(AfterData::Drop).await;
}

#[tokio::test]
async fn a_summary_whose_final_reply_never_came_is_never_sent_again() {
    never_resent_after(AfterData::Hang(20)).await;
}

#[tokio::test]
async fn summary_send_reports_a_refusal_and_leaves_the_retry_to_the_passes() {
    let port = support::free_port();
    let (dovecot, nudge) =
        world_with_smtp_on(port, "password_env = \"NUDGE_TEST_PASSWORD\"", "").await;
    // `summary --send` on Wednesday of week 48 while the server is down: it fails clearly.
    let now = "2026-11-25T12:00:00+01:00";
    let first = nudge.run(&["summary", "--send", "--now", now]);
    let said = String::from_utf8_lossy(&first.stderr).into_owned();
    assert!(!first.status.success(), "{said}");
    assert!(said.contains("cannot connect to SMTP server"), "{said}");
    // The server is back: the daemon's next pass after the retry time sends it, once.
    let smtp = smtp_on(port, &dovecot, AfterData::Reply);
    let out = nudge.sync("2026-11-25T12:06:00+01:00");
    assert!(
        out.contains("sent the weekly summary for 2026-W48"),
        "{out}"
    );
    nudge.sync("2026-11-25T13:00:00+01:00");
    let again = nudge.run(&["summary", "--send", "--now", "2026-11-25T14:00:00+01:00"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("sent before"));
    assert_eq!(smtp.received().len(), 1);
}

#[tokio::test]
async fn the_next_wake_of_a_pass_is_the_summary_retry_time() {
    let port = support::free_port();
    let dovecot = Dovecot::start(DovecotOptions {
        users: vec![(SELLER.to_string(), PASSWORD.to_string())],
        ..Default::default()
    });
    // In-process, so both passwords come from a command rather than this test's environment.
    let secret = format!("password_command = \"printf '%s' '{PASSWORD}'\"");
    let section = format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"starttls\"\nusername = \"{SELLER}\"\n{secret}\nca_file = \"{}\"\n",
        dovecot.ca().ca_path().display()
    );
    let nudge = Nudge::new(&dovecot, &section);
    let text = std::fs::read_to_string(&nudge.config).unwrap().replacen(
        "password_env = \"NUDGE_TEST_PASSWORD\"",
        &secret,
        1,
    );
    std::fs::write(&nudge.config, text).unwrap();
    let config = Config::load(&nudge.config).unwrap();
    let at = |t: &str| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc);
    nudge::commands::sync(&config, at("2026-11-18T09:00:00+01:00"), false, &Quiet)
        .await
        .unwrap();
    // Nothing listens on the SMTP port: the attempt fails, the pass does not.
    let report = nudge::commands::sync(&config, at("2026-11-23T07:30:00+01:00"), false, &Quiet)
        .await
        .expect("a failed summary does not fail the pass");
    assert_eq!(
        report.next_wake,
        Some(at("2026-11-23T07:35:00+01:00")),
        "{:?}",
        report.changes
    );
    let report = nudge::commands::sync(&config, at("2026-11-23T07:32:00+01:00"), false, &Quiet)
        .await
        .unwrap();
    assert_eq!(report.next_wake, Some(at("2026-11-23T07:35:00+01:00")));
}

/// A hostile SMTP peer on loopback for one connection: it greets, then answers each command
/// line with what `reply` returns for it (`None` ends the session). Returns its port and, at
/// its end, the command lines it saw.
async fn hostile_smtp(
    reply: fn(&str) -> Option<&'static [u8]>,
) -> (u16, tokio::task::JoinHandle<Vec<String>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let mut seen = Vec::new();
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 hostile ESMTP\r\n").await.ok();
        while let Ok(Some(line)) = lines.next_line().await {
            seen.push(line.clone());
            match reply(&line) {
                Some(bytes) => write.write_all(bytes).await.ok(),
                None => break,
            };
        }
        seen
    });
    (port, server)
}

fn smtp_config_to(port: u16, security: &str) -> Config {
    let text = format!(
        r#"
[account]
email = "kari@fjordsalg.no"
name = "Kari Nordmann"
own_domains = ["fjordsalg.no"]
timezone = "Europe/Oslo"

[imap]
host = "127.0.0.1"
security = "plain"
username = "kari"
password_command = "echo secret"

[smtp]
host = "127.0.0.1"
port = {port}
security = "{security}"
username = "kari"
password_command = "echo secret"
"#
    );
    Config::parse(&text, None, true).unwrap()
}

fn a_summary() -> lettre::Message {
    lettre::Message::builder()
        .from("kari@fjordsalg.no".parse().unwrap())
        .to("kari@fjordsalg.no".parse().unwrap())
        .subject("summary")
        .body(String::from("hello"))
        .unwrap()
}

/// A server whose EHLO reply holds whitespace-only lines: lettre 0.11.23 panicked on them
/// (RUSTSEC-2026-0562). Such a line names no extension, and the summary goes out.
#[tokio::test]
async fn a_whitespace_only_ehlo_line_is_skipped_and_the_summary_goes_out() {
    let (port, server) = hostile_smtp(|line| {
        let command = line.to_ascii_uppercase();
        Some(if command.starts_with("EHLO") {
            b"250-hostile\r\n250-   \r\n250-\t\r\n250 AUTH PLAIN\r\n"
        } else if command.starts_with("AUTH") {
            b"235 ok\r\n"
        } else if command.starts_with("DATA") {
            b"354 go on\r\n"
        } else if command == "." || command.starts_with("MAIL") || command.starts_with("RCPT") {
            b"250 ok\r\n"
        } else if command.starts_with("QUIT") {
            return None;
        } else {
            // A line of the message's text.
            b""
        })
    })
    .await;
    let config = smtp_config_to(port, "plain");
    let outcome = nudge::smtp::send(config.smtp.as_ref().unwrap(), a_summary()).await;
    assert!(outcome.is_ok(), "{:?}", outcome.err());
    let seen = server.await.unwrap();
    assert!(seen.iter().any(|l| l == "."), "the text was sent: {seen:?}");
}

/// A man in the middle before TLS queues a forged reply right behind the 220 to STARTTLS.
/// Bytes that came before the handshake are never read as if they came through it: the
/// connection fails before any TLS is spoken, and nothing more is sent.
#[tokio::test]
async fn a_reply_queued_before_the_starttls_handshake_fails_the_connection() {
    let (port, server) = hostile_smtp(|line| {
        let command = line.to_ascii_uppercase();
        if command.starts_with("EHLO") {
            Some(b"250-hostile\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n")
        } else if command.starts_with("STARTTLS") {
            Some(b"220 go ahead\r\n250-injected\r\n250 AUTH PLAIN\r\n")
        } else {
            None
        }
    })
    .await;
    let config = smtp_config_to(port, "starttls");
    let outcome = nudge::smtp::send(config.smtp.as_ref().unwrap(), a_summary()).await;
    let error = outcome.expect_err("the injected reply is refused");
    assert!(
        matches!(error, nudge::smtp::Undelivered::Refused(_)),
        "a failure before the text is a certain refusal: {error:?}"
    );
    assert!(
        error
            .error()
            .to_string()
            .contains("unexpected data after the reply to STARTTLS"),
        "the error says where: {}",
        error.error()
    );
    let seen = server.await.unwrap();
    assert_eq!(
        seen.iter()
            .filter(|l| !l.to_ascii_uppercase().starts_with("EHLO"))
            .count(),
        1,
        "nothing after STARTTLS reached the peer in the clear: {seen:?}"
    );
}

/// A follow-up nudge drafted and the seller has not sent (or deleted) reached nobody: the
/// reply rate of its step does not count it.
#[tokio::test]
async fn an_unsent_draft_does_not_count_as_reaching_its_step() {
    let dir = tempfile::tempdir().unwrap();
    let store = support::stores::fresh(dir.path()).await;
    threads(&store, 1).await;
    let week = oslo(18, 12);
    let id = add(
        &store,
        1,
        "a@one.no",
        "Drafted, not sent",
        State::Drafted,
        0,
        None,
        EventKind::Touch,
        "wrote",
        week,
    )
    .await;
    let mut drafted = event(week, EventKind::Drafted, "drafted follow-up 1");
    drafted.step = Some(1);
    let mut dismissed = event(week, EventKind::Dismissed, "deleted follow-up 1");
    dismissed.step = Some(1);
    store
        .commit_effects(
            None,
            &[Effect::Note(id, drafted), Effect::Note(id, dismissed)],
            week,
        )
        .await
        .unwrap();
    let due = oslo(23, 7);
    let summary = nudge::summary::compute(&store, &config(), due, due)
        .await
        .unwrap();
    let reached: Vec<(u32, u32)> = summary.rates.iter().map(|r| (r.step, r.reached)).collect();
    assert_eq!(reached[0], (0, 1), "the opener reached them");
    assert_eq!(
        reached[1],
        (1, 0),
        "follow-up 1 never left Drafts: {reached:?}"
    );
}
