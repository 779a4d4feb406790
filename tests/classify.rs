//! The fixture corpus: every `.eml` in `tests/fixtures/mail/` is parsed and classified with
//! both LF and CRLF line endings, and checked against `expected.tsv` (class, return date,
//! which conversation it affects, the returned Message-ID of a bounce).

mod support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, TimeZone, Utc};
use nudge::config::{TrackMode, Tracking};
use nudge::mail::classify::{classify, Classification, MessageClass};
use nudge::mail::parse::{parse, Mail};
use nudge::model::{Conversation, Message, Origin};
use nudge::rules::link::Index;
use nudge::rules::{Effect, Facts, Rules};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mail")
}

struct Expected {
    file: String,
    class: String,
    return_date: Option<NaiveDate>,
    counts_for: Option<char>,
    bounced_message_id: Option<String>,
}

fn expected() -> Vec<Expected> {
    let table = std::fs::read_to_string(fixtures().join("expected.tsv")).expect("expected.tsv");
    table
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 6, "six columns in {line:?}");
            let dash = |s: &str| (s != "-").then(|| s.to_string());
            Expected {
                file: cols[0].to_string(),
                class: cols[1].to_string(),
                return_date: dash(cols[2]).map(|d| d.parse().expect("YYYY-MM-DD")),
                counts_for: dash(cols[3]).and_then(|s| s.chars().next()),
                bounced_message_id: dash(cols[4]),
            }
        })
        .collect()
}

/// The seven conversations the fixtures answer (see the corpus README in expected.tsv's notes).
fn conversations() -> Vec<(char, String, Conversation)> {
    // The openers' Date headers, in UTC.
    let at = |d: u32, h: u32, m: u32| Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap();
    [
        (
            'A',
            "a1.opener@fjordsalg.no",
            "ingrid.berg@fjordkraft.no",
            at(10, 9, 15),
        ),
        (
            'B',
            "b1.opener@fjordsalg.no",
            "ola.hansen@gmail.com",
            at(11, 8, 2),
        ),
        (
            'C',
            "c1.opener@fjordsalg.no",
            "anna.svensson@nordichandel.se",
            at(12, 12, 40),
        ),
        (
            'D',
            "d1.opener@fjordsalg.no",
            "mette.jensen@dansktransport.dk",
            at(12, 13, 5),
        ),
        (
            'E',
            "e1.opener@fjordsalg.no",
            "james.wright@thamesbuild.co.uk",
            at(13, 11, 30),
        ),
        (
            'F',
            "f1.opener@fjordsalg.no",
            "k.weber@bergbau-gmbh.de",
            at(16, 7, 45),
        ),
        (
            'G',
            "g1.opener@fjordsalg.no",
            "mikko.virtanen@saimaanvesi.fi",
            at(17, 8, 30),
        ),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (letter, id, prospect, opener))| {
        let conversation = Conversation {
            id: i as i64 + 1,
            ..Conversation::new(i as i64 + 1, "", vec![prospect.to_string()], opener, None)
        };
        (letter, id.to_string(), conversation)
    })
    .collect()
}

/// Which conversation the message affects, decided by nudge's own rules: the message becomes
/// an inbound message in INBOX, its thread is the conversation whose opener it names (as the
/// store's threading would find), and [`Index::concerned`] and [`Rules::on_inbound`] decide.
fn affected(
    mail: &Mail,
    class: &Classification,
    rules: &Rules<'_>,
    received: NaiveDate,
) -> Option<char> {
    let all = conversations();
    let mut index = Index::default();
    for (_, _, c) in &all {
        index.insert(c.clone());
    }
    let thread_of = |id: &str| {
        all.iter()
            .find(|(_, opener, _)| opener == id)
            .map(|(_, _, c)| c.thread_id)
    };
    let ids = mail.thread_ids();
    let thread_id = ids.iter().find_map(|id| thread_of(id)).unwrap_or(1000);
    let returned = class.returned_message_id.clone();
    let from = mail.from.clone();
    let arrived = mail
        .date
        .unwrap_or_else(|| received.and_hms_opt(12, 0, 0).unwrap().and_utc());
    let message = Message {
        id: 999,
        origin: Origin::Inbox,
        thread_id,
        message_id: mail.message_id.clone(),
        in_reply_to: mail.in_reply_to.clone(),
        references: mail.references.clone(),
        from_addr: from.as_ref().map(|f| f.address.clone()).unwrap_or_default(),
        from_name: from.and_then(|f| f.name),
        to: mail.to.clone(),
        cc: mail.cc.clone(),
        subject: mail.subject.clone(),
        date: arrived,
        arrived,
        from_seller: mail
            .from
            .as_ref()
            .is_some_and(|f| rules.account.is_seller(&f.address)),
        class: Some(class.class),
        return_date: class.return_date,
        bounced_message_id: returned.clone(),
        bounced_recipient: class.failed_recipient.clone(),
        has_body: true,
        ..Message::default()
    };
    let facts = Facts {
        returned_thread: returned.as_deref().and_then(thread_of),
        ..Facts::default()
    };
    let effects = rules
        .decide(&index, &message, &facts, &HashSet::new(), arrived)
        .effects();
    effects
        .iter()
        .find_map(|effect| match effect {
            Effect::Update(c, _) => Some(c.id),
            Effect::Note(id, _) => Some(*id),
            _ => None,
        })
        .and_then(|id| all.iter().find(|(_, _, c)| c.id == id))
        .map(|(letter, _, _)| *letter)
}

fn line_endings(raw: &[u8]) -> [(&'static str, Vec<u8>); 2] {
    let text: Vec<u8> = {
        let mut out = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'\r' && raw.get(i + 1) == Some(&b'\n') {
                i += 1;
                continue;
            }
            out.push(raw[i]);
            i += 1;
        }
        out
    };
    let mut crlf = Vec::with_capacity(text.len() + text.len() / 20);
    for &b in &text {
        if b == b'\n' {
            crlf.push(b'\r');
        }
        crlf.push(b);
    }
    [("LF", text), ("CRLF", crlf)]
}

#[test]
fn every_fixture_is_listed_and_the_corpus_is_large_enough() {
    let listed: Vec<String> = expected().into_iter().map(|e| e.file).collect();
    let mut on_disk: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    on_disk.sort();
    for name in &on_disk {
        assert!(listed.contains(name), "{name} is not in expected.tsv");
    }
    for name in &listed {
        assert!(on_disk.contains(name), "{name} is listed but missing");
    }
    assert!(on_disk.len() >= 80, "only {} fixtures", on_disk.len());
}

#[test]
fn fixtures_classify_as_expected_with_lf_and_crlf() {
    let account = support::nudge::seller_account();
    let tracking = Tracking {
        mode: TrackMode::External,
        lookback_days: 14,
        stop_on_same_domain: true,
        ignore: vec![],
    };
    let rules = Rules {
        account: &account,
        tracking: &tracking,
        steps_total: 3,
        first_started_at: NaiveDate::from_ymd_opt(2026, 11, 18)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .expect("a valid time")
            .and_utc(),
    };
    let received = NaiveDate::from_ymd_opt(2026, 11, 18).unwrap();
    let mut failures = Vec::new();
    let cases = expected();
    for case in &cases {
        let raw = std::fs::read(fixtures().join(&case.file)).expect("fixture readable");
        for (ending, bytes) in line_endings(&raw) {
            let Some(mail) = parse(&bytes) else {
                failures.push(format!("{} ({ending}): not parsed", case.file));
                continue;
            };
            let class = classify(&mail, received);
            let mut wrong = Vec::new();
            if class.class.name() != case.class {
                wrong.push(format!(
                    "class {} (expected {})",
                    class.class.name(),
                    case.class
                ));
            }
            let return_date = class.return_date;
            if return_date != case.return_date {
                wrong.push(format!(
                    "return date {return_date:?} (expected {:?})",
                    case.return_date
                ));
            }
            if class.class == MessageClass::Bounce {
                let returned_message_id = &class.returned_message_id;
                if *returned_message_id != case.bounced_message_id {
                    wrong.push(format!(
                        "returned id {returned_message_id:?} (expected {:?})",
                        case.bounced_message_id
                    ));
                }
            }
            let affects = affected(&mail, &class, &rules, received);
            if affects != case.counts_for {
                wrong.push(format!(
                    "affects {affects:?} (expected {:?})",
                    case.counts_for
                ));
            }
            if !wrong.is_empty() {
                failures.push(format!("{} ({ending}): {}", case.file, wrong.join("; ")));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} checks failed:\n{}",
        failures.len(),
        cases.len() * 2,
        failures.join("\n")
    );
}

#[test]
fn truncated_and_mangled_fixtures_never_panic() {
    let received = NaiveDate::from_ymd_opt(2026, 11, 18).unwrap();
    for case in expected() {
        let raw = std::fs::read(fixtures().join(&case.file)).unwrap();
        // Cut every fixture at a few places, as a partial FETCH might.
        for cut in [1, 7, 64, 300, raw.len() / 2, raw.len().saturating_sub(3)] {
            let piece = &raw[..cut.min(raw.len())];
            if let Some(mail) = parse(piece) {
                let _ = classify(&mail, received);
            }
        }
    }
}
