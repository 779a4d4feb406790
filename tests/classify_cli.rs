//! `nudge classify [--json] FILE…`: the built binary reads raw message files with no config,
//! store or network, says how it reads each, and names the files it could not read.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::nudge::nudge_command;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mail")
        .join(name)
        .display()
        .to_string()
}

const BOUNCE: &str = "bounce-gmail-dsn-failure.eml";
const AUTO_REPLY: &str = "ooo-exchange-en-back-on-3-december.eml";
const OPT_OUT: &str = "optout-en-remove-me-outlook.eml";
const REPLY: &str = "reply-gmail-nb-skrev.eml";

/// Runs `nudge classify ARGS` in an empty home: no config file exists anywhere.
fn classify(args: &[String]) -> Output {
    let home = tempfile::tempdir().expect("temp home");
    nudge_command(None)
        .arg("classify")
        .args(args)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .output()
        .expect("nudge runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn four_files() -> Vec<String> {
    [BOUNCE, AUTO_REPLY, OPT_OUT, REPLY]
        .iter()
        .map(|f| fixture(f))
        .collect()
}

#[test]
fn text_output_gives_each_file_its_class_and_what_applies() {
    let output = classify(&four_files());
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}{}",
        output.status.code(),
        text(&output.stderr)
    );
    let expected = format!(
        "{}: bounce\n  failed recipient: ola.hansen@gmail.com\n  reason: message/delivery-status part with Action: failed\n\
         {}: auto_reply\n  return date: 2026-12-03\n  reason: Auto-Submitted: auto-replied\n\
         {}: opt_out\n  reason: opt-out phrase \"remove me\" in the new text\n\
         {}: reply\n  reason: no automatic signal: a person wrote it\n",
        fixture(BOUNCE),
        fixture(AUTO_REPLY),
        fixture(OPT_OUT),
        fixture(REPLY)
    );
    assert_eq!(stdout, expected);
    assert_eq!(text(&output.stderr), "", "nothing on stderr");
}

#[test]
fn json_output_is_one_array_with_exactly_the_promised_keys() {
    let mut args = vec!["--json".to_string()];
    args.extend(four_files());
    let output = classify(&args);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let rows: Vec<serde_json::Value> =
        serde_json::from_slice(&output.stdout).expect("one JSON array");
    assert_eq!(rows.len(), 4);
    for row in &rows {
        let mut keys: Vec<&str> = row
            .as_object()
            .expect("objects")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "asks",
                "class",
                "deferral",
                "departure",
                "failed_recipient",
                "file",
                "reason",
                "return_date"
            ]
        );
    }
    let column =
        |key: &str| -> Vec<serde_json::Value> { rows.iter().map(|r| r[key].clone()).collect() };
    assert_eq!(
        column("file"),
        four_files()
            .into_iter()
            .map(serde_json::Value::from)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        column("class"),
        ["bounce", "auto_reply", "opt_out", "reply"].map(serde_json::Value::from)
    );
    assert_eq!(
        column("failed_recipient"),
        [
            serde_json::Value::from("ola.hansen@gmail.com"),
            serde_json::Value::Null,
            serde_json::Value::Null,
            serde_json::Value::Null
        ]
    );
    assert_eq!(
        column("return_date"),
        [
            serde_json::Value::Null,
            serde_json::Value::from("2026-12-03"),
            serde_json::Value::Null,
            serde_json::Value::Null
        ]
    );
    assert_eq!(
        rows[2]["reason"],
        "opt-out phrase \"remove me\" in the new text"
    );
}

#[test]
fn an_unreadable_file_is_named_the_others_are_still_reported_and_the_exit_code_is_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing: PathBuf = dir.path().join("missing.eml");
    let empty = dir.path().join("empty.eml");
    std::fs::write(&empty, b"").expect("write");
    let args = [
        fixture(BOUNCE),
        missing.display().to_string(),
        empty.display().to_string(),
        fixture(REPLY),
    ];
    for json in [false, true] {
        let mut all = Vec::new();
        if json {
            all.push("--json".to_string());
        }
        all.extend(args.iter().cloned());
        let output = classify(&all);
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        assert_eq!(
            output.status.code(),
            Some(1),
            "json {json}: {stdout}{stderr}"
        );
        assert!(
            stderr.contains(&format!("{}: cannot read it", missing.display())),
            "json {json}: {stderr}"
        );
        assert!(
            stderr.contains(&format!("{}: not a mail message", empty.display())),
            "json {json}: {stderr}"
        );
        if json {
            let rows: Vec<serde_json::Value> =
                serde_json::from_str(&stdout).expect("still one JSON array");
            let files: Vec<&str> = rows.iter().filter_map(|r| r["file"].as_str()).collect();
            assert_eq!(files, [fixture(BOUNCE), fixture(REPLY)]);
        } else {
            assert!(
                stdout.starts_with(&format!("{}: bounce\n", fixture(BOUNCE))),
                "{stdout}"
            );
            assert!(
                stdout.contains(&format!("{}: reply\n", fixture(REPLY))),
                "{stdout}"
            );
            assert!(!stdout.contains("missing.eml"), "{stdout}");
        }
    }
}

#[test]
fn text_output_shows_what_the_message_wrote_neutralised() {
    // A terminal escape in a header keyword and in a report's recipient: both are quoted by
    // the text output, and neither may reach the terminal as it is.
    let dir = tempfile::tempdir().expect("temp dir");
    let auto = dir.path().join("auto.eml");
    std::fs::write(
        &auto,
        "From: anna@nordichandel.se\nTo: kari@fjordsalg.no\nSubject: Hei\n\
         Auto-Submitted: \u{1b}[2J\n\nTakk\n",
    )
    .unwrap();
    let bounce = dir.path().join("bounce.eml");
    std::fs::write(
        &bounce,
        "From: MAILER-DAEMON@fjordkraft.no\nTo: kari@fjordsalg.no\nSubject: Undelivered\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\n\n\
         --r\nContent-Type: text/plain\n\nFailed.\n\
         --r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n\
         Final-Recipient: rfc822; ingrid\u{1b}[31m@fjordkraft.no\nAction: failed\nStatus: 5.1.1\n\n--r--\n",
    )
    .unwrap();
    let output = classify(&[auto.display().to_string(), bounce.display().to_string()]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
    assert!(
        stdout.contains("reason: Auto-Submitted: <U+001B>[2j"),
        "{stdout}"
    );
    assert!(
        stdout.contains("failed recipient: ingrid<U+001B>[31m@fjordkraft.no"),
        "{stdout}"
    );
}

#[test]
fn a_deferral_and_a_departure_get_a_line_each_and_their_json_fields() {
    let dir = tempfile::tempdir().expect("temp dir");
    let deferral = dir.path().join("deferral.eml");
    std::fs::write(
        &deferral,
        "From: Ingrid Berg <ingrid@fjordkraft.no>\nTo: kari@fjordsalg.no\nSubject: Re: Tilbud\n\
         Date: Wed, 18 Nov 2026 09:00:00 +0100\n\n\
         Hei Kari,\n\nIkke akkurat nå. Ta gjerne kontakt igjen i mars?\n\nMvh\nIngrid\n",
    )
    .unwrap();
    let departure = dir.path().join("departure.eml");
    std::fs::write(
        &departure,
        "From: Per Li <per.li@fjordkraft.no>\nTo: kari@fjordsalg.no\nSubject: Autosvar: Tilbud\n\
         Auto-Submitted: auto-replied\nDate: Wed, 18 Nov 2026 09:00:00 +0100\n\n\
         Per Li har sluttet i Fjordkraft AS. Ta kontakt med Ola (Ola.Dahl@fjordkraft.no).\n",
    )
    .unwrap();
    let files = [
        deferral.display().to_string(),
        departure.display().to_string(),
    ];
    let output = classify(&files);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    let expected = format!(
        "{}: reply\n  deferral: 2027-03-01 (\"Ta gjerne kontakt igjen i mars?\")\n  \
         reason: no automatic signal: a person wrote it\n\
         {}: auto_reply\n  departure: contact instead: ola.dahl@fjordkraft.no \
         (\"Per Li har sluttet i Fjordkraft AS.\")\n  reason: Auto-Submitted: auto-replied\n",
        files[0], files[1]
    );
    assert_eq!(stdout, expected);

    let mut args = vec!["--json".to_string()];
    args.extend(files.iter().cloned());
    let output = classify(&args);
    let rows: Vec<serde_json::Value> =
        serde_json::from_slice(&output.stdout).expect("one JSON array");
    assert_eq!(rows[0]["deferral"]["from"], "2027-03-01");
    assert_eq!(rows[0]["asks"], true, "the question mark asks something");
    assert_eq!(rows[0]["departure"], serde_json::Value::Null);
    assert_eq!(
        rows[1]["departure"]["replacements"],
        serde_json::json!(["ola.dahl@fjordkraft.no"])
    );
    assert_eq!(rows[1]["deferral"], serde_json::Value::Null);
    assert_eq!(rows[1]["asks"], false);
}
