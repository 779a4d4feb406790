//! Fuzzing on stable Rust: a byte-level mutation engine over the fixture corpus, driven by
//! proptest, for every place where text from strangers (or a hand-edited file) enters nudge:
//!
//! - `parse`: raw bytes → [`Mail`];
//! - `decide`: parse → classify → [`Rules::decide`] against conversations in every state;
//! - `return_date`: out-of-office text → [`find_return_date`];
//! - `config`: mutated configuration files → [`Config::parse`];
//! - `template_values`: follow-up templates rendered with hostile prospect names and subjects;
//! - `template_files`: the seller's own template files, mutated, loaded and rendered;
//! - `summary`: the weekly summary rendered with hostile subjects and addresses.
//!
//! Each target asserts invariants the project guarantees, not only "no panic". A case is a
//! corpus file, a few mutations (bit flips, byte inserts and deletes, splices from another
//! corpus file, duplicated lines, hostile fragments) and a number that picks the rest of the
//! world (folder, conversation states, dates). proptest shrinks a failing case to the fewest
//! mutations, then its bytes are cut down further and written to a file named in the failure.
//!
//! Bounded by `NUDGE_FUZZ_SECONDS` (default 120, shared by the targets; tests run in
//! parallel, so the wall time is at most that). `NUDGE_FUZZ_SEED` sets the seed (`random` for a
//! fresh one); the default seed makes a run repeatable. Each target prints its figures on
//! stderr, past the test harness's capture, and into `target/tmp/fuzz-figures/`.
//! Every file in `tests/fixtures/fuzz/` is replayed through every target.

mod support;

use std::collections::HashSet;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as Days, NaiveDate, TimeZone, Utc};
use nudge::compose::templates::{FollowUpContext, Templates, LANGUAGES};
use nudge::config::{Config, TrackMode, Tracking};
use nudge::display::{is_format, is_hidden, neutralise};
use nudge::mail::classify::{classify, MessageClass};
use nudge::mail::parse::{parse, Mail, MAX_THREAD_IDS};
use nudge::mail::quote::new_text;
use nudge::mail::return_date::{find_return_date, MAX_DAYS_AHEAD};
use nudge::model::{Conversation, Message, Origin, State};
use nudge::rules::link::Index;
use nudge::rules::{recipients, DismissedDraft, Effect, Facts, LastTouch, Role, Rules, Suppressed};
use nudge::summary::Summary;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed, TestError, TestRunner};

/// The seed of a default run: repeatable.
const DEFAULT_SEED: u64 = 0x6e75_6467_6566_757a;
/// The default budget, in seconds, shared by all targets.
const DEFAULT_SECONDS: f64 = 120.0;
/// The targets sharing the budget.
const TARGETS: u32 = 7;
/// Most cases per proptest run; runs follow one another, each with its own seed, until the
/// time is up.
const MAX_CASES_PER_RUN: u32 = 256;
/// Longest body a summary list or template value gets from a case (the rest is cut).
const MAX_VALUE_BYTES: usize = 4096;

// ---------------------------------------------------------------------------------------------
// The engine
// ---------------------------------------------------------------------------------------------

/// One change to a corpus file. Positions are taken modulo the length of the input.
#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(usize, u8),
    SetByte(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    /// Bytes `from..from + len` of corpus file `other`, inserted at `at`.
    Splice {
        at: usize,
        other: usize,
        from: usize,
        len: usize,
    },
    /// A line, repeated right after itself (a repeated header: the parser keeps the last).
    DuplicateLine(usize),
    /// A hostile fragment at the start of a line (a header line, when the line is a header).
    FragmentAtLine(usize, usize),
    /// A hostile fragment anywhere.
    Fragment(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit(at, bit)),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::SetByte(at, b)),
        2 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        2 => (any::<usize>(), 1usize..256).prop_map(|(at, len)| Mutation::Delete(at, len)),
        2 => (any::<usize>(), any::<usize>(), any::<usize>(), 1usize..4096).prop_map(
            |(at, other, from, len)| Mutation::Splice { at, other, from, len }
        ),
        2 => any::<usize>().prop_map(Mutation::DuplicateLine),
        4 => (any::<usize>(), any::<usize>()).prop_map(|(l, f)| Mutation::FragmentAtLine(l, f)),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(at, f)| Mutation::Fragment(at, f)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

/// Starts of lines in `bytes` (0 and every byte after a LF).
fn line_starts(bytes: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, &b)| b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect()
}

fn apply(input: &mut Vec<u8>, m: &Mutation, corpus: &[Vec<u8>], fragments: &[Vec<u8>]) {
    let at = |p: usize, len: usize| p % (len + 1);
    match m {
        Mutation::FlipBit(p, bit) => {
            if !input.is_empty() {
                let i = p % input.len();
                input[i] ^= 1 << bit;
            }
        }
        Mutation::SetByte(p, b) => {
            if !input.is_empty() {
                let i = p % input.len();
                input[i] = *b;
            }
        }
        Mutation::Insert(p, bytes) => {
            let i = at(*p, input.len());
            input.splice(i..i, bytes.iter().copied());
        }
        Mutation::Delete(p, len) => {
            let i = at(*p, input.len());
            let end = (i + len).min(input.len());
            input.drain(i..end);
        }
        Mutation::Splice {
            at: p,
            other,
            from,
            len,
        } => {
            let source = &corpus[other % corpus.len()];
            let start = from % (source.len() + 1);
            let end = (start + len).min(source.len());
            let i = at(*p, input.len());
            input.splice(i..i, source[start..end].iter().copied());
        }
        Mutation::DuplicateLine(line) => {
            let starts = line_starts(input);
            let start = starts[line % starts.len()];
            let end = input[start..]
                .iter()
                .position(|&b| b == b'\n')
                .map(|e| start + e + 1)
                .unwrap_or(input.len());
            let copy = input[start..end].to_vec();
            input.splice(end..end, copy);
        }
        Mutation::FragmentAtLine(line, which) => {
            let starts = line_starts(input);
            // Most lines worth hitting are headers: favour the first lines.
            let start = starts[line % starts.len().min(40)];
            let fragment = &fragments[which % fragments.len()];
            input.splice(start..start, fragment.iter().copied());
        }
        Mutation::Fragment(p, which) => {
            let i = at(*p, input.len());
            let fragment = &fragments[which % fragments.len()];
            input.splice(i..i, fragment.iter().copied());
        }
        Mutation::Truncate(p) => {
            let i = at(*p, input.len());
            input.truncate(i);
        }
    }
}

/// One case: which corpus file, what to do to it, and the number that picks the rest.
type Case = (usize, Vec<Mutation>, u64);

fn build(case: &Case, corpus: &[Vec<u8>], fragments: &[Vec<u8>]) -> Vec<u8> {
    let (index, mutations, _) = case;
    let mut input = corpus[index % corpus.len()].clone();
    for m in mutations {
        apply(&mut input, m, corpus, fragments);
    }
    input
}

/// A target's check: `Err` names the broken invariant; the text before the first ':' is
/// stable, so minimising keeps the same failure.
type Check = fn(&[u8], u64) -> Result<(), String>;

/// Runs `check`, turning a panic into a failure.
fn guarded(check: Check, input: &[u8], choice: u64) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(|| check(input, choice))) {
        Ok(result) => result,
        Err(panic) => {
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            Err(format!("panicked: {text}"))
        }
    }
}

fn kind(reason: &str) -> &str {
    reason.split(':').next().unwrap_or(reason)
}

/// What a bounded run did.
struct Report {
    executions: u64,
    elapsed: Duration,
    /// The minimised input, the number that picks the rest, the reason and where it was written.
    failure: Option<(Vec<u8>, u64, String, PathBuf)>,
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// The run's seed: `NUDGE_FUZZ_SEED` (decimal, `0x…` hex, or `random`), else the default.
/// One per run: every target of a random run shows the same seed.
fn base_seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(read_seed)
}

fn read_seed() -> u64 {
    match std::env::var("NUDGE_FUZZ_SEED")
        .ok()
        .as_deref()
        .map(str::trim)
    {
        None | Some("") => DEFAULT_SEED,
        Some("random") => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            splitmix(nanos ^ u64::from(std::process::id()))
        }
        Some(text) => text
            .strip_prefix("0x")
            .map(|hex| u64::from_str_radix(hex, 16))
            .unwrap_or_else(|| text.parse())
            .unwrap_or_else(|_| panic!("NUDGE_FUZZ_SEED={text:?} is no number")),
    }
}

/// Each target's share of `NUDGE_FUZZ_SECONDS`.
fn target_budget() -> Duration {
    let total = std::env::var("NUDGE_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(DEFAULT_SECONDS);
    Duration::from_secs_f64(total / f64::from(TARGETS))
}

fn scratch_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// Mutates `corpus` with `fragments` and checks each case, until `budget` is spent or a case
/// fails; a failing case is shrunk, minimised and written out.
fn fuzz(
    name: &str,
    corpus: &[Vec<u8>],
    fragments: &[Vec<u8>],
    check: Check,
    seed: u64,
    budget: Duration,
) -> Report {
    assert!(!corpus.is_empty() && !fragments.is_empty());
    let started = Instant::now();
    let executions = AtomicU64::new(0);
    let strategy = (
        0..corpus.len(),
        prop::collection::vec(mutation(), 0..6),
        any::<u64>(),
    );
    let mut run = 0u64;
    let mut cases = 4u32;
    let failure = loop {
        let elapsed = started.elapsed();
        if run > 0 && elapsed >= budget {
            break None;
        }
        if run > 0 {
            // As many cases as fit in a quarter of the time left, so a slow target ends on time.
            let per_case = elapsed.as_secs_f64() / executions.load(Ordering::Relaxed).max(1) as f64;
            let left = (budget - elapsed).as_secs_f64() / 4.0;
            cases = ((left / per_case.max(1e-6)) as u32).clamp(1, MAX_CASES_PER_RUN);
        }
        let config = ProptestConfig {
            cases,
            rng_seed: RngSeed::Fixed(splitmix(seed ^ name_hash(name)).wrapping_add(run)),
            failure_persistence: None,
            max_shrink_time: 60_000,
            ..ProptestConfig::default()
        };
        run += 1;
        let mut runner = TestRunner::new(config);
        let result = runner.run(&strategy, |case| {
            executions.fetch_add(1, Ordering::Relaxed);
            let input = build(&case, corpus, fragments);
            guarded(check, &input, case.2).map_err(TestCaseError::fail)
        });
        match result {
            Ok(()) => continue,
            Err(TestError::Fail(_, case)) => break Some(case),
            Err(TestError::Abort(reason)) => panic!("fuzz {name}: proptest gave up: {reason}"),
        }
    };
    let failure = failure.map(|case| {
        let choice = case.2;
        let input = build(&case, corpus, fragments);
        let reason = guarded(check, &input, choice).expect_err("a shrunk case fails");
        let same =
            |bytes: &[u8]| guarded(check, bytes, choice).is_err_and(|r| kind(&r) == kind(&reason));
        let input = minimise(input, same, Instant::now() + Duration::from_secs(60));
        let reason = guarded(check, &input, choice).expect_err("the minimised input fails");
        let dir = scratch_dir().join("fuzz-failures");
        std::fs::create_dir_all(&dir).expect("the failure folder can be made");
        let path = dir.join(format!("{name}-choice-{choice:016x}.bin"));
        std::fs::write(&path, &input).expect("the failing input can be written");
        (input, choice, reason, path)
    });
    Report {
        executions: executions.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
        failure,
    }
}

/// Cuts pieces out of `input` while it still fails the same way (delta debugging, bytes).
fn minimise(mut input: Vec<u8>, fails: impl Fn(&[u8]) -> bool, deadline: Instant) -> Vec<u8> {
    let mut chunk = (input.len() / 2).max(1);
    loop {
        let mut at = 0;
        let mut cut = false;
        while at < input.len() && Instant::now() < deadline {
            let end = (at + chunk).min(input.len());
            let mut candidate = input[..at].to_vec();
            candidate.extend_from_slice(&input[end..]);
            if fails(&candidate) {
                input = candidate;
                cut = true;
            } else {
                at += chunk;
            }
        }
        if Instant::now() >= deadline || (chunk == 1 && !cut) {
            return input;
        }
        if !cut {
            chunk = (chunk / 2).max(1);
        }
    }
}

/// Runs one target with the run's seed and budget, prints its figures, and fails with the
/// path of the minimised input when an invariant broke.
fn fuzz_target(name: &str, corpus: &[Vec<u8>], fragments: &[Vec<u8>], check: Check) {
    let seed = base_seed();
    let report = fuzz(name, corpus, fragments, check, seed, target_budget());
    let crashes = usize::from(report.failure.is_some());
    let line = format!(
        "fuzz {name}: {} executions in {:.1} s, {crashes} crashes (seed {seed:#x}, corpus {})",
        report.executions,
        report.elapsed.as_secs_f64(),
        corpus.len()
    );
    // Past libtest's capture: the figures are shown by `cargo test` whatever happens.
    let _ = writeln!(std::io::stderr(), "{line}");
    let dir = scratch_dir().join("fuzz-figures");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join(format!("{name}.txt")), format!("{line}\n"));
    }
    if let Some((input, choice, reason, path)) = report.failure {
        panic!(
            "fuzz {name}: {reason}\n\
             the minimised input ({} bytes, choice {choice:#x}) is in {}\n\
             reproduce with NUDGE_FUZZ_SEED={seed:#x}; once fixed, copy it to \
             tests/fixtures/fuzz/{name}-<what>-choice-{choice:016x}.bin",
            input.len(),
            path.display()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Corpora and hostile fragments
// ---------------------------------------------------------------------------------------------

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read_dir_files(dir: &Path, suffix: &str) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).expect("readable"))
        .collect()
}

/// Messages built to be hostile as a whole (the fragments below are hostile in part).
fn hostile_messages() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    // Deep multipart nesting.
    let depth = 300;
    let mut deep = String::from(
        "From: Ingrid Berg <ingrid.berg@fjordkraft.no>\nTo: kari@fjordsalg.no\n\
         Subject: Re: Tilbud\nIn-Reply-To: <a1.opener@fjordsalg.no>\nMIME-Version: 1.0\n",
    );
    for level in 0..depth {
        deep.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{level}\"\n\n--b{level}\n"
        ));
    }
    deep.push_str("Content-Type: text/plain\n\nHei, takk!\n");
    for level in (0..depth).rev() {
        deep.push_str(&format!("--b{level}--\n"));
    }
    out.push(deep.into_bytes());
    // Huge References.
    let refs: String = (0..5000).map(|n| format!("<r{n}@example.com> ")).collect();
    out.push(
        format!(
            "From: ola.hansen@gmail.com\nTo: kari@fjordsalg.no\nSubject: Re: Demo\n\
             Message-ID: <huge@gmail.com>\nReferences: <b1.opener@fjordsalg.no> {refs}\n\
             Date: Wed, 18 Nov 2026 10:00:00 +0100\n\nJa, gjerne.\n"
        )
        .into_bytes(),
    );
    // Dates at the ends of the calendar, an auto-reply with a return date in year 9999.
    for date in [
        "Mon, 1 Jan 0001 00:00:00 +0000",
        "Fri, 31 Dec 9999 23:59:59 -1400",
        "Tue, 31 Feb 2026 25:61:61 +9999",
    ] {
        out.push(
            format!(
                "From: Anna Svensson <anna.svensson@nordichandel.se>\nTo: kari@fjordsalg.no\n\
                 Subject: Automatiskt svar: Offert\nAuto-Submitted: auto-replied\n\
                 In-Reply-To: <c1.opener@fjordsalg.no>\nDate: {date}\n\n\
                 Jag är tillbaka 31 december 9999, åter 3 december, back on 29 February.\n"
            )
            .into_bytes(),
        );
    }
    // Encoded words in odd charsets, bidi and format characters, template syntax.
    out.push(
        "From: =?x-unknown?Q?Ingr=E9d?= <ingrid.berg@fjordkraft.no>\n\
         To: =?UTF-7?B?K0FPVUE=?= <kari@fjordsalg.no>\n\
         Subject: =?ISO-2022-JP?B?GyRCJEgbKEI=?= =?utf-8?B?4oCuZmRwLmV4ZQ==?= \
         =?gb18030?Q?=81=30=81=30?= {{ get_env(name=\"HOME\") }}\n\
         Message-ID: <odd@fjordkraft.no>\nIn-Reply-To: <a1.opener@fjordsalg.no>\n\
         Date: Wed, 18 Nov 2026 10:00:00 +0100\n\n\
         {% include \"x\" %} \u{202E}Takk\u{2066} for sist.\n"
            .as_bytes()
            .to_vec(),
    );
    // A bounce report with a returned message inside a returned message.
    out.push(
        "From: MAILER-DAEMON@fjordkraft.no\nTo: kari@fjordsalg.no\nSubject: Undelivered Mail\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\n\n\
         --r\nContent-Type: text/plain\n\nDelivery failed.\n\
         --r\nContent-Type: message/delivery-status\n\n\
         Reporting-MTA: dns; mx.fjordkraft.no\n\n\
         Final-Recipient: rfc822; ingrid.berg@fjordkraft.no\nAction: failed\nStatus: 5.1.1\n\n\
         --r\nContent-Type: message/rfc822\n\n\
         From: kari@fjordsalg.no\nTo: ingrid.berg@fjordkraft.no\nMessage-ID: <a1.opener@fjordsalg.no>\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"s\"\n\n\
         --s\nContent-Type: message/delivery-status\n\n\
         Final-Recipient: rfc822; per.olsen@fjordkraft.no\nAction: failed\nStatus: 5.0.0\n\n\
         --s--\n--r--\n"
            .as_bytes()
            .to_vec(),
    );
    // The seller's touches: to prospects, colleagues, robots, the seller's alias, in To and Cc.
    out.push(
        "From: Kari Nordmann <kari@fjordsalg.no>\n\
         To: \"Berg, Ingrid\" <Ingrid.Berg@fjordkraft.no>, lars@fjordsalg.no, noreply@fjordkraft.no\n\
         Cc: kari.nordmann@fjordsalg.no, per.olsen@fjordkraft.no, someone@newsletter.example.com, \
         =?utf-8?q?Ola_=E2=80=AE?= <ola.hansen@gmail.com>\n\
         Subject: Re: Tilbud\nMessage-ID: <t2@fjordsalg.no>\nIn-Reply-To: <a1.opener@fjordsalg.no>\n\
         References: <a1.opener@fjordsalg.no>\nDate: Wed, 18 Nov 2026 09:00:00 +0100\n\n\
         Hei igjen!\n"
            .as_bytes()
            .to_vec(),
    );
    out.push(
        "From: kari.nordmann@fjordsalg.no\nTo: lars@fjordsalg.no\nCc: anna.svensson@nordichandel.se\n\
         Subject: Offert\nMessage-ID: <t3@fjordsalg.no>\nDate: Tue, 17 Nov 2026 15:00:00 +0100\n\n\
         Se under.\n"
            .as_bytes()
            .to_vec(),
    );
    // A header line of 100,000 characters.
    out.push(
        format!(
            "From: ingrid.berg@fjordkraft.no\nTo: kari@fjordsalg.no\nSubject: {}\n\nHei\n",
            "Tilbud ".repeat(14_000)
        )
        .into_bytes(),
    );
    out
}

/// Pieces that break parsers, inserted at line starts or anywhere.
fn mail_fragments() -> Vec<Vec<u8>> {
    let refs: String = (0..3000).map(|n| format!("<f{n}@example.net>")).collect();
    let mut f: Vec<Vec<u8>> = [
        "Subject: =?x-unknown?Q?caf=E9?=\n",
        "Subject: =?UTF-7?B?K0FPVUE=?= =?ISO-2022-JP?B?GyRCJEgbKEI=?=\n",
        "Subject: =?utf-8?q?=E2=80=AE=00?= \u{202E}exe.pdf\u{2069}\n",
        "From: =?utf-8?B?4oCu?= <Evil@X.Example>\n",
        "From: <>\n",
        "From: kari@fjordsalg.no\n",
        "From: lars@fjordsalg.no\n",
        "From: ingrid.berg@fjordkraft.no\n",
        "From: per.olsen@fjordkraft.no\n",
        "From: MAILER-DAEMON\n",
        "To: kari@fjordsalg.no, \"Ingrid\" <ingrid.berg@fjordkraft.no>, ola.hansen@gmail.com\n",
        "Cc: =?utf-8?q?=0D=0ABcc:_evil@x?= <cc@fjordkraft.no>\n",
        "In-Reply-To: <a1.opener@fjordsalg.no>\n",
        "In-Reply-To: <b1.opener@fjordsalg.no> <c1.opener@fjordsalg.no> <d1.opener@fjordsalg.no>\n",
        "References: <e1.opener@fjordsalg.no>, f1.opener@fjordsalg.no\n",
        "Message-ID: <a1.opener@fjordsalg.no>\n",
        "Message-ID: <a\u{1}b\u{0}c@x>\n",
        "Message-ID: <>\n",
        "Date: Mon, 1 Jan 0001 00:00:00 +0000\n",
        "Date: Fri, 31 Dec 9999 23:59:59 -1400\n",
        "Date: 31 Feb 2026 99:99:99 +9999\n",
        "Date: Wed, 18 Nov 2026 10:00:00 +0100\n",
        "Auto-Submitted: auto-replied (vacation)\n",
        "X-Autoreply: yes\n",
        "Precedence: bulk\n",
        "List-Id: <x.list>\n",
        "X-Nudge-Summary: 2026-W48\n",
        "X-Auto-Response-Suppress: All\nX-MS-Exchange-Inbox-Rules-Loop: x@y\n",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\n",
        "Content-Type: multipart/mixed; boundary=\"\"\n",
        "Content-Type: text/html; charset=\"x-mac-klingon\"\n",
        "Content-Transfer-Encoding: base64\n",
        "Content-Transfer-Encoding: quoted-printable\n",
        "\n--r\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; Ingrid.Berg@fjordkraft.no\nAction: failed\nStatus: 5.1.1\n\n",
        "\n--r\nContent-Type: message/rfc822\n\nMessage-ID: <a1.opener@fjordsalg.no>\n\n",
        "\n--r\nContent-Type: text/rfc822-headers\n\nMessage-ID:\n <b1.opener@fjordsalg.no>\n",
        "Content-Type: message/rfc822\n\n",
        "Please remove me from your list. Unsubscribe.\n",
        "Jeg er tilbake mandag 7.12, back on 3 December, zurück am 03.12.2026\n",
        "I am back on 31 December 9999 and returning 12/03/99999999999999999999\n",
        "away from 20 to 27 November, tilbake 29.02, zurück am 00.00.0000, kl. 10.15\n",
        "{{ get_env(name=\"HOME\") }}",
        "{% include \"summary.txt\" %}",
        "{# ",
        "{{ prospect_name }}",
        "<blockquote><hr id=\"divRplyFwdMsg\">",
        "=?utf-8?q?=00?=",
        "=\r\n=ZZ",
        "\u{202E}",
        "\u{2066}\u{200B}\u{FEFF}",
        "\0",
        "\r",
        "\r\n\r\n",
        " \t\n",
        "\n\n",
        ":",
        "<",
        ">",
        "@",
        "--",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    f.push(b"\xff\xfe\xfd".to_vec());
    f.push(b"\xed\xa0\x80".to_vec());
    f.push(b"\xc3\x28\xe2\x82".to_vec());
    f.push(format!("References: {refs}\n").into_bytes());
    f.push(format!("X-Long: {}\n", "x".repeat(70_000)).into_bytes());
    f.push(format!("Subject: {}\n", "=?utf-8?b?w6Y=?= ".repeat(2000)).into_bytes());
    let mut nesting = String::new();
    for level in 0..100 {
        nesting.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"n{level}\"\n\n--n{level}\n"
        ));
    }
    f.push(nesting.into_bytes());
    f.push(b"Content-Type: message/rfc822\n\n".repeat(200));
    f
}

fn mail_corpus() -> &'static [Vec<u8>] {
    static CORPUS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut corpus = read_dir_files(&root().join("tests/fixtures/mail"), ".eml");
        corpus.extend(read_dir_files(
            &root().join("tests/fixtures/sisimai/mail"),
            ".eml",
        ));
        corpus.extend(hostile_messages());
        corpus
    })
}

fn mail_fragment_list() -> &'static [Vec<u8>] {
    static FRAGMENTS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FRAGMENTS.get_or_init(mail_fragments)
}

// ---------------------------------------------------------------------------------------------
// Target: parse
// ---------------------------------------------------------------------------------------------

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// What [`parse`] promises about any [`Mail`] it gives.
fn check_mail(mail: &Mail) -> Result<(), String> {
    let one_line = |what: &str, text: &str| -> Result<(), String> {
        if has_control(text) {
            return Err(format!("{what} has a control character: {text:?}"));
        }
        if text.trim() != text {
            return Err(format!("{what} has white space around it: {text:?}"));
        }
        if neutralise(text).chars().any(is_hidden) {
            return Err(format!("neutralised {what} hides a character: {text:?}"));
        }
        Ok(())
    };
    one_line("subject", &mail.subject)?;
    if has_control(&mail.signals.from_header) {
        return Err(format!(
            "the From header has a control character: {:?}",
            mail.signals.from_header
        ));
    }
    for m in mail.from.iter().chain(mail.to.iter()).chain(mail.cc.iter()) {
        if !m.address.contains('@') {
            return Err(format!("an address without @: {:?}", m.address));
        }
        if m.address.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(format!("an address not in lower case: {:?}", m.address));
        }
        if has_control(&m.address) {
            return Err(format!(
                "an address has a control character: {:?}",
                m.address
            ));
        }
        if let Some(name) = &m.name {
            one_line("a display name", name)?;
            if name.is_empty() {
                return Err("an empty display name is kept".into());
            }
        }
    }
    let ids = mail
        .message_id
        .iter()
        .chain(mail.original_message_id.iter())
        .chain(mail.in_reply_to.iter())
        .chain(mail.references.iter())
        .chain(mail.returned_message_id.iter());
    for id in ids {
        if id.is_empty() || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "a Message-ID is empty or has white space or a control character: {id:?}"
            ));
        }
    }
    if mail.in_reply_to.len() > 2 {
        return Err(format!(
            "In-Reply-To keeps too many ids: {}",
            mail.in_reply_to.len()
        ));
    }
    if let Some(own) = &mail.message_id {
        if mail.references.contains(own) {
            return Err(format!("References lists the message itself: {own:?}"));
        }
    }
    let thread_ids = mail.thread_ids();
    if thread_ids.len() > MAX_THREAD_IDS {
        return Err(format!("too many thread ids: {}", thread_ids.len()));
    }
    if thread_ids.iter().collect::<HashSet<_>>().len() != thread_ids.len() {
        return Err("thread ids repeat".into());
    }
    let body_chars = mail.body.chars().count();
    if body_chars > 16 * 1024 {
        return Err(format!("the body is not bounded: {body_chars} characters"));
    }
    if neutralise(&mail.body).chars().any(is_hidden) {
        return Err("the neutralised body hides a character".into());
    }
    let s = &mail.signals;
    if s.content_type != s.content_type.to_ascii_lowercase() {
        return Err(format!(
            "the content type is not in lower case: {:?}",
            s.content_type
        ));
    }
    for (what, value) in [
        ("Auto-Submitted", &s.auto_submitted),
        ("Precedence", &s.precedence),
    ] {
        if let Some(v) = value {
            if v.chars()
                .any(|c| c.is_ascii_uppercase() || c.is_whitespace() || matches!(c, ';' | '('))
            {
                return Err(format!("{what} is not a lower-case keyword: {v:?}"));
            }
        }
    }
    if let Some(report) = &mail.report {
        for r in report.recipients.iter().chain(&report.returned_recipients) {
            if let Some(a) = &r.address {
                if !a.contains('@') || a.chars().any(|c| c.is_ascii_uppercase()) {
                    return Err(format!("a report names a bad recipient: {a:?}"));
                }
            }
        }
    }
    Ok(())
}

fn check_parse(input: &[u8], _choice: u64) -> Result<(), String> {
    match parse(input) {
        Some(mail) => check_mail(&mail),
        None => Ok(()),
    }
}

#[test]
fn fuzz_parse() {
    fuzz_target("parse", mail_corpus(), mail_fragment_list(), check_parse);
}

// ---------------------------------------------------------------------------------------------
// Target: parse → classify → decide
// ---------------------------------------------------------------------------------------------

const SELLER: &str = "kari@fjordsalg.no";

/// The conversations the fixture corpus answers: (opener Message-ID, prospect, opener time).
const OPENERS: [(&str, &str, (u32, u32, u32)); 6] = [
    (
        "a1.opener@fjordsalg.no",
        "ingrid.berg@fjordkraft.no",
        (10, 9, 15),
    ),
    ("b1.opener@fjordsalg.no", "ola.hansen@gmail.com", (11, 8, 2)),
    (
        "c1.opener@fjordsalg.no",
        "anna.svensson@nordichandel.se",
        (12, 12, 40),
    ),
    (
        "d1.opener@fjordsalg.no",
        "mette.jensen@dansktransport.dk",
        (12, 13, 5),
    ),
    (
        "e1.opener@fjordsalg.no",
        "james.wright@thamesbuild.co.uk",
        (13, 11, 30),
    ),
    (
        "f1.opener@fjordsalg.no",
        "k.weber@bergbau-gmbh.de",
        (16, 7, 45),
    ),
];

const ORIGINS: [Origin; 8] = [
    Origin::Inbox,
    Origin::Sent,
    Origin::Archive,
    Origin::Inbox,
    Origin::Drafts,
    Origin::Trash,
    Origin::Other,
    Origin::Sent,
];

fn opener_at(i: usize) -> DateTime<Utc> {
    let (d, h, m) = OPENERS[i].2;
    Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap()
}

/// Conversation `i` (id and thread `i + 1`) in `state`, its fields as that state has them.
fn conversation(i: usize, state: State, extra_prospect: bool) -> Conversation {
    let at = opener_at(i);
    let mut prospects = vec![OPENERS[i].1.to_string()];
    if extra_prospect {
        prospects.push("per.olsen@fjordkraft.no".into());
    }
    let mut c = Conversation::new(i as i64 + 1, "Tilbud", prospects, at, Some(i as i64 + 1));
    c.id = i as i64 + 1;
    c.state = state;
    c.step = match state {
        State::Closing | State::LetGo => 3,
        State::Waiting => 0,
        _ => 1,
    };
    if state.is_open() {
        c.next_due = Some(at + Days::days(5));
    }
    match state {
        State::Replied => c.replied_after_step = Some(c.step),
        State::Stopped => c.stop_reason = Some("dismissed".into()),
        State::Snoozed => c.snoozed_until = Some(at + Days::days(10)),
        _ => {}
    }
    c
}

fn opener_message(i: usize) -> Message {
    Message {
        id: i as i64 + 1,
        folder: "Sent".into(),
        origin: Origin::Sent,
        thread_id: i as i64 + 1,
        message_id: Some(OPENERS[i].0.into()),
        from_addr: SELLER.into(),
        from_seller: true,
        to: vec![nudge::mail::parse::Mailbox {
            address: OPENERS[i].1.into(),
            name: None,
        }],
        subject: "Tilbud".into(),
        date: opener_at(i),
        arrived: opener_at(i),
        has_body: true,
        ..Message::default()
    }
}

/// What [`classify`] promises.
fn check_classification(
    mail: &Mail,
    class: &nudge::mail::classify::Classification,
    received: NaiveDate,
) -> Result<(), String> {
    if class.reason.trim().is_empty() || class.reason.contains('\n') {
        return Err(format!("the reason is not one line: {:?}", class.reason));
    }
    // `nudge classify` quotes the reason and the failed recipient: shown neutralised.
    let shown = nudge::commands::classify_text(&[nudge::commands::ClassifiedFile {
        file: "m.eml".into(),
        class: class.class,
        failed_recipient: class.failed_recipient.clone(),
        return_date: class.return_date,
        reason: class.reason.clone(),
        deferral: class.deferral.clone(),
        departure: class.departure.clone(),
        asks: class.asks,
    }]);
    if shown.chars().any(|c| is_hidden(c) && c != '\n') {
        return Err(format!("classify shows a hidden character: {shown:?}"));
    }
    if let Some(date) = class.return_date {
        if class.class != MessageClass::AutoReply {
            return Err(format!("a return date on a {:?}", class.class));
        }
        let sent = mail.date.map(|d| d.date_naive()).unwrap_or(received);
        in_window(date, sent)?;
    }
    if class.class != MessageClass::Reply && (class.deferral.is_some() || class.asks) {
        return Err(format!("a deferral or a question on a {:?}", class.class));
    }
    if let Some(from) = class.deferral.as_ref().and_then(|d| d.from) {
        let sent = mail.date.map(|d| d.date_naive()).unwrap_or(received);
        if from < sent || from - sent > chrono::Duration::days(400) {
            return Err(format!("a deferral to {from}, judged from {sent}"));
        }
    }
    if let Some(departure) = &class.departure {
        if !matches!(class.class, MessageClass::Reply | MessageClass::AutoReply) {
            return Err(format!("a departure on a {:?}", class.class));
        }
        if let Some(bad) = departure
            .replacements
            .iter()
            .find(|a| !a.contains('@') || a.chars().any(|c| c.is_uppercase()))
        {
            return Err(format!("a replacement that is no address: {bad:?}"));
        }
    }
    if let Some(failed) = &class.failed_recipient {
        if class.class != MessageClass::Bounce {
            return Err(format!("a failed recipient on a {:?}", class.class));
        }
        if !failed.contains('@') || failed.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(format!("a failed recipient that is no address: {failed:?}"));
        }
    }
    Ok(())
}

fn in_window(date: NaiveDate, sent: NaiveDate) -> Result<(), String> {
    if date < sent || date > sent + Days::days(MAX_DAYS_AHEAD) {
        return Err(format!(
            "a return date outside the window: {date} for a message of {sent}"
        ));
    }
    Ok(())
}

fn check_decide(input: &[u8], choice: u64) -> Result<(), String> {
    let Some(mail) = parse(input) else {
        return Ok(());
    };
    let bits = |shift: u32, width: u32| (choice >> shift) & ((1 << width) - 1);
    let received = NaiveDate::from_ymd_opt(2026, 11, 10).unwrap() + Days::days(bits(4, 4) as i64);
    let class = classify(&mail, received);
    check_classification(&mail, &class, received)?;

    let account = support::nudge::seller_account();
    let tracking = Tracking {
        mode: TrackMode::External,
        lookback_days: 14,
        stop_on_same_domain: true,
        ignore: vec!["*@newsletter.example.com".into()],
    };
    let now = received.and_hms_opt(12, 0, 0).unwrap().and_utc();
    let rules = Rules {
        account: &account,
        tracking: &tracking,
        steps_total: 3,
        first_started_at: Utc.with_ymd_and_hms(2026, 11, 9, 12, 0, 0).unwrap(),
    };
    let mut index = Index::default();
    for i in 0..OPENERS.len() {
        let state = State::ALL[bits(8 + 4 * i as u32, 4) as usize % State::ALL.len()];
        index.insert(conversation(i, state, i == 0 && bits(38, 1) == 1));
    }
    let thread_of = |id: &str| {
        OPENERS
            .iter()
            .position(|(opener, _, _)| *opener == id)
            .map(|i| i as i64 + 1)
    };
    // The store threads by ids; X-GM-THRID may put a message in a thread its headers do not name.
    let thread_id = mail
        .thread_ids()
        .iter()
        .find_map(|id| thread_of(id))
        .unwrap_or(match bits(34, 3) {
            n @ 1..=6 => n as i64,
            _ => 1000,
        });
    let mut origin = ORIGINS[bits(0, 3) as usize];
    let mut from = mail.from.clone();
    let (mut to, mut cc) = (mail.to.clone(), mail.cc.clone());
    if bits(39, 2) == 0 {
        // The seller's answer to this message, as its copy in Sent has it: to its sender and
        // everyone it was sent to.
        origin = Origin::Sent;
        to = from.take().into_iter().chain(to).collect();
        from = Some(nudge::mail::parse::Mailbox {
            address: SELLER.into(),
            name: Some("Kari Nordmann".into()),
        });
        cc.push(nudge::mail::parse::Mailbox {
            address: "lars@fjordsalg.no".into(),
            name: None,
        });
    }
    let from_seller = from.as_ref().is_some_and(|f| account.is_seller(&f.address));
    let arrived = mail
        .date
        .filter(|d| (*d - now).num_days().abs() < 30)
        .unwrap_or(now);
    let message = Message {
        id: 999,
        folder: "X".into(),
        origin,
        thread_id,
        message_id: mail.message_id.clone(),
        in_reply_to: mail.in_reply_to.clone(),
        references: mail.references.clone(),
        from_addr: from.as_ref().map(|f| f.address.clone()).unwrap_or_default(),
        from_name: from.and_then(|f| f.name),
        to,
        cc,
        subject: mail.subject.clone(),
        date: mail.date.unwrap_or(arrived),
        arrived,
        from_seller,
        automated: bits(3, 1) == 1,
        class: (!(origin == Origin::Sent && from_seller) && origin != Origin::Drafts)
            .then_some(class.class),
        return_date: class.return_date,
        bounced_message_id: class.returned_message_id.clone(),
        bounced_recipient: class.failed_recipient.clone(),
        snippet: new_text(&mail.body).chars().take(200).collect(),
        has_body: true,
        ..Message::default()
    };
    let mut facts = Facts {
        returned_thread: class.returned_message_id.as_deref().and_then(thread_of),
        thread_automated: bits(37, 1) == 1,
        ..Facts::default()
    };
    for id in rules.touches_needed(&index, &message, &facts) {
        facts
            .last_touches
            .insert(id, LastTouch::of(&opener_message(id as usize - 1)));
    }
    if bits(33, 1) == 1 {
        if let Some(c) = index.of_thread(thread_id) {
            facts.dismissed_drafts.insert(
                c.id,
                DismissedDraft {
                    step: c.step,
                    made_at: c.last_touch_at + Days::days(3),
                },
            );
        }
    }
    let mut suppressed: HashSet<String> = HashSet::new();
    if bits(32, 1) == 1 {
        suppressed.insert(
            OPENERS[(thread_id as usize).saturating_sub(1) % 6]
                .1
                .to_string(),
        );
    }

    let role = rules.role(&message);
    let effects = rules
        .decide(&index, &message, &facts, &suppressed, now)
        .effects();
    if let Role::Touch(prospects) = &role {
        // A follow-up to this touch goes to its recipients: prospects and colleagues, never
        // the seller, never a suppressed address, and greets a prospect in To.
        if let Some(r) = recipients::for_draft(&rules, &message, &suppressed) {
            for m in r.all() {
                let own = rules.is_own_side(&m.address);
                if !message.recipients().any(|t| t.address == m.address)
                    || suppressed.is_suppressed(&m.address)
                    || account.is_seller(&m.address)
                    || (!own && !prospects.contains(&m.address))
                {
                    return Err(format!("a draft would go to {:?}", m.address));
                }
            }
            if !r.to.contains(&r.greeted) || !prospects.contains(&r.greeted.address) {
                return Err(format!("a draft greets {:?}", r.greeted.address));
            }
        }
    }
    if effects.is_empty() {
        return Ok(());
    }
    if let Role::Ignore(reason) = role {
        return Err(format!(
            "an ignored message ({reason}) has effects: {effects:?}"
        ));
    }
    if from_seller && origin != Origin::Sent {
        return Err(format!(
            "a seller's address outside Sent changed something: {effects:?}"
        ));
    }
    if !from_seller && rules.is_own_side(&message.from_addr) && class.class != MessageClass::Bounce
    {
        return Err(format!("a colleague's mail changed something: {effects:?}"));
    }
    let touch = matches!(role, Role::Touch(_));
    for effect in &effects {
        match effect {
            Effect::Track(c, _) => {
                if !(touch && origin == Origin::Sent && from_seller && !message.automated) {
                    return Err(format!(
                        "tracked from a message that is no touch from Sent: {origin:?}"
                    ));
                }
                if c.prospects.is_empty() || !c.state.is_open() {
                    return Err(format!("tracked without prospects or closed: {c:?}"));
                }
                for p in &c.prospects {
                    if !rules.is_prospect(p)
                        || suppressed.is_suppressed(p)
                        || !message.recipients().any(|r| &r.address == p)
                    {
                        return Err(format!("tracked {p:?}, no unsuppressed recipient"));
                    }
                }
            }
            Effect::Update(c, _) => {
                let Some(old) = index.get(c.id) else {
                    return Err(format!("updated an unknown conversation {}", c.id));
                };
                if !c.state.is_open() && c.next_due.is_some() {
                    return Err(format!(
                        "an ended conversation got a due time: {} {:?}",
                        c.state, c.next_due
                    ));
                }
                if !touch {
                    if c.prospects != old.prospects
                        || c.last_touch_message != old.last_touch_message
                        || c.last_touch_at != old.last_touch_at
                    {
                        return Err("inbound mail changed the prospects or the last touch".into());
                    }
                    if matches!(
                        message.class,
                        Some(MessageClass::Reply | MessageClass::OptOut)
                    ) && c.state.is_open()
                    {
                        return Err(format!(
                            "a {:?} left the conversation {}",
                            message.class, c.state
                        ));
                    }
                }
            }
            Effect::Note(id, _) => {
                if index.get(*id).is_none() {
                    return Err(format!("noted on an unknown conversation {id}"));
                }
            }
            Effect::Suppress { address, reason } => {
                if rules.is_own_side(address) {
                    return Err(format!(
                        "suppressed the seller's own side: {address:?} ({reason})"
                    ));
                }
                if reason == "bounced"
                    && !OPENERS.iter().any(|(_, p, _)| p == address)
                    && address != "per.olsen@fjordkraft.no"
                {
                    return Err(format!("a bounce suppressed a non-prospect: {address:?}"));
                }
            }
            Effect::DraftSent {
                conversation_id, ..
            } => {
                if !touch || index.get(*conversation_id).is_none() {
                    return Err("a draft marked sent by a message that is no touch".into());
                }
            }
        }
    }
    Ok(())
}

#[test]
fn fuzz_classify_and_decide() {
    fuzz_target("decide", mail_corpus(), mail_fragment_list(), check_decide);
}

// ---------------------------------------------------------------------------------------------
// Target: return dates
// ---------------------------------------------------------------------------------------------

/// The message date a return date is judged from: ordinary days, turns of the year, leap
/// days and the ends of the calendar.
fn sent_date(choice: u64) -> NaiveDate {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    match choice % 10 {
        0 => d(1, 1, 1),
        1 => d(9999, 12, 31),
        2 => d(2026, 12, 28),
        3 => d(2028, 2, 28),
        4 => d(2027, 2, 27),
        5 => d(2026, 11, 18),
        _ => {
            let base = d(1, 1, 1);
            base + Days::days(((choice >> 8) % 3_652_058) as i64)
        }
    }
}

fn check_return_date(input: &[u8], choice: u64) -> Result<(), String> {
    let text = String::from_utf8_lossy(input);
    let sent = sent_date(choice);
    if let Some(date) = find_return_date(&text, sent) {
        in_window(date, sent)?;
    }
    Ok(())
}

fn return_date_corpus() -> Vec<Vec<u8>> {
    let mut corpus: Vec<Vec<u8>> = mail_corpus()
        .iter()
        .filter_map(|raw| parse(raw))
        .filter(|m| {
            classify(m, NaiveDate::from_ymd_opt(2026, 11, 18).unwrap()).class
                == MessageClass::AutoReply
        })
        .map(|m| format!("{}\n{}", m.subject, new_text(&m.body)).into_bytes())
        .collect();
    for text in [
        "I am out of the office and will be back on 3 December.",
        "returning 12/03",
        "Jeg er tilbake 3. desember",
        "tilbake mandag 7.12",
        "Jag är åter 3 december",
        "Jeg er tilbage den 3. december",
        "Ich bin zurück am 03.12.2026",
        "away from 20 to 27 November, back Monday",
        "Back on 2026-12-03. Ring meg kl. 10.15.",
        "back on December 3rd, 2026",
    ] {
        corpus.push(text.as_bytes().to_vec());
    }
    corpus
}

fn return_date_fragments() -> Vec<Vec<u8>> {
    [
        " back on ",
        " tilbake ",
        " åter ",
        " zurück am ",
        " returning ",
        " until ",
        " 31 December 9999",
        " 29.02",
        " 00.00.0000",
        " 12/03/99999999999999999999",
        " 2026-02-30",
        " 9999-12-31",
        " 0001-01-01",
        " 31.12.",
        " 1/1",
        " monday",
        " søndag",
        " december",
        " 4294967296. desember",
        " kl. 10.15",
        " from 20 to 27 ",
        "\u{202E}",
        "İ",
        "ẞ",
        "\u{130}\u{130}\u{130}",
        "ǅ",
        "\0",
        "\u{10FFFF}",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .chain([b"\xff".to_vec(), "Ⅻ".repeat(500).into_bytes()])
    .collect()
}

#[test]
fn fuzz_return_date() {
    fuzz_target(
        "return_date",
        &return_date_corpus(),
        &return_date_fragments(),
        check_return_date,
    );
}

// ---------------------------------------------------------------------------------------------
// Target: configuration files
// ---------------------------------------------------------------------------------------------

fn check_config(input: &[u8], choice: u64) -> Result<(), String> {
    let text = String::from_utf8_lossy(input);
    match Config::parse(&text, None, choice & 1 == 1) {
        Ok(_) => Ok(()),
        Err(nudge::Error::Config(e)) => {
            let shown = e.to_string();
            for secret in secrets_in(&text).filter(|s| shown.contains(s.as_str())) {
                // The error may name the same letters for another reason (a table called
                // like the password): with the secret changed, they must be gone.
                let masked: Vec<String> = text
                    .split('\n')
                    .map(|line| match secrets_in(line).next() {
                        Some(value) if value == secret => {
                            line.replace(&secret, &"~".repeat(secret.chars().count()))
                        }
                        _ => line.to_string(),
                    })
                    .collect();
                let masked = masked.join("\n");
                let without = match Config::parse(&masked, None, choice & 1 == 1) {
                    Ok(_) => String::new(),
                    Err(e) => e.to_string(),
                };
                if !without.contains(&secret) {
                    return Err(format!(
                        "a config error shows a secret: {secret:?} in {shown}"
                    ));
                }
            }
            if e.key.is_empty() && e.line.is_none() {
                return Err(format!("a config error names no key or line: {e}"));
            }
            if let Some(line) = e.line {
                let lines = text.split('\n').count();
                if line == 0 || line > lines {
                    return Err(format!("a config error names line {line} of {lines}: {e}"));
                }
            }
            Ok(())
        }
        Err(other) => Err(format!("a config error of another kind: {other}")),
    }
}

/// The values written for secret keys (`password`, `password_command`,
/// `oauth2_token_command`), when long enough to tell apart from the rest of an error.
fn secrets_in(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines().filter_map(|line| {
        let (key, value) = line.split_once('=')?;
        let key = key.trim().trim_matches('"');
        if !matches!(
            key,
            "password" | "password_command" | "oauth2_token_command"
        ) {
            return None;
        }
        let value = value
            .trim()
            .trim_matches(|c| matches!(c, '"' | '\'' | '[' | ']' | '{' | '}'));
        let value = value.split(['"', '\'', '#']).next().unwrap_or("").trim();
        (value.len() >= 6).then(|| value.to_string())
    })
}

fn config_corpus() -> Vec<Vec<u8>> {
    let mut corpus = read_dir_files(&root().join("tests/fixtures/config"), ".toml");
    corpus.push(nudge::config::INIT_TEMPLATE.as_bytes().to_vec());
    corpus.push(
        b"[account]\nemail = \"kari@fjordsalg.no\"\nname = \"Kari\"\n\n[imap]\nhost = \"127.0.0.1\"\n\
          port = 1143\nsecurity = \"plain\"\nusername = \"kari\"\npassword = \"hemmelig\"\n"
            .to_vec(),
    );
    corpus
}

fn config_fragments() -> Vec<Vec<u8>> {
    let mut f: Vec<Vec<u8>> = [
        "[imap]\n",
        "[[cadence.steps]]\n",
        "[account]\nemail = \"x\"\n",
        "port = 99999999999999999999\n",
        "port = -1\n",
        "timezone = \"Mars/Olympus\"\n",
        "draft_time = \"25:61\"\n",
        "quiet_after = \"24:00\"\n",
        "lookback_days = -1\n",
        "lookback_days = 4294967296\n",
        "steps = []\n",
        "steps = [{ after_business_days = 0, template = \"../../etc/passwd\" }]\n",
        "away = [{ from = \"9999-12-31\", to = \"0001-01-01\" }]\n",
        "holidays = [\"XX\"]\n",
        "weekday = \"someday\"\n",
        "security = \"none\"\n",
        "auth = \"xoauth2\"\n",
        "password = \"hemmelig\"\n",
        "password = 31415926\n",
        "password = [\"hemmelig-i-liste\"]\n",
        "password = { x = \"hemmelig-i-tabell\" }\n",
        "password_command = 27182818\n",
        "password_command = \"\"\n",
        "password_env = \"\"\n",
        "mode = \"flagged\"\n",
        "ignore = [\"*\", \"\", \"@\"]\n",
        "language = \"xx\"\n",
        "path = \"\"\n",
        "to = \"not an address\"\n",
        "email = \"\u{202E}@x\"\n",
        "own_domains = [\"\"]\n",
        "daily_limit = 0\n",
        "let_go_after_business_days = 0\n",
        "workdays = []\n",
        "unknown_key = 1\n",
        "\"quoted.key\" = 1\n",
        "a.b.c.d = 1\n",
        "x = { y = { z = 1 } }\n",
        "x = 1979-05-27T07:32:00Z\n",
        "x = inf\n",
        "x = nan\n",
        "x = '''\n",
        "x = \"\"\"\n",
        "x = \"\\u0000\"\n",
        "x = \"\\uD800\"\n",
        "#",
        "=",
        "[",
        "]",
        "\"",
        "'",
        "\n",
        "\r\n",
        "\0",
        "\u{FEFF}",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    f.push(format!("x = {}1{}\n", "[".repeat(100), "]".repeat(100)).into_bytes());
    f.push(format!("x = {}\n", "{ a = ".repeat(60) + "1" + &" }".repeat(60)).into_bytes());
    f.push(format!("name = \"{}\"\n", "x".repeat(100_000)).into_bytes());
    f.push(b"\xff\xfe".to_vec());
    f
}

#[test]
fn fuzz_config() {
    fuzz_target(
        "config",
        &config_corpus(),
        &config_fragments(),
        check_config,
    );
}

// ---------------------------------------------------------------------------------------------
// Target: follow-up templates with hostile values
// ---------------------------------------------------------------------------------------------

/// The string fields of a follow-up context, by name.
const FIELDS: [&str; 8] = [
    "prospect_name",
    "prospect_first_name",
    "prospect_company",
    "seller_name",
    "seller_first_name",
    "signature",
    "subject",
    "deferred_on",
];

fn field(context: &mut FollowUpContext, index: usize) -> &mut String {
    match index {
        0 => &mut context.prospect_name,
        1 => &mut context.prospect_first_name,
        2 => &mut context.prospect_company,
        3 => &mut context.seller_name,
        4 => &mut context.seller_first_name,
        5 => &mut context.signature,
        6 => &mut context.subject,
        _ => &mut context.deferred_on,
    }
}

fn value_of(input: &[u8]) -> String {
    let cut = &input[..input.len().min(MAX_VALUE_BYTES)];
    String::from_utf8_lossy(cut).into_owned()
}

/// Values are data: the text of a template rendered with hostile values is the text rendered
/// with placeholders, the placeholders replaced by the values as they are.
fn check_template_values(input: &[u8], choice: u64) -> Result<(), String> {
    let value = value_of(input);
    let marker = |i: usize| format!("\u{E000}{i}\u{E001}");
    if value.contains('\u{E000}') {
        return Ok(());
    }
    let templates = builtin_templates();
    let language = LANGUAGES[(choice % LANGUAGES.len() as u64) as usize];
    let names = ["followup-1", "followup-2", "close-the-loop", "check-back"];
    let name = names[((choice >> 2) % names.len() as u64) as usize];
    let variant = (choice >> 4) as u32 & 7;
    let mut hostile = FollowUpContext::sample(language);
    let mut placeholders = FollowUpContext::sample(language);
    let mut chosen = Vec::new();
    for i in 0..FIELDS.len() {
        if (choice >> (8 + i)) & 1 == 1 || i == (choice >> 16) as usize % FIELDS.len() {
            *field(&mut hostile, i) = value.clone();
            // An empty value is false in `{% if %}`: so is an empty placeholder.
            *field(&mut placeholders, i) = if value.is_empty() {
                String::new()
            } else {
                marker(i)
            };
            chosen.push(i);
        }
    }
    let rendered = templates
        .render(language, name, variant, &hostile)
        .map_err(|e| format!("rendering failed with hostile values: {e}"))?;
    let mut expected = templates
        .render(language, name, variant, &placeholders)
        .map_err(|e| format!("rendering failed with placeholders: {e}"))?;
    for &i in &chosen {
        expected = expected.replace(&marker(i), &value);
    }
    if rendered != expected.trim() {
        return Err(format!(
            "a value was not rendered as it is: {:?} gave {rendered:?}, expected {expected:?}",
            FIELDS[chosen[0]]
        ));
    }
    let path = std::env::var("PATH").unwrap_or_default();
    if path.len() > 8 && rendered.contains(&path) && !value.contains(&path) {
        return Err("a rendered template holds the environment".into());
    }
    Ok(())
}

fn builtin_templates() -> &'static Templates {
    static TEMPLATES: OnceLock<Templates> = OnceLock::new();
    TEMPLATES.get_or_init(Templates::builtin)
}

fn template_value_corpus() -> Vec<Vec<u8>> {
    [
        "Ingrid",
        "Ingrid Berg",
        "Tilbud på rammeavtale",
        "{{ get_env(name=\"HOME\") }}",
        "{{ get_env(name=\"PATH\", default=\"x\") }}",
        "{% include \"follow-up.txt\" %}",
        "{% extends \"follow-up.txt\" %}",
        "{% raw %}{{ subject }}{% endraw %}",
        "{{ prospect_name }}{{ __tera_context }}",
        "{% for i in range(end=1000000000) %}x{% endfor %}",
        "{% set x = 1 %}{{ x }}",
        "{#",
        "{{",
        "}}",
        "Faktura \u{202E}fdp.exe",
        "Per\u{2066}Hansen\u{200B}",
        "line\r\nBcc: evil@example.com\r\n",
        "\u{0}\u{1b}[31m",
        "<script>alert(1)</script>",
        "  spaced  ",
        "",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .chain(["Å".repeat(2000).into_bytes(), b"\xff\xfe".to_vec()])
    .collect()
}

fn template_fragments() -> Vec<Vec<u8>> {
    [
        "{{",
        "}}",
        "{%",
        "%}",
        "{#",
        "#}",
        "{{ get_env(name=\"HOME\") }}",
        "{% include \"x\" %}",
        "{% import \"x\" as m %}",
        "{{ self::x() }}",
        "\\",
        "\"",
        "\u{202E}",
        "\0",
        "\r\n",
        "{{- ",
        " -}}",
        "{% if %}",
        "{% endif %}",
        "{{ subject | safe }}",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

#[test]
fn fuzz_template_values() {
    fuzz_target(
        "template_values",
        &template_value_corpus(),
        &template_fragments(),
        check_template_values,
    );
}

// ---------------------------------------------------------------------------------------------
// Target: the seller's template files
// ---------------------------------------------------------------------------------------------

/// A mutated template file in a config folder of its own (one per thread) is loaded; when it
/// loads, each of its variants renders or fails cleanly, and nothing of the environment shows.
fn check_template_file(input: &[u8], choice: u64) -> Result<(), String> {
    thread_local! {
        static DIR: tempfile::TempDir = tempfile::tempdir().expect("a temp dir");
    }
    let language = LANGUAGES[(choice % LANGUAGES.len() as u64) as usize];
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
    let home = std::env::var("HOME").unwrap_or_default();
    DIR.with(|dir| {
        let lang_dir = dir.path().join("templates").join(language.code());
        std::fs::create_dir_all(&lang_dir).map_err(|e| e.to_string())?;
        let file = lang_dir.join("followup-1.txt.tera");
        std::fs::write(&file, input).map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(input);
        let leaks = |out: &str| {
            (out.contains(&path) && !text.contains(&path))
                || (home.len() > 4
                    && out.contains(&home)
                    && !text.contains(&home)
                    && !dir.path().starts_with(&home))
        };
        match Templates::load(Some(dir.path())) {
            Ok(templates) => {
                let template = templates
                    .get(language, "followup-1")
                    .ok_or("a loaded template is missing")?;
                for variant in 0..template.variants.len() as u32 {
                    let context = FollowUpContext::sample(language);
                    match templates.render(language, "followup-1", variant, &context) {
                        Ok(out) if leaks(&out) => {
                            return Err(format!("a template file read the environment: {out:?}"))
                        }
                        Err(e) if leaks(&e.to_string()) => {
                            return Err(format!("a template error shows the environment: {e}"))
                        }
                        _ => {}
                    }
                }
                Ok(())
            }
            Err(e) => {
                let message = e.to_string();
                if leaks(&message) {
                    return Err(format!("a template error shows the environment: {message}"));
                }
                if !matches!(e, nudge::Error::Config(_)) {
                    return Err(format!("a template file error of another kind: {message}"));
                }
                Ok(())
            }
        }
    })
}

fn template_file_corpus() -> Vec<Vec<u8>> {
    let mut corpus = Vec::new();
    for language in ["en", "nb", "sv", "da", "fi", "de"] {
        for name in ["followup-1", "followup-2", "close-the-loop", "check-back"] {
            corpus.push(
                std::fs::read(root().join(format!("templates/{language}/{name}.txt.tera")))
                    .expect("a shipped template"),
            );
        }
    }
    corpus.push(b"Hi {{ get_env(name=\"PATH\") }}".to_vec());
    corpus.push(b"Hi {{ get_env(name=\"PATH\", default=\"x\") | default(value=\"y\") }}".to_vec());
    corpus
}

#[test]
fn fuzz_template_files() {
    fuzz_target(
        "template_files",
        &template_file_corpus(),
        &template_fragments(),
        check_template_file,
    );
}

#[test]
fn get_env_in_a_template_file_is_refused() {
    let path = std::env::var("PATH").expect("PATH is set");
    for text in [
        "Hi {{ get_env(name=\"PATH\") }}",
        "Hi {{ get_env(name=\"PATH\", default=\"x\") }}",
        "Hi,\n{# variant #}\n{% set p = get_env(name=\"PATH\") %}{{ p }}",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let lang_dir = dir.path().join("templates/en");
        std::fs::create_dir_all(&lang_dir).unwrap();
        std::fs::write(lang_dir.join("followup-1.txt.tera"), text).unwrap();
        let error = Templates::load(Some(dir.path()))
            .err()
            .unwrap_or_else(|| panic!("{text:?} was loaded"));
        let message = error.to_string();
        assert!(message.contains("get_env is disabled"), "{message}");
        assert!(!message.contains(&path), "{message}");
    }
}

// ---------------------------------------------------------------------------------------------
// Target: the weekly summary
// ---------------------------------------------------------------------------------------------

/// Subjects and addresses from mail are neutralised and, in HTML, escaped; nothing in them is
/// evaluated; nothing hidden reaches either part.
fn check_summary(input: &[u8], choice: u64) -> Result<(), String> {
    let value = value_of(input);
    let language = LANGUAGES[(choice % LANGUAGES.len() as u64) as usize];
    let mut summary = Summary::sample();
    let mut shown: Vec<String> = Vec::new();
    let mut slot = 0u32;
    let mut pick = |text: &mut String| {
        if (choice >> (2 + slot % 60)) & 1 == 1 {
            *text = value.clone();
            shown.push(value.clone());
        }
        slot += 1;
    };
    for d in &mut summary.drafts_waiting {
        pick(&mut d.subject);
        pick(&mut d.prospect);
    }
    for r in &mut summary.replied {
        pick(&mut r.subject);
        pick(&mut r.prospect);
    }
    for l in &mut summary.let_go {
        pick(&mut l.subject);
        pick(&mut l.prospect);
    }
    for d in &mut summary.due_next_week {
        pick(&mut d.subject);
        pick(&mut d.prospect);
    }
    for w in &mut summary.waiting_on_you {
        pick(&mut w.subject);
        pick(&mut w.prospect);
    }
    let seller_is_value = (choice >> 62) & 1 == 1;
    if seller_is_value {
        summary.seller_first_name = value.clone();
    }
    summary.n.tracked = (choice >> 20) as u32;
    summary.n.replies = (choice >> 40) as u32 & 0xff;
    let (text, html) = nudge::summary::render(&summary, language)
        .map_err(|e| format!("the summary did not render: {e}"))?;
    for (part, out) in [("text", &text), ("html", &html)] {
        if let Some(c) = out
            .chars()
            .find(|&c| is_format(c) || (c.is_control() && !matches!(c, '\n' | '\r' | '\t')))
        {
            return Err(format!(
                "the {part} part shows a hidden character: U+{:04X}",
                c as u32
            ));
        }
    }
    // Shown neutralised, and cut with "…" when longer than the summary shows.
    let mut neutral = neutralise(&value).into_owned();
    let limit = nudge::summary::SHOWN_CHARS;
    if neutral.chars().count() > limit {
        let kept: String = neutral.chars().take(limit - 1).collect();
        neutral = format!("{}…", kept.trim_end());
    }
    // The text part wraps long lines: white space may become a line break and an indent, and
    // a word longer than a line is broken. Without white space, the value is there as it is.
    let squashed = |t: &str| t.split_whitespace().collect::<String>();
    if !shown.is_empty() && !squashed(&text).contains(&squashed(&neutral)) {
        return Err(format!("the text part does not show {neutral:?} as it is"));
    }
    if let Some(line) = text.lines().find(|l| l.chars().count() > 78) {
        return Err(format!(
            "the text part has a line over 78 columns: {line:?}"
        ));
    }
    let escaped = tera::escape_html(&neutral);
    if !shown.is_empty() && !html.contains(&escaped) {
        return Err(format!("the html part does not show {escaped:?} escaped"));
    }
    let lower = html.to_ascii_lowercase();
    for tag in ["<script", "<img", "<iframe", "<a href"] {
        if lower.contains(tag) {
            return Err(format!("the html part has a {tag} element"));
        }
    }
    let path = std::env::var("PATH").unwrap_or_default();
    if path.len() > 8 && (text.contains(&path) || html.contains(&path)) && !value.contains(&path) {
        return Err("the summary holds the environment".into());
    }
    Ok(())
}

#[test]
fn fuzz_summary() {
    let mut corpus = template_value_corpus();
    corpus.push(b"<img src=x onerror=alert(1)>\"'><a href=\"javascript:x\">".to_vec());
    corpus.push(b"ingrid.berg@fjordkraft.no".to_vec());
    fuzz_target("summary", &corpus, &template_fragments(), check_summary);
}

// ---------------------------------------------------------------------------------------------
// The engine itself, and the inputs it found
// ---------------------------------------------------------------------------------------------

/// A planted bug: two Subject lines. The engine must find it by duplicating a line or
/// inserting a fragment, and cut the input down to little more than the two lines.
fn planted(input: &[u8], _choice: u64) -> Result<(), String> {
    let subjects = input
        .split(|&b| b == b'\n')
        .filter(|line| line.starts_with(b"Subject:"))
        .count();
    if subjects >= 2 {
        return Err(format!("planted: {subjects} Subject lines"));
    }
    Ok(())
}

#[test]
fn the_engine_finds_and_minimises_a_planted_failure() {
    let corpus = vec![
        b"From: ingrid.berg@fjordkraft.no\nTo: kari@fjordsalg.no\nSubject: Re: Tilbud\n\nHei, takk for tilbudet. Vi ser paa det.\n".to_vec(),
    ];
    let fragments = vec![b"X-Other: 1\n".to_vec(), b"\0".to_vec()];
    let report = fuzz(
        "planted",
        &corpus,
        &fragments,
        planted,
        DEFAULT_SEED,
        Duration::from_secs(20),
    );
    let (input, choice, reason, path) = report.failure.expect("the planted failure is found");
    assert!(reason.starts_with("planted"), "{reason}");
    assert!(
        planted(&input, choice).is_err(),
        "the minimised input still fails"
    );
    assert!(
        input.len() <= 2 * "Subject: Re: Tilbud\n".len(),
        "minimised to {} bytes: {:?}",
        input.len(),
        String::from_utf8_lossy(&input)
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        input,
        "written to {}",
        path.display()
    );
}

/// The target checks, by name, for replaying found inputs.
const CHECKS: [(&str, Check); 7] = [
    ("parse", check_parse),
    ("decide", check_decide),
    ("return_date", check_return_date),
    ("config", check_config),
    ("template_values", check_template_values),
    ("template_files", check_template_file),
    ("summary", check_summary),
];

#[test]
fn every_input_the_fuzzer_found_passes_every_target() {
    let dir = root().join("tests/fixtures/fuzz");
    let mut found = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/fuzz exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    entries.sort();
    for path in entries {
        let input = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // The number that picked the rest of the world when it was found, and a spread of others.
        let named = name
            .split("choice-")
            .nth(1)
            .and_then(|c| u64::from_str_radix(c.trim_end_matches(".bin"), 16).ok());
        let choices: Vec<u64> = named
            .into_iter()
            .chain((0..16).map(|i| splitmix(i) ^ i))
            .collect();
        found += 1;
        for (target, check) in CHECKS {
            for &choice in &choices {
                if let Err(reason) = guarded(check, &input, choice) {
                    failures.push(format!("{name} in {target} (choice {choice:#x}): {reason}"));
                }
            }
        }
    }
    assert!(found > 0, "no inputs in {}", dir.display());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// The default budget stays within the three minutes `scripts/test` gives the fuzz run, and
// every target has a replay entry.
const _: () = assert!(DEFAULT_SECONDS <= 180.0);
const _: () = assert!(CHECKS.len() as u32 == TARGETS);
