//! Real bounces and notices from many mail systems (`tests/fixtures/sisimai/`, collected by
//! the Sisimai project, BSD licence): every message, as stored (LF) and with the CRLF line
//! ends IMAP delivers, must parse without panicking and classify as `expected.tsv` says; for
//! bounces, the failed recipient must be the one the report names (empty column: none).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use nudge::mail::classify::{classify, MessageClass};
use nudge::mail::parse::parse;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sisimai")
}

struct Expected {
    file: String,
    class: String,
    failed_recipient: Option<String>,
}

fn expected() -> Vec<Expected> {
    let table = std::fs::read_to_string(corpus().join("expected.tsv")).expect("expected.tsv");
    let mut lines = table.lines();
    assert_eq!(
        lines.next(),
        Some("file\tclass\tfailed_recipient"),
        "expected.tsv header"
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert!(
                (2..=3).contains(&cols.len()),
                "two or three columns in {line:?}"
            );
            let recipient = cols.get(2).map(|s| s.trim()).unwrap_or("");
            Expected {
                file: cols[0].to_string(),
                class: cols[1].to_string(),
                failed_recipient: (!recipient.is_empty()).then(|| recipient.to_string()),
            }
        })
        .collect()
}

/// The message as stored (LF, as the collection keeps it) and with CRLF line ends, as IMAP
/// delivers it; a line end that is CRLF already stays as it is.
fn line_endings(raw: &[u8]) -> [(&'static str, Vec<u8>); 2] {
    let mut crlf = Vec::with_capacity(raw.len() + raw.len() / 20);
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' && (i == 0 || raw[i - 1] != b'\r') {
            crlf.push(b'\r');
        }
        crlf.push(b);
    }
    [("LF", raw.to_vec()), ("CRLF", crlf)]
}

#[test]
fn every_message_is_listed_once() {
    let listed: Vec<String> = expected().into_iter().map(|e| e.file).collect();
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), listed.len(), "a file is listed twice");
    let mut on_disk: Vec<String> = std::fs::read_dir(corpus().join("mail"))
        .expect("the mail folder")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    on_disk.sort();
    assert_eq!(on_disk, unique, "expected.tsv and mail/ differ");
    assert_eq!(on_disk.len(), 319);
}

#[test]
fn every_message_classifies_as_expected_with_lf_and_crlf() {
    let received = NaiveDate::from_ymd_opt(2026, 11, 18).unwrap();
    let cases = expected();
    let mut mismatches = Vec::new();
    let mut passed = [0usize; 2];
    for case in &cases {
        let raw = std::fs::read(corpus().join("mail").join(&case.file)).expect("readable");
        for (index, (ending, bytes)) in line_endings(&raw).into_iter().enumerate() {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                parse(&bytes).map(|mail| classify(&mail, received))
            }));
            let got = match outcome {
                Err(_) => {
                    mismatches.push(format!("{} ({ending}): panicked", case.file));
                    continue;
                }
                Ok(None) => {
                    mismatches.push(format!("{} ({ending}): not parsed", case.file));
                    continue;
                }
                Ok(Some(got)) => got,
            };
            let class = got.class.to_string();
            let recipient_wrong =
                got.class == MessageClass::Bounce && got.failed_recipient != case.failed_recipient;
            if class != case.class || recipient_wrong {
                mismatches.push(format!(
                    "{} ({ending}): expected {} {:?}, got {class} {:?} ({})",
                    case.file, case.class, case.failed_recipient, got.failed_recipient, got.reason
                ));
            } else {
                passed[index] += 1;
            }
        }
    }
    println!(
        "{} of {} messages as expected with LF, {} with CRLF",
        passed[0],
        cases.len(),
        passed[1]
    );
    assert!(
        mismatches.is_empty(),
        "{} of {} checks failed (LF {}/{}, CRLF {}/{}):\n{}",
        mismatches.len(),
        cases.len() * 2,
        passed[0],
        cases.len(),
        passed[1],
        cases.len(),
        mismatches.join("\n")
    );
}

#[test]
fn cut_and_mangled_messages_never_panic() {
    let received = NaiveDate::from_ymd_opt(2026, 11, 18).unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut panics = Vec::new();
    for case in expected() {
        let raw = std::fs::read(corpus().join("mail").join(&case.file)).expect("readable");
        let mut variants: Vec<Vec<u8>> = [1, 64, raw.len() / 3, raw.len() / 2, raw.len() - 1]
            .iter()
            .map(|&cut| raw[..cut.min(raw.len())].to_vec())
            .collect();
        for _ in 0..4 {
            let mut bytes = raw.clone();
            for _ in 0..16 {
                let at = (next() as usize) % bytes.len();
                bytes[at] = next() as u8;
            }
            variants.push(bytes);
        }
        for bytes in variants {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                parse(&bytes).map(|mail| classify(&mail, received))
            }));
            if outcome.is_err() {
                panics.push(case.file.clone());
            }
        }
    }
    assert!(panics.is_empty(), "panicked on variants of: {panics:?}");
}
