//! The demo cannot rot silently: its mailbox generator and its story run here against a real
//! Dovecot and SMTP server, with the nudge binary cargo built for the tests, and every sample
//! conversation must come out as the sample says it does.

mod support;

#[path = "../examples/demo/sample.rs"]
mod sample;
#[path = "../examples/demo/story.rs"]
mod story;

use std::collections::BTreeSet;

use mail_parser::MessageParser;
use sample::{AtStart, Folder, Sample};
use support::mailclient::MailClient;
use support::nudge::{seller_dovecot, Nudge, PASSWORD, SELLER};
use support::{Dovecot, SmtpSecurity, SmtpServer};

struct World {
    dovecot: Dovecot,
    smtp: SmtpServer,
    nudge: Nudge,
    client: MailClient,
    sample: Sample,
}

async fn world() -> World {
    let dovecot = seller_dovecot();
    let smtp = SmtpServer::start(SmtpSecurity::StartTls, SELLER, PASSWORD, dovecot.ca());
    let nudge = story::nudge(&dovecot, &smtp);
    let mut client = MailClient::connect(&dovecot, SELLER, PASSWORD).await;
    let sample = sample::generate();
    story::seed(&mut client, &sample).await;
    World {
        dovecot,
        smtp,
        nudge,
        client,
        sample,
    }
}

/// Plays the sample up to `until`; what it came to, and the story told.
async fn play_until(
    w: &mut World,
    until: chrono::DateTime<chrono::Utc>,
) -> (story::Ending, String) {
    let mut lines = Vec::new();
    let mut keep = |line: &str| lines.push(line.to_string());
    let mut told = story::Story::new(&w.sample, &mut keep);
    let ending = story::play(&w.nudge, &mut w.client, &w.sample, until, &mut told)
        .await
        .unwrap_or_else(|e| panic!("the demo's story fails: {e}"));
    (ending, lines.join("\n"))
}

#[test]
fn the_sample_covers_what_the_demo_promises() {
    let sample = sample::generate();
    assert!(
        sample.cases.len() >= 15,
        "{} conversations",
        sample.cases.len()
    );
    let countries: BTreeSet<&str> = sample
        .cases
        .iter()
        .filter_map(|c| c.prospect.email.rsplit('.').next())
        .collect();
    for country in ["no", "se", "dk", "uk"] {
        assert!(
            countries.contains(country),
            "no prospect in .{country}: {countries:?}"
        );
    }
    let about: Vec<&str> = sample.cases.iter().map(|c| c.about).collect();
    for shown in [
        "replies",
        "colleague at his company",
        "out of office",
        "bounces",
        "not to be contacted",
        "mailing list",
        "noreply",
        "breaks the thread",
        "older than the lookback",
        "edits a draft",
        "deletes the draft",
    ] {
        assert!(
            about.iter().any(|a| a.contains(shown)),
            "no conversation shows {shown:?}: {about:?}"
        );
    }
    // Openers of different ages at the first start.
    let ages: BTreeSet<i64> = sample
        .mailbox
        .iter()
        .filter(|m| m.folder == Folder::Sent)
        .filter_map(|m| {
            MessageParser::default()
                .parse(m.raw.as_bytes())?
                .date()
                .cloned()
        })
        .map(|d| (sample::first_start().timestamp() - d.to_timestamp()) / 86_400)
        .collect();
    assert!(ages.len() >= 8, "opener ages in days: {ages:?}");
    assert!(ages.iter().any(|&a| a > 14), "one older than the lookback");

    // Every generated message parses, with the headers a mail client relies on.
    let raws: Vec<&str> = sample
        .mailbox
        .iter()
        .map(|m| m.raw.as_str())
        .chain(sample.timeline.iter().filter_map(|e| match &e.action {
            sample::Action::Arrives(raw) | sample::Action::Writes(raw) => Some(raw.as_str()),
            _ => None,
        }))
        .collect();
    let mut ids = BTreeSet::new();
    for &raw in &raws {
        let parsed = MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap_or_else(|| panic!("does not parse:\n{raw}"));
        let id = parsed
            .message_id()
            .unwrap_or_else(|| panic!("no Message-ID:\n{raw}"));
        assert!(ids.insert(id.to_string()), "Message-ID {id} twice");
        assert!(parsed.date().is_some(), "no Date:\n{raw}");
        let head = raw.split("\n\n").next().unwrap_or(raw);
        for line in raw.lines() {
            assert!(line.len() <= 998, "a line over RFC 5322's limit:\n{line}");
        }
        for word in head.split_whitespace().filter(|w| w.starts_with("=?")) {
            assert!(
                word.len() <= 75,
                "an encoded word over 75 characters: {word}"
            );
        }
        assert!(parsed.from().is_some() && parsed.to().is_some(), "{raw}");
        assert!(
            parsed.body_text(0).is_some_and(|t| !t.trim().is_empty()),
            "{raw}"
        );
    }
    // Outlook's mail comes as text and HTML, the HTML with Outlook's own reply markers.
    assert!(
        raws.iter()
            .any(|raw| raw.contains("multipart/alternative") && raw.contains("divRplyFwdMsg")),
        "no Outlook reply with its HTML part"
    );
    // The out-of-office names its return date in Norwegian.
    assert!(sample
        .mailbox
        .iter()
        .any(|m| m.raw.contains("X-Auto-Response-Suppress: All")
            && m.raw.contains("tilbake mandag 16. november")));
}

#[tokio::test]
async fn at_the_first_pass_each_sample_conversation_is_read_as_it_says() {
    let mut w = world().await;
    let (ending, story) = play_until(&mut w, sample::first_start()).await;

    let mut drafted = 0;
    for case in &w.sample.cases {
        let status = story::status_of(&ending.status, case);
        let state = status.and_then(|s| s["state"].as_str());
        let expected = match case.at_start {
            AtStart::Waiting => Some("waiting"),
            AtStart::Drafted => Some("drafted"),
            AtStart::Replied => Some("replied"),
            AtStart::Bounced => Some("bounced"),
            AtStart::NotTracked | AtStart::Later => None,
        };
        assert_eq!(
            state, expected,
            "{} ({}) at the first pass\n{story}",
            case.prospect.name, case.about
        );
        if case.at_start == AtStart::Drafted {
            drafted += 1;
            let line = format!(
                "drafted follow-up 1 to {} ({}) in {}",
                case.prospect.name,
                case.prospect.company,
                case.prospect.lang.name()
            );
            assert!(story.contains(&line), "no {line:?} in\n{story}");
        }
    }
    assert_eq!(
        ending.drafts.len(),
        drafted,
        "one draft per overdue conversation"
    );
    assert!(
        story.contains("back 2026-11-16"),
        "the return date is read: {story}"
    );
    assert!(
        w.smtp.received().is_empty(),
        "no summary in the week nudge first starts"
    );
    w.client.logout().await;
    drop(w.dovecot);
}

#[tokio::test]
async fn the_six_weeks_of_the_demo_end_as_the_sample_says() {
    let mut w = world().await;
    let (ending, story) = play_until(&mut w, sample::last_pass()).await;

    let astray = story::astray(&w.sample, &ending);
    assert!(astray.is_empty(), "{}\n{story}", astray.join("\n"));
    // Every draft nudge made speaks its prospect's language (a story line tells one pass for
    // one conversation, so it names at most one draft).
    let mut drafts_told = 0;
    for line in story.lines().filter(|l| l.contains("drafted ")) {
        let case = w
            .sample
            .cases
            .iter()
            .find(|c| {
                line.contains(&format!(
                    "to {} ({}) in ",
                    c.prospect.name, c.prospect.company
                ))
            })
            .unwrap_or_else(|| panic!("a draft to nobody in the sample: {line}"));
        assert!(
            line.ends_with(&format!("in {}", case.prospect.lang.name())),
            "{line}"
        );
        drafts_told += 1;
    }
    // At least one for each draft Kari sends or deletes.
    let acted_on = w
        .sample
        .timeline
        .iter()
        .filter(|e| matches!(e.action, sample::Action::Sends(_) | sample::Action::Deletes))
        .count();
    assert!(
        drafts_told >= acted_on && acted_on >= 15,
        "{drafts_told} drafts told, {acted_on} acted on, in\n{story}"
    );
    for line in [
        "drafted follow-up 1 to Ingrid Berg (Fjordkraft AS) in Norwegian",
        "Ingrid Berg (Fjordkraft AS) replied in the thread — draft withdrawn",
        "James Wright (Thames Build Ltd): Kari edited the draft: still pending",
        "Mette Larsen (Københavns Byg ApS): Kari deleted follow-up 1: stopped",
        "Anna Svensson (Nordisk Handel AB): no reply after the close-the-loop message: let go",
    ] {
        assert!(story.contains(line), "no {line:?} in\n{story}");
    }
    // The excerpt README.md shows is what the demo tells.
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let excerpt = readme
        .split_once("It tells the story as it goes:\n\n```\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(block, _)| block)
        .expect("README shows an excerpt of the story");
    assert!(excerpt.lines().count() >= 3, "{excerpt}");
    for line in excerpt.lines() {
        assert!(
            story.lines().any(|l| l == line),
            "README's story line {line:?} is not in\n{story}"
        );
    }
    // Kari's edit survived into what she sent.
    let sent = w.client.messages("Sent").await;
    assert!(
        sent.iter()
            .any(|m| m.text().contains("PS: I am in London on 24 November")),
        "the edited draft was sent with the edit"
    );
    // One waiting draft in the end, Nils's close-the-loop; one summary a week after the first,
    // each to Kari alone.
    assert_eq!(ending.drafts.len(), 1, "{story}");
    let summaries = w.smtp.received();
    assert_eq!(summaries.len(), 6, "weeks 47 to 52");
    for mail in &summaries {
        assert_eq!(
            mail.rcpt_to,
            vec![SELLER.to_string()],
            "nudge mailed someone else"
        );
    }
    // The first summary is what reminds Kari that Sara waits on her, as the story says.
    let first = MessageParser::default()
        .parse(&summaries[0].data)
        .and_then(|m| m.body_text(0).map(|t| t.into_owned()))
        .expect("the first summary has a text part");
    let waiting_on_you = first
        .split_once("DE VENTER PÅ SVAR FRA DEG")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no waiting-on-you list in\n{first}"));
    assert!(
        waiting_on_you.contains("sara.holm@osloeiendom.no"),
        "{first}"
    );
    w.client.logout().await;
}
