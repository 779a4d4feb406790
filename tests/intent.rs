//! The intent corpora (`tests/fixtures/intent/`): what a prospect's reply says beyond "a
//! person answered". Every deferral case runs through `find_deferral`, every departure case
//! through `find_departure`, and each also as a raw message (LF and CRLF) through the full
//! `classify`, which must read only the new text: a quote of the seller's own "after the
//! summer" or "has left" is never the prospect's words.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use nudge::mail::classify::{classify, Classification, MessageClass};
use nudge::mail::intent::{find_deferral, find_departure};
use nudge::mail::parse::parse;
use serde::Deserialize;

const LANGUAGES: [&str; 6] = ["en", "nb", "sv", "da", "de", "fi"];

/// Cases a language needs per kind, and negatives among them.
fn minimum(lang: &str) -> usize {
    if matches!(lang, "de" | "fi") {
        8
    } else {
        15
    }
}
const MIN_NEGATIVES: usize = 3;

fn corpus(kind: &str, lang: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/intent")
        .join(kind)
        .join(format!("{lang}.toml"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeferralCase {
    received: NaiveDate,
    /// A date, "unresolved" (a deferral without a date) or "none" (no deferral).
    from: String,
    phrase: Option<String>,
    text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DepartureCase {
    sender: String,
    auto_reply: bool,
    /// "departure" or "none".
    expect: String,
    phrase: Option<String>,
    #[serde(default)]
    replacements: Vec<String>,
    text: String,
}

#[derive(Debug, Deserialize)]
struct File<T> {
    case: Vec<T>,
}

fn load<T: for<'de> Deserialize<'de>>(kind: &str, lang: &str) -> Vec<T> {
    let path = corpus(kind, lang);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    toml::from_str::<File<T>>(&text)
        .unwrap_or_else(|e| panic!("{path:?}: {e}"))
        .case
}

/// The case as a raw message from `sender` received on `received`, with LF or CRLF ends.
fn raw(sender: &str, received: NaiveDate, auto_reply: bool, body: &str, crlf: bool) -> String {
    let date = received
        .and_hms_opt(9, 30, 0)
        .expect("a time")
        .format("%a, %d %b %Y %H:%M:%S +0000");
    let (subject, extra) = if auto_reply {
        ("Automatic reply: Tilbud", "Auto-Submitted: auto-replied\n")
    } else {
        ("Re: Tilbud", "")
    };
    let text = format!(
        "From: Prospect <{sender}>\nTo: Kari Nordmann <kari@fjordsalg.no>\nSubject: {subject}\n\
         Date: {date}\nMessage-ID: <intent-case@example.net>\nIn-Reply-To: <a1@fjordsalg.no>\n\
         {extra}MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\
         Content-Transfer-Encoding: 8bit\n\n{body}"
    );
    if crlf {
        text.replace('\n', "\r\n")
    } else {
        text
    }
}

fn classified(
    sender: &str,
    received: NaiveDate,
    auto_reply: bool,
    body: &str,
) -> [Classification; 2] {
    [false, true].map(|crlf| {
        let message = raw(sender, received, auto_reply, body, crlf);
        let mail = parse(message.as_bytes()).expect("the raw case parses");
        classify(&mail, received)
    })
}

fn short(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(90)
        .collect()
}

#[test]
fn deferral_corpus() {
    let mut failures = Vec::new();
    let mut counts = Vec::new();
    for lang in LANGUAGES {
        let cases: Vec<DeferralCase> = load("deferral", lang);
        let negatives = cases.iter().filter(|c| c.from == "none").count();
        counts.push(format!(
            "{lang}: {} cases, {negatives} negatives",
            cases.len()
        ));
        assert!(
            cases.len() >= minimum(lang),
            "deferral/{lang}: too few cases"
        );
        assert!(
            negatives >= MIN_NEGATIVES,
            "deferral/{lang}: too few negatives"
        );
        for (i, case) in cases.iter().enumerate() {
            let label = format!("deferral/{lang} #{}: {}", i + 1, short(&case.text));
            let found = find_deferral(&case.text, case.received);
            let expected_from = match case.from.as_str() {
                "none" => None,
                "unresolved" => Some(None),
                date => Some(Some(
                    date.parse::<NaiveDate>()
                        .unwrap_or_else(|e| panic!("{label}: from {date:?}: {e}")),
                )),
            };
            if found.as_ref().map(|f| f.from) != expected_from {
                failures.push(format!(
                    "{label}\n    expected {expected_from:?}, found {found:?}"
                ));
                continue;
            }
            if let (Some(found), Some(phrase)) = (&found, &case.phrase) {
                if !found.phrase.contains(phrase.as_str()) || found.phrase.chars().count() > 100 {
                    failures.push(format!(
                        "{label}\n    phrase {:?} does not hold {phrase:?}",
                        found.phrase
                    ));
                }
            }
            // The full classification of the raw message agrees, with either line end.
            for result in classified(
                "prospect@kunde-eksempel.no",
                case.received,
                false,
                &case.text,
            ) {
                if result.class != MessageClass::Reply || result.deferral != found {
                    failures.push(format!(
                        "{label}\n    classify: {:?} with {:?}, find_deferral: {found:?}",
                        result.class, result.deferral
                    ));
                }
            }
        }
    }
    eprintln!("deferral corpus: {}", counts.join("; "));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn departure_corpus() {
    let mut failures = Vec::new();
    let mut counts = Vec::new();
    for lang in LANGUAGES {
        let cases: Vec<DepartureCase> = load("departure", lang);
        let negatives = cases.iter().filter(|c| c.expect == "none").count();
        counts.push(format!(
            "{lang}: {} cases, {negatives} negatives",
            cases.len()
        ));
        assert!(
            cases.len() >= minimum(lang),
            "departure/{lang}: too few cases"
        );
        assert!(
            negatives >= MIN_NEGATIVES,
            "departure/{lang}: too few negatives"
        );
        for (i, case) in cases.iter().enumerate() {
            let label = format!("departure/{lang} #{}: {}", i + 1, short(&case.text));
            assert!(
                matches!(case.expect.as_str(), "departure" | "none"),
                "{label}: expect is departure or none"
            );
            let found = find_departure(&case.text, &case.sender);
            match (&found, case.expect.as_str()) {
                (None, "none") => {}
                (Some(found), "departure") => {
                    let phrase = case.phrase.as_deref().unwrap_or_default();
                    if !found.phrase.contains(phrase) || found.phrase.chars().count() > 100 {
                        failures.push(format!(
                            "{label}\n    phrase {:?} does not hold {phrase:?}",
                            found.phrase
                        ));
                    }
                    if found.replacements != case.replacements {
                        failures.push(format!(
                            "{label}\n    replacements {:?}, expected {:?}",
                            found.replacements, case.replacements
                        ));
                    }
                }
                (found, expected) => {
                    failures.push(format!("{label}\n    expected {expected}, found {found:?}"));
                    continue;
                }
            }
            let class = if case.auto_reply {
                MessageClass::AutoReply
            } else {
                MessageClass::Reply
            };
            let received = NaiveDate::from_ymd_opt(2026, 11, 18).expect("a date");
            for result in classified(&case.sender, received, case.auto_reply, &case.text) {
                if result.class != class || result.departure != found {
                    failures.push(format!(
                        "{label}\n    classify: {:?} with {:?}, find_departure: {found:?}",
                        result.class, result.departure
                    ));
                }
                if case.auto_reply && (result.deferral.is_some() || result.asks) {
                    failures.push(format!("{label}\n    an auto-reply defers or asks nothing"));
                }
            }
        }
    }
    eprintln!("departure corpus: {}", counts.join("; "));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The seller's own words, quoted under a plain thank-you, decide nothing; the same words
/// written new do.
#[test]
fn quoted_seller_text_is_never_the_prospects_words() {
    let received = NaiveDate::from_ymd_opt(2026, 5, 12).expect("a date");
    let quoted = "Thanks, sounds good.\n\nOn Tue, 12 May 2026 at 09:15, Kari Nordmann <kari@fjordsalg.no> wrote:\n> Should I follow up after the summer instead? Can you confirm?\n> Anna has left the company, so please contact per@x.no.\n";
    for result in classified("tom@kunde-eksempel.no", received, false, quoted) {
        assert_eq!(result.class, MessageClass::Reply);
        assert_eq!(result.deferral, None);
        assert_eq!(result.departure, None);
        assert!(!result.asks, "the question is the seller's own");
    }
    let written = "Not now – please follow up after the summer. Anna has left the company, so please contact per@x.no.\n";
    for result in classified("tom@kunde-eksempel.no", received, false, written) {
        let deferral = result.deferral.expect("a deferral");
        assert_eq!(deferral.from, NaiveDate::from_ymd_opt(2026, 8, 1));
        let departure = result.departure.expect("a departure");
        assert_eq!(departure.replacements, ["per@x.no"]);
    }
}

/// An opt-out is never a deferral, even when it names a period.
#[test]
fn an_opt_out_is_never_a_deferral() {
    let received = NaiveDate::from_ymd_opt(2026, 5, 12).expect("a date");
    let body = "Please remove me from your list. Not now, not after the summer, never.\n";
    for result in classified("tom@kunde-eksempel.no", received, false, body) {
        assert_eq!(result.class, MessageClass::OptOut);
        assert_eq!(result.deferral, None);
        assert!(!result.asks);
    }
}

/// A reply read long after it was written (a first sync of old mail): a deferral whose day
/// has passed when nudge reads it is none, and an old question is no longer the seller's to
/// answer; the same reply read the next day keeps both.
#[test]
fn old_replies_defer_nothing_and_ask_nothing() {
    let written = NaiveDate::from_ymd_opt(2024, 6, 10).unwrap();
    let body = "Hi Kari,\n\nnot right now. Please try us again after the summer. Could you \
                send the price list then?\n\nTom";
    let message = raw("tom@northwind.example.com", written, false, body, false);
    let mail = parse(message.as_bytes()).unwrap();
    let next_day = classify(&mail, written.succ_opt().unwrap());
    let deferral = next_day.deferral.expect("a deferral the next day");
    assert_eq!(deferral.from, NaiveDate::from_ymd_opt(2024, 8, 1));
    assert!(next_day.asks);
    for read in [
        NaiveDate::from_ymd_opt(2024, 8, 1).unwrap(),
        NaiveDate::from_ymd_opt(2026, 11, 18).unwrap(),
    ] {
        let later = classify(&mail, read);
        assert_eq!(later.class, MessageClass::Reply);
        assert_eq!(later.deferral, None, "read on {read}");
    }
    assert!(!classify(&mail, NaiveDate::from_ymd_opt(2026, 11, 18).unwrap()).asks);
}
