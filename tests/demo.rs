//! The demo cannot rot silently: its mailbox generator and its story run here against a real
//! Dovecot and SMTP server, with the nudge binary cargo built for the tests, and every sample
//! conversation must come out as the sample says it does. The team story (`demo --team`) runs
//! here too, on a real PostgreSQL, and must show what it promises.

mod support;

#[path = "../examples/demo/sample.rs"]
mod sample;
#[path = "../examples/demo/story.rs"]
mod story;
#[path = "../examples/demo/team.rs"]
mod team;

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

/// Plays the team story from `from` to `until`, adding its lines to `lines`; the story so far.
fn play_team(
    world: &team::World,
    from: chrono::DateTime<chrono::Utc>,
    until: chrono::DateTime<chrono::Utc>,
    lines: &mut Vec<String>,
) -> String {
    let mut keep = |line: &str| lines.push(line.to_string());
    let mut told = team::Story::new(&mut keep);
    team::play(world, from, until, &mut told)
        .unwrap_or_else(|e| panic!("the team story fails: {e}"));
    lines.join("\n")
}

/// The team story, in three stretches with a look at the mailboxes and the stores between
/// them: an opt-out to Kari binds Ola within the same `sync`, Kari's follow-up to the company
/// Per wrote to waits for the overlap and is drafted once it has passed, and the lead gets
/// one team summary.
#[test]
fn the_team_story_binds_colleagues_holds_an_overlap_and_mails_the_lead_once() {
    use team::{INGRID, KARI, NILS, OLA, PER};
    let world = team::World::start();
    team::seed(&world);
    let mut lines = Vec::new();
    let to = |seller: &team::Seller, who: &sample::Person| {
        world
            .drafts_to(seller)
            .iter()
            .any(|to| to.contains(who.email))
    };
    let state = |seller: &team::Seller, who: &sample::Person| {
        world
            .status(seller)
            .unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .find(|c| c["prospects"][0] == who.email)
            .and_then(|c| c["state"].as_str().map(str::to_string))
    };

    // Until the morning Ingrid answers Kari: both sellers have a draft to her waiting, and
    // Kari's follow-up to Nils waits for Per's recent message to his company.
    let before_opt_out = sample::oslo(2026, 11, 16, 10, 0);
    let story = play_team(&world, team::first_start(), before_opt_out, &mut lines);
    for seller in &team::SELLERS {
        assert!(
            !world.drafts_to(seller).is_empty(),
            "{}'s Drafts: {:?}\n{story}",
            seller.first,
            world.drafts_to(seller)
        );
    }
    assert!(to(&KARI, &INGRID) && to(&OLA, &INGRID), "{story}");
    assert!(
        !to(&KARI, &NILS),
        "the overlap holds Kari's follow-up\n{story}"
    );
    let held = "Thu 12 Nov 08:30  Kari: Nils Johansen (Tromsø Sjømat AS): per@fjordsalg.no of \
                your team wrote to tromsosjomat.no on 2026-11-04: the follow-up waits until \
                2026-11-18";
    assert!(story.lines().any(|l| l == held), "no {held:?} in\n{story}");

    // Ingrid opts out to Kari: Kari's pass stops her conversation, Ola's (in the same sync,
    // after Kari's) withdraws his draft to Ingrid, and his list says Kari saw it.
    let before_overlap_ends = sample::oslo(2026, 11, 17, 23, 0);
    let story = play_team(&world, before_opt_out, before_overlap_ends, &mut lines);
    assert!(!to(&KARI, &INGRID) && !to(&OLA, &INGRID), "{story}");
    let bound = story
        .lines()
        .find(|l| {
            l.contains(
                "→ Ola: Ingrid Berg (Fjordkraft AS): every prospect is on the suppression list",
            )
        })
        .unwrap_or_else(|| panic!("Ola's pass does not heed Kari's opt-out:\n{story}"));
    assert!(
        bound.starts_with("Mon 16 Nov 10:12")
            && bound.contains("seen by kari@fjordsalg.no")
            && bound.ends_with("draft withdrawn"),
        "{bound}"
    );
    assert_eq!(state(&KARI, &INGRID).as_deref(), Some("opted_out"));
    assert_eq!(state(&OLA, &INGRID).as_deref(), Some("stopped"));
    let list = world
        .nudge_for(&OLA, &["suppress", "list"])
        .unwrap_or_else(|e| panic!("{e}"));
    let entry = list
        .lines()
        .find(|l| l.contains(INGRID.email))
        .unwrap_or_else(|| panic!("Ingrid is not on Ola's list:\n{list}"));
    assert!(entry.contains("by kari@fjordsalg.no"), "{list}");
    assert!(!to(&KARI, &NILS), "the overlap still holds\n{story}");
    // One database for the three: each seller a member of the team, and the team's list says
    // whose mailbox the opt-out came to.
    let members = world.postgres.psql(
        team::DATABASE,
        "SELECT account FROM nudge_team.members WHERE team = 'Fjordsalg' ORDER BY account",
    );
    assert_eq!(
        members.lines().collect::<Vec<_>>(),
        [KARI.email, OLA.email, PER.email]
    );
    let added_by = world.postgres.psql(
        team::DATABASE,
        "SELECT added_by FROM nudge_team.suppressions WHERE address = 'ingrid.berg@fjordkraft.no'",
    );
    assert_eq!(added_by.trim(), KARI.email);
    assert!(world.smtp.received().is_empty(), "no summary before Friday");

    // The overlap passes on Wednesday and the draft is made; on Friday afternoon each seller
    // gets their summary and the lead the team's, once, though all three passes ran.
    let story = play_team(&world, before_overlap_ends, team::last_pass(), &mut lines);
    let drafted =
        "Wed 18 Nov 08:30  Kari: drafted follow-up 1 to Nils Johansen (Tromsø Sjømat AS) \
                   in Norwegian";
    assert!(
        story.lines().any(|l| l == drafted),
        "no {drafted:?} in\n{story}"
    );
    assert!(to(&KARI, &NILS), "{story}");
    assert_eq!(state(&KARI, &NILS).as_deref(), Some("drafted"));

    let summaries = team::team_summaries(&world.smtp);
    assert_eq!(summaries.len(), 1, "one team summary:\n{story}");
    let (subject, text) = &summaries[0];
    assert!(subject.starts_with("Team Fjordsalg: week 47"), "{subject}");
    for seen in [
        KARI.email,
        OLA.email,
        PER.email,
        "\"Serviceavtale for kranene\"",
        "\"Landstrøm til cruisekaien\"",
        "\"Vedlikehold av kranene på Dokken\"",
        "bergenhavn.no: ola@fjordsalg.no, per@fjordsalg.no",
    ] {
        assert!(text.contains(seen), "{seen:?} in the team summary:\n{text}");
    }
    assert!(!text.contains("Her er"), "no message text:\n{text}");
    let sent_by: Vec<&str> = story
        .lines()
        .filter(|l| l.contains("sent the team's summary"))
        .collect();
    assert_eq!(sent_by.len(), 1, "{story}");
    // And each seller's own summary, to themselves.
    let mut to_sellers: Vec<Vec<String>> = world
        .smtp
        .received()
        .into_iter()
        .map(|m| m.rcpt_to)
        .filter(|rcpt| rcpt != &[team::LEAD])
        .collect();
    to_sellers.sort();
    assert_eq!(
        to_sellers,
        vec![vec![KARI.email], vec![OLA.email], vec![PER.email]],
        "{story}"
    );
}
