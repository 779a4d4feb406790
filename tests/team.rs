//! A sales team on one PostgreSQL: sellers who name the same `[team]` share one suppression
//! list. An opt-out that reaches one seller stops a colleague's pending draft to the same
//! person within the colleague's next pass, and the colleague's list says who saw it. The
//! team's tables exist only on PostgreSQL, so these tests run there whatever the run's store.

mod support;

use std::path::Path;

use chrono::{Duration as Days, Utc};
use support::colleagues::{dovecot_of, drafts_of, folder_of};
use support::mailclient::{crlf, Message};
use support::nudge::{nudge_command, Nudge, PASSWORD, SELLER};
use support::sales;
use support::stores::Backend;
use support::{Dovecot, DovecotOptions};

const OLA: &str = "ola@fjordsalg.no";
const PROSPECT: &str = "ingrid@fjordkraft.no";

/// A message `from` `seller` to `to`, `days_ago`, into the seller's Sent.
fn sent(dovecot: &Dovecot, seller: &str, to: &str, subject: &str, id: &str, days_ago: i64) {
    let local = seller.split('@').next().unwrap();
    let raw = Message {
        from: &format!("{local} Nordmann <{seller}>"),
        to,
        subject,
        message_id: id,
        in_reply_to: None,
        date: &(Utc::now() - Days::days(days_ago)).to_rfc2822(),
        body: "Hei! Her er tilbudet vi snakket om.",
        extra: "",
    }
    .render();
    dovecot.save_message(seller, "Sent", crlf(&raw).as_bytes());
}

/// `seller`'s opener to the prospect, `days_ago`, into the seller's Sent.
fn opener(dovecot: &Dovecot, seller: &str, days_ago: i64) {
    let local = seller.split('@').next().unwrap();
    sent(
        dovecot,
        seller,
        &format!("Ingrid Berg <{PROSPECT}>"),
        &format!("Tilbud fra {local}"),
        &format!("opener.{local}@fjordsalg.no"),
        days_ago,
    );
}

/// Ingrid's answer to Kari's opener, asking never to be contacted, in Kari's INBOX.
fn opt_out_to_kari(dovecot: &Dovecot, body: &str) {
    let reply = Message {
        from: &format!("Ingrid Berg <{PROSPECT}>"),
        to: SELLER,
        subject: "Re: Tilbud fra kari",
        message_id: "optout@fjordkraft.no",
        in_reply_to: Some("opener.kari@fjordsalg.no"),
        date: &Utc::now().to_rfc2822(),
        body,
        extra: "",
    }
    .render();
    dovecot.save_message(SELLER, "INBOX", crlf(&reply).as_bytes());
}

fn nudge(folder: &Path, args: &[&str]) -> String {
    let output = nudge_command(None)
        .arg("--config")
        .arg(folder)
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "nudge {args:?}:\n{text}");
    text
}

/// Kari and Ola of one team on one PostgreSQL, with `team` as their `[team]` section.
fn team_of_two(team: &str) -> (Dovecot, Nudge, tempfile::TempDir) {
    let dovecot = dovecot_of(&[SELLER, OLA]);
    let kari = Nudge::new_on(
        &dovecot,
        &format!("{}\n{team}", sales::ALWAYS),
        Backend::Postgres,
    );
    let folder = folder_of(&kari, &[(OLA, "NUDGE_TEST_PASSWORD")]);
    (dovecot, kari, folder)
}

#[test]
fn an_opt_out_to_one_seller_stops_a_colleagues_pending_draft_within_one_pass() {
    let (dovecot, _kari, folder) = team_of_two("[team]\nname = \"Fjordsalg\"\noverlap_days = 0\n");
    let folder = folder.path();
    // `check` goes through every account, store and team included.
    let checked = nudge(folder, &["check"]);
    for account in [SELLER, OLA] {
        assert!(checked.contains(&format!("Account {account}")), "{checked}");
    }
    assert_eq!(checked.matches("Store: PostgreSQL").count(), 2, "{checked}");
    assert!(checked.contains("team Fjordsalg (2 members)"), "{checked}");
    opener(&dovecot, SELLER, 14);
    opener(&dovecot, OLA, 14);
    nudge(folder, &["sync"]);
    assert_eq!(drafts_of(&dovecot, SELLER), 1);
    assert_eq!(drafts_of(&dovecot, OLA), 1);

    // Ingrid tells Kari never to write again.
    opt_out_to_kari(
        &dovecot,
        "Vi har valgt en annen leverandør. Ikke kontakt meg igjen.",
    );
    let said = nudge(folder, &["--account", SELLER, "sync"]);
    assert_eq!(drafts_of(&dovecot, SELLER), 0, "{said}");
    assert_eq!(drafts_of(&dovecot, OLA), 1, "Ola's pass has not run yet");

    // Ola's next pass withdraws his draft: the team's list binds him.
    let said = nudge(folder, &["--account", OLA, "sync"]);
    assert_eq!(drafts_of(&dovecot, OLA), 0, "{said}");
    assert!(said.contains("suppression list"), "{said}");
    let status = nudge(folder, &["--account", OLA, "status", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(rows[0]["state"], "stopped", "{status}");
    let shown = nudge(folder, &["--account", OLA, "show", "1"]);
    assert!(shown.contains(&format!("seen by {SELLER}")), "{shown}");
    let list = nudge(folder, &["--account", OLA, "suppress", "list"]);
    let line = list
        .lines()
        .find(|l| l.contains(PROSPECT))
        .unwrap_or_default();
    assert!(line.contains(&format!("by {SELLER}")), "who saw it: {list}");
    // Kari's own list names nobody: it was her mailbox.
    let list = nudge(folder, &["--account", SELLER, "suppress", "list"]);
    let line = list
        .lines()
        .find(|l| l.contains(PROSPECT))
        .unwrap_or_default();
    assert!(!line.contains(" by "), "{list}");

    // A new opener of Ola's to her is not tracked either, and a later pass changes nothing.
    let said = nudge(folder, &["--account", OLA, "sync"]);
    assert!(!said.contains("suppression list"), "heeded once: {said}");
}

#[test]
fn a_team_needs_a_shared_postgres_store_and_a_lead_of_its_own_domains() {
    let dovecot = Dovecot::start(DovecotOptions {
        users: vec![(SELLER.to_string(), PASSWORD.to_string())],
        ..Default::default()
    });
    let sqlite = Nudge::new_on(&dovecot, "[team]\nname = \"Fjordsalg\"\n", Backend::Sqlite);
    let output = sqlite.run(&["status"]);
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && text.contains("team.name"),
        "{text}"
    );
    let outsider = Nudge::new_on(
        &dovecot,
        "[team]\nname = \"Fjordsalg\"\nlead = \"boss@gmail.com\"\n",
        Backend::Postgres,
    );
    let output = outsider.run(&["status"]);
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && text.contains("team.lead"),
        "{text}"
    );
}

/// Two sellers of one team and one company: Kari's follow-up to Per waits while Ola's
/// message to Per's colleague at the same organisation is recent, and goes once
/// `overlap_days` business days have passed since it.
#[test]
fn a_follow_up_waits_while_a_colleague_talks_to_the_same_organisation() {
    let (dovecot, _kari, folder) = team_of_two("[team]\nname = \"Fjordsalg\"\n");
    let folder = folder.path();
    // Kari wrote to Per two weeks ago; Ola wrote to Ingrid, at the same company, two days ago.
    sent(
        &dovecot,
        SELLER,
        "Per Olsen <per.olsen@fjordkraft.no>",
        "Tilbud på rammeavtale",
        "opener.per@fjordsalg.no",
        14,
    );
    opener(&dovecot, OLA, 2);
    // Ola's pass has read his Sent before Kari's runs.
    nudge(folder, &["--account", OLA, "sync"]);
    let said = nudge(folder, &["--account", SELLER, "sync"]);
    assert_eq!(
        drafts_of(&dovecot, SELLER),
        0,
        "Kari's follow-up waits:\n{said}"
    );
    assert!(
        said.contains("ola@fjordsalg.no of your team wrote to fjordkraft.no"),
        "{said}"
    );
    let shown = nudge(folder, &["--account", SELLER, "show", "1"]);
    assert!(shown.contains("the follow-up waits until"), "{shown}");
    // Both weekly summaries say who else is talking to the company.
    for (account, colleague) in [(SELLER, OLA), (OLA, SELLER)] {
        let preview = nudge(folder, &["--account", account, "summary", "--preview"]);
        assert!(
            preview.contains("KOLLEGAENE DINE SNAKKER OGSÅ MED DEM")
                && preview.contains(&format!("{colleague} skrev til fjordkraft.no")),
            "{account}'s summary names {colleague}:\n{preview}"
        );
    }
    let status = nudge(folder, &["--account", SELLER, "status", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&status).unwrap();
    let due = rows[0]["next_due"]
        .as_str()
        .expect("a due time")
        .to_string();
    let due: chrono::DateTime<Utc> = due.parse().unwrap();
    // Every day is a business day in this scenario: ten of them after Ola's touch.
    let expected = (Utc::now() - Days::days(2)).date_naive() + Days::days(10);
    let due_day = due.with_timezone(&chrono_tz::Europe::Oslo).date_naive();
    assert!(
        (due_day - expected).num_days().abs() <= 1,
        "due {due_day}, ten business days after Ola's touch: {expected}"
    );

    // A week on, it still waits; once the overlap has passed, the draft is made.
    let later = |days: i64| (Utc::now() + Days::days(days)).to_rfc3339();
    nudge(folder, &["--account", SELLER, "sync", "--now", &later(6)]);
    assert_eq!(drafts_of(&dovecot, SELLER), 0);
    let said = nudge(folder, &["--account", SELLER, "sync", "--now", &later(9)]);
    assert_eq!(drafts_of(&dovecot, SELLER), 1, "{said}");
}

/// The lead's weekly summary goes out once for the team, over SMTP, with each seller's
/// numbers, the subjects of their new conversations and the companies two of them wrote to,
/// and never a word of message text.
#[test]
fn the_lead_gets_one_team_summary_with_counts_and_subjects_only() {
    use support::nudge::smtp_section;
    use support::{SmtpSecurity, SmtpServer};
    let dovecot = dovecot_of(&[SELLER, OLA]);
    let smtp = SmtpServer::start(SmtpSecurity::StartTls, SELLER, PASSWORD, dovecot.ca());
    let extra = format!(
        "{}\n{}[summary]\nweekday = \"{}\"\ntime = \"00:00\"\n\n[team]\nname = \"Fjordsalg\"\nlead = \"lead@fjordsalg.no\"\n",
        sales::ALWAYS,
        smtp_section(&dovecot, &smtp),
        sales::weekday_today()
    );
    let kari = Nudge::new_on(&dovecot, &extra, Backend::Postgres);
    let folder = folder_of(&kari, &[(OLA, "NUDGE_TEST_PASSWORD")]);
    let folder = folder.path();
    // Both started nudge last week (no team summary in the week a seller's nudge first
    // started), and both wrote to Fjordkraft this week.
    let last_week = (Utc::now() - Days::days(8)).to_rfc3339();
    let said = nudge(folder, &["sync", "--now", &last_week]);
    assert!(!said.contains("team's summary"), "{said}");
    opener(&dovecot, SELLER, 2);
    opener(&dovecot, OLA, 2);
    nudge(folder, &["--account", OLA, "sync"]);
    let said = nudge(folder, &["--account", SELLER, "sync"]);
    assert!(said.contains("sent the team's summary"), "{said}");
    let to_lead = |all: Vec<support::ReceivedMail>| -> Vec<String> {
        all.into_iter()
            .filter(|m| m.rcpt_to == ["lead@fjordsalg.no"])
            .map(|m| String::from_utf8_lossy(&m.data).into_owned())
            .collect()
    };
    let sent = to_lead(smtp.wait_for(1, std::time::Duration::from_secs(10)));
    assert_eq!(sent.len(), 1, "{said}");
    let mail = &sent[0];
    assert!(mail.contains("Subject: Team Fjordsalg: week"), "{mail}");
    assert!(mail.contains("Auto-Submitted: auto-generated"), "{mail}");
    for seen in [
        SELLER,
        OLA,
        "Tilbud fra kari",
        "Tilbud fra ola",
        "fjordkraft.no: kari@fjordsalg.no, ola@fjordsalg.no",
    ] {
        assert!(mail.contains(seen), "{seen:?} in:\n{mail}");
    }
    assert!(
        !mail.contains("Her er tilbudet"),
        "no message text:\n{mail}"
    );

    // Another member's pass, and Kari's next, send nothing more.
    let said = nudge(folder, &["sync"]);
    assert!(!said.contains("team's summary"), "{said}");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(to_lead(smtp.received()).len(), 1);
}

/// A colleague's opt-out of one of two prospects: the waiting draft that may address her is
/// withdrawn and made again in the same pass, to the other prospect only.
#[test]
fn a_colleagues_opt_out_of_one_prospect_has_the_draft_made_again_without_her() {
    let (dovecot, _kari, folder) = team_of_two("[team]\nname = \"Fjordsalg\"\noverlap_days = 0\n");
    let folder = folder.path();
    opener(&dovecot, SELLER, 14);
    sent(
        &dovecot,
        OLA,
        "Ingrid Berg <ingrid@fjordkraft.no>, Per Olsen <per.olsen@fjordkraft.no>",
        "Tilbud til dere begge",
        "opener.both@fjordsalg.no",
        14,
    );
    nudge(folder, &["sync"]);
    let to_of_drafts =
        || dovecot.doveadm(&["fetch", "-u", OLA, "hdr.to", "mailbox", "Drafts", "ALL"]);
    assert!(to_of_drafts().contains(PROSPECT), "{}", to_of_drafts());

    opt_out_to_kari(&dovecot, "Ikke kontakt meg igjen.");
    nudge(folder, &["--account", SELLER, "sync"]);
    let said = nudge(folder, &["--account", OLA, "sync"]);
    assert!(said.contains("made again without them"), "{said}");
    assert_eq!(
        drafts_of(&dovecot, OLA),
        1,
        "one draft, made again:\n{said}"
    );
    let to = to_of_drafts();
    assert!(
        to.contains("per.olsen@fjordkraft.no") && !to.contains(PROSPECT),
        "{to}\n{said}"
    );
}
