//! SPEC 13: the mailbox is written by strangers. One message nudge cannot process never stops
//! the rest: it is quarantined (recorded, logged once, shown by `show` and `status`, never
//! tried again) and the pass goes on; a huge References header neither fails the sync nor
//! cuts the reply off its conversation. The `nudge` binary against a real Dovecot.

mod support;

use std::process::Output;

use support::mailclient::Message;
use support::nudge::seller_world;

const KARI: &str = "Kari Nordmann <kari@fjordsalg.no>";
const INGRID: &str = "Ingrid Berg <ingrid.berg@fjordkraft.no>";
const SUBJECT: &str = "Tilbud på rammeavtale";
const RE_SUBJECT: &str = "Re: Tilbud på rammeavtale";
const OPENER_ID: &str = "a1@fjordsalg.no";
const OPENER_DATE: &str = "Mon, 16 Nov 2026 10:00:00 +0100";
const FIRST_PASS: &str = "2026-11-16T12:00:00+01:00";
const NEXT_DAY: &str = "2026-11-17T12:00:00+01:00";
const DAY_AFTER: &str = "2026-11-18T12:00:00+01:00";
/// The message whose processing the fault point makes panic.
const POISON_ID: &str = "poison.1@fjordkraft.no";

fn opener() -> Message<'static> {
    Message::new(
        KARI,
        INGRID,
        SUBJECT,
        OPENER_ID,
        None,
        OPENER_DATE,
        "Hei Ingrid,\n\nHer er tilbudet på rammeavtalen.\n\nVennlig hilsen\nKari",
    )
}

fn ingrid_replies() -> Message<'static> {
    Message::new(
        INGRID,
        KARI,
        RE_SUBJECT,
        "r1@fjordkraft.no",
        Some(OPENER_ID),
        "Tue, 17 Nov 2026 10:00:00 +0100",
        "Takk, Kari! La oss ta en prat på torsdag.",
    )
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs `nudge ARGS` with the warnings logged and `env`; it must succeed. Its output.
fn run_ok(nudge: &support::nudge::Nudge, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut env = env.to_vec();
    env.push(("RUST_LOG", "nudge=info,warn"));
    let output = nudge.run_with_env(args, &env);
    let all = text(&output);
    assert!(output.status.success(), "nudge {args:?} failed:\n{all}");
    all
}

/// A message whose processing panics (standing for any bug a stranger's mail may hit) is
/// quarantined: the sync exits 0, the real reply after it is applied, the quarantined one
/// is logged, shown by `show` and counted by `status`, and the next pass does not try it.
#[tokio::test]
async fn a_message_that_panics_is_quarantined_and_the_pass_goes_on() {
    let (_dovecot, nudge, mut client) = seller_world("").await;
    client.append("Sent", &opener().render(), &["\\Seen"]).await;
    nudge.sync(FIRST_PASS);
    let poison = Message::new(
        INGRID,
        KARI,
        RE_SUBJECT,
        POISON_ID,
        Some(OPENER_ID),
        "Tue, 17 Nov 2026 09:00:00 +0100",
        "0123456789æøå — a line some parser may choke on.",
    );
    client.append("INBOX", &poison.render(), &[]).await;
    client
        .append("INBOX", &ingrid_replies().render(), &[])
        .await;
    let fault = format!("panic-on-message:{POISON_ID}");
    let env = [("NUDGE_FAULT_POINT", fault.as_str())];

    let first = run_ok(&nudge, &["sync", "--now", NEXT_DAY], &env);
    assert!(
        first.contains("quarantined") && first.contains(POISON_ID),
        "the quarantine is logged with the Message-ID:\n{first}"
    );
    let conversation = nudge.conversation(SUBJECT).expect("the conversation");
    assert_eq!(
        conversation["state"], "replied",
        "the real reply is applied"
    );

    let id = conversation["id"].to_string();
    let show = run_ok(&nudge, &["show", &id], &[]);
    let quarantined = show
        .split_once("Quarantined")
        .map(|(_, rest)| rest.to_string())
        .unwrap_or_else(|| panic!("show lists the quarantined message:\n{show}"));
    assert!(quarantined.contains(POISON_ID), "{show}");
    assert!(quarantined.contains("panicked"), "{show}");
    let status = run_ok(&nudge, &["status"], &[]);
    assert!(status.contains("1 message(s) quarantined"), "{status}");

    // The next pass, with the same fault, does not try the message again.
    let second = run_ok(&nudge, &["sync", "--now", DAY_AFTER], &env);
    assert!(
        !second.contains("quarantined") && !second.contains("panicked"),
        "a quarantined message is never retried:\n{second}"
    );
    assert_eq!(nudge.conversation(SUBJECT).unwrap()["state"], "replied");
}

/// A reply whose References hold 35,000 ids (beyond SQLite's 32,766 variables) is synced
/// and applied to its conversation: the first id (the opener) and the last ones are kept.
#[tokio::test]
async fn a_reply_with_35000_references_is_applied() {
    let (_dovecot, nudge, mut client) = seller_world("").await;
    client.append("Sent", &opener().render(), &["\\Seen"]).await;
    nudge.sync(FIRST_PASS);
    let mut refs = format!("References: <{OPENER_ID}>");
    for n in 0..35_000 {
        refs.push_str(&format!(" <m{n}.list@lists.example.net>"));
    }
    let extra = format!("In-Reply-To: <m34999.list@lists.example.net>\n{refs}");
    let reply = Message {
        extra: &extra,
        ..Message::new(
            INGRID,
            KARI,
            RE_SUBJECT,
            "r1@fjordkraft.no",
            None,
            "Tue, 17 Nov 2026 10:00:00 +0100",
            "Takk, Kari! La oss ta en prat på torsdag.",
        )
    };
    client.append("INBOX", &reply.render(), &[]).await;
    let started = std::time::Instant::now();
    run_ok(&nudge, &["sync", "--now", NEXT_DAY], &[]);
    assert_eq!(
        nudge.conversation(SUBJECT).expect("the conversation")["state"],
        "replied",
        "the reply reaches its conversation through the first reference"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

/// A reply behind a 1 MB header section (a relay loop's Received lines) is synced and applied:
/// only the header fields nudge reads are fetched, bounded, and its text still counts.
#[tokio::test]
async fn a_reply_behind_a_1mb_header_is_applied() {
    let (_dovecot, nudge, mut client) = seller_world("").await;
    let opener = Message::new(
        KARI,
        "Ola Hansen <ola.hansen@gmail.com>",
        "Demo av plattformen",
        "b1.opener@fjordsalg.no",
        None,
        "Wed, 18 Nov 2026 10:00:00 +0100",
        "Hei Ola,\n\nTakk for demoen i dag.\n\nHilsen Kari",
    );
    client.append("Sent", &opener.render(), &["\\Seen"]).await;
    nudge.sync("2026-11-18T12:00:00+01:00");
    let huge = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/mail/malformed-huge-header-1mb.eml"),
    )
    .expect("the fixture");
    client.append("INBOX", &huge, &[]).await;
    run_ok(&nudge, &["sync", "--now", "2026-11-19T08:00:00+01:00"], &[]);
    let conversation = nudge
        .conversation("Demo av plattformen")
        .expect("the conversation");
    assert_eq!(conversation["state"], "replied", "{conversation:#}");
}

/// A message whose header FETCH always times out (a huge header on a slow link) stalls
/// nothing: the batch is asked again in smaller ones down to that message alone, which is
/// quarantined after timing out twice; the real reply next to it is applied, and the next
/// pass does not ask for it again.
#[tokio::test]
async fn a_message_whose_fetch_times_out_is_quarantined_and_the_rest_synced() {
    let (_dovecot, nudge, mut client) = seller_world("").await;
    client.append("Sent", &opener().render(), &["\\Seen"]).await;
    nudge.sync(FIRST_PASS);
    let slow = Message::new(
        "Ukjent <noreply@relay.example.net>",
        KARI,
        "Stor melding",
        "slow.1@relay.example.net",
        None,
        "Tue, 17 Nov 2026 08:00:00 +0100",
        "…",
    );
    client.append("INBOX", &slow.render(), &[]).await;
    client
        .append("INBOX", &ingrid_replies().render(), &[])
        .await;
    let slow_uid = client
        .messages("INBOX")
        .await
        .into_iter()
        .map(|m| m.uid)
        .min()
        .expect("two messages in INBOX");
    let fault = format!("header-timeout-on-uid:{slow_uid}");
    let env = [("NUDGE_FAULT_POINT", fault.as_str())];

    let first = run_ok(&nudge, &["sync", "--now", NEXT_DAY], &env);
    assert!(
        first.contains("quarantined") && first.contains(&format!("uid={slow_uid}")),
        "the quarantine is logged with the UID:\n{first}"
    );
    assert_eq!(
        nudge.conversation(SUBJECT).expect("the conversation")["state"],
        "replied",
        "the real reply is applied"
    );
    let status = run_ok(&nudge, &["status"], &[]);
    assert!(status.contains("1 message(s) quarantined"), "{status}");

    let second = run_ok(&nudge, &["sync", "--now", DAY_AFTER], &env);
    assert!(
        !second.contains("timed out") && !second.contains("quarantined"),
        "the quarantined UID is not fetched again:\n{second}"
    );
}
