//! Text from mail is shown neutralised (SPEC 13): a subject carrying a bidi override (U+202E,
//! which makes "fdp.exe" read as "exe.pdf") is shown escaped by `status`, `show` and the
//! sync's own output and log, never as the raw character.

mod support;

use chrono::{Duration as Days, Utc};
use support::mailclient::Message;
use support::nudge::{seller_dovecot, Nudge, SELLER};

#[test]
fn a_subject_with_a_bidi_override_is_shown_escaped() {
    let dovecot = seller_dovecot();
    let date = (Utc::now() - Days::days(3)).to_rfc2822();
    let opener = Message {
        from: "Kari Nordmann <kari@fjordsalg.no>",
        to: "Per \u{2066}Hansen <per@customer.no>",
        subject: "=?UTF-8?Q?Faktura_=E2=80=AEfdp.exe?=",
        message_id: "opener@fjordsalg.no",
        in_reply_to: None,
        date: &date,
        body: "Hei! Her er tilbudet. Hilsen Kari",
        extra: "",
    }
    .render();
    dovecot.save_message(
        SELLER,
        "Sent",
        support::mailclient::crlf(&opener).as_bytes(),
    );
    let nudge = Nudge::new(&dovecot, "[tracking]\nlookback_days = 30\n");
    let sync = nudge.run_with_env(
        &["sync", "--now", &Utc::now().to_rfc3339()],
        &[("RUST_LOG", "nudge=trace")],
    );
    let sync_text = format!(
        "{}{}",
        String::from_utf8_lossy(&sync.stdout),
        String::from_utf8_lossy(&sync.stderr)
    );
    assert!(sync.status.success(), "{sync_text}");
    assert!(!sync_text.contains('\u{202E}'), "{sync_text}");

    // The store keeps the subject as it came; JSON is data for programs.
    let conversation = nudge
        .conversation("Faktura")
        .expect("the conversation is tracked");
    assert_eq!(conversation["subject"], "Faktura \u{202E}fdp.exe");
    let id = conversation["id"].as_i64().unwrap().to_string();

    let status = nudge.run(&["status"]);
    let status = String::from_utf8_lossy(&status.stdout).into_owned();
    let show = nudge.run(&["show", &id]);
    let show = String::from_utf8_lossy(&show.stdout).into_owned();
    for shown in [&status, &show] {
        assert!(shown.contains("Faktura <U+202E>fdp.exe"), "{shown}");
        assert!(
            !shown.contains('\u{202E}') && !shown.contains('\u{2066}'),
            "{shown}"
        );
    }
}
