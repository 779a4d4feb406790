//! The demo behind `scripts/demo`: a throwaway Dovecot on loopback with a small sample sales
//! mailbox, and nudge run against it the way a seller would: `check`, `sync`, `status`.
//!
//! Usage: `NUDGE_BIN=target/release/nudge target/release/examples/demo`

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::ExitCode;

use support::mailclient::{MailClient, Message};
use support::nudge::{Nudge, PASSWORD, SELLER};
use support::{Dovecot, DovecotOptions};

const NOW: &str = "2026-11-18T09:00:00+01:00";
const DUE: &str = "2026-11-19T08:30:00+01:00";

fn show(title: &str, nudge: &Nudge, args: &[&str]) -> bool {
    println!("\n$ nudge {}\n", args.join(" "));
    let output = nudge.run(args);
    print!("{}", String::from_utf8_lossy(&output.stdout));
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    if !output.status.success() {
        eprintln!("demo: {title} failed");
    }
    output.status.success()
}

fn main() -> ExitCode {
    if std::env::var_os("NUDGE_BIN").is_none() {
        eprintln!("demo: set NUDGE_BIN to the nudge binary (scripts/demo does)");
        return ExitCode::from(2);
    }
    println!("Starting a throwaway Dovecot on 127.0.0.1 …");
    let dovecot = Dovecot::start(DovecotOptions {
        users: vec![(SELLER.to_string(), PASSWORD.to_string())],
        ..Default::default()
    });
    println!(
        "IMAPS on 127.0.0.1:{}, mailbox {SELLER}, data in {}",
        dovecot.imaps_port(),
        dovecot.dir().display()
    );

    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(seed(&dovecot));
    println!("Seeded a sample mailbox: three openers in Sent, two answers in INBOX.");

    let nudge = Nudge::new(&dovecot, "");
    let mut ok = show("check", &nudge, &["check"])
        && show("sync", &nudge, &["sync", "--now", NOW])
        && show("status", &nudge, &["status"]);
    if ok {
        println!("\nThursday morning, three business days after the openers:");
        ok = show("sync", &nudge, &["sync", "--now", DUE]);
    }
    if ok {
        let drafts = runtime.block_on(async {
            let mut client = MailClient::connect(&dovecot, SELLER, PASSWORD).await;
            let drafts = client.messages("Drafts").await;
            client.logout().await;
            drafts
        });
        if let Some(draft) = drafts.first() {
            println!("\nThe draft waiting in Drafts for Kari to review and send:\n");
            print_draft(&draft.raw);
        }
        ok = show("status", &nudge, &["status"]);
    }
    println!("\nThe demo's mail server stops now; nothing is left running.");
    drop(dovecot);
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn seed(dovecot: &Dovecot) {
    let mut client = MailClient::connect(dovecot, SELLER, PASSWORD).await;
    let openers = [
        ("Ingrid Berg <ingrid.berg@fjordkraft.no>", "Tilbud på rammeavtale", "a1@fjordsalg.no",
         "Hei Ingrid,\n\nTakk for en god prat på messen. Her er tilbudet på rammeavtalen vi snakket om.\n\nHilsen Kari"),
        ("Anna Svensson <anna.svensson@nordichandel.se>", "Offert på licenser", "c1@fjordsalg.no",
         "Hej Anna,\n\nHär kommer offerten på licenserna.\n\nVänliga hälsningar\nKari"),
        ("James Wright <james.wright@thamesbuild.co.uk>", "Proposal for your site team", "e1@fjordsalg.no",
         "Hi James,\n\nAs promised, here is the proposal for your site team.\n\nBest regards\nKari"),
    ];
    for (to, subject, id, body) in openers {
        let raw = Message {
            from: "Kari Nordmann <kari@fjordsalg.no>",
            to,
            subject,
            message_id: id,
            in_reply_to: None,
            date: "Mon, 16 Nov 2026 10:00:00 +0100",
            body,
            extra: "",
        }
        .render();
        client.append("Sent", &raw, &["\\Seen"]).await;
    }
    let answers = [
        Message {
            from: "Anna Svensson <anna.svensson@nordichandel.se>",
            to: "Kari Nordmann <kari@fjordsalg.no>",
            subject: "SV: Offert på licenser",
            message_id: "c2@nordichandel.se",
            in_reply_to: Some("c1@fjordsalg.no"),
            date: "Tue, 17 Nov 2026 13:12:00 +0100",
            body: "Hej Kari!\n\nTack, det ser bra ut. Kan vi ses på torsdag?\n\nAnna",
            extra: "",
        },
        Message {
            from: "James Wright <james.wright@thamesbuild.co.uk>",
            to: "Kari Nordmann <kari@fjordsalg.no>",
            subject: "Automatic reply: Proposal for your site team",
            message_id: "e2@thamesbuild.co.uk",
            in_reply_to: Some("e1@fjordsalg.no"),
            date: "Mon, 16 Nov 2026 10:00:30 +0000",
            body: "Thank you for your email. I am out of the office and will be back on 30 November.",
            extra: "Auto-Submitted: auto-replied\nX-Auto-Response-Suppress: All\nX-MS-Exchange-Inbox-Rules-Loop: james.wright@thamesbuild.co.uk",
        },
    ];
    for answer in answers {
        client.append("INBOX", &answer.render(), &[]).await;
    }
    client.logout().await;
}

/// A draft as a mail client shows it: the headers that matter and the decoded text.
fn print_draft(raw: &[u8]) {
    let Some(message) = mail_parser::MessageParser::default().parse(raw) else {
        println!("{}", String::from_utf8_lossy(raw));
        return;
    };
    let addresses = |a: Option<&mail_parser::Address<'_>>| {
        a.map(|a| {
            a.iter()
                .map(|m| match (m.name(), m.address()) {
                    (Some(n), Some(e)) => format!("{n} <{e}>"),
                    (_, Some(e)) => e.to_string(),
                    _ => String::new(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
    };
    println!("From:        {}", addresses(message.from()));
    println!("To:          {}", addresses(message.to()));
    println!("Subject:     {}", message.subject().unwrap_or(""));
    println!(
        "In-Reply-To: <{}>",
        message.in_reply_to().as_text().unwrap_or("")
    );
    println!();
    println!("{}", message.body_text(0).unwrap_or_default().trim_end());
}
