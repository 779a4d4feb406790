//! SPEC 13: the mailbox is written by strangers. A corpus of hostile mail (see
//! `support::hostile`: bounces that once panicked, 35,000 References, multi-MB headers, a
//! 10 MB body, 500-deep nesting, NUL bytes, invalid UTF-8 and charsets, dates in year 1 and
//! 9999, bidi overrides, header injection, forged seller mail, spoofed and shared Message-IDs)
//! lands in INBOX next to one real reply. `nudge sync` exits 0 and sees the reply, the daemon
//! keeps running and sees a reply delivered after the corpus, and every hostile message is
//! either processed or quarantined, never left pending; nothing shows a raw control or bidi
//! character. The `nudge` binary against a real Dovecot.

mod support;

use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as Days, Utc};
use support::daemon::{wait_until, Daemon};
use support::hostile::{corpus, Hostile, Scene};
use support::mailclient::{crlf, Message};
use support::nudge::{seller_dovecot, Nudge, SELLER};
use support::Dovecot;

/// Drafts on any day at any hour, so that a conversation left waiting would get one; no
/// weekly summary sent into INBOX (the scenarios span a Monday on some days of the week), so
/// that INBOX holds only the mail the tests deliver.
const ALWAYS: &str = "[tracking]\nlookback_days = 60\n\n[cadence]\nholidays = []\ndraft_time = \"00:00\"\nquiet_after = \"24:00\"\nworkdays = [\"monday\", \"tuesday\", \"wednesday\", \"thursday\", \"friday\", \"saturday\", \"sunday\"]\n\n[summary]\nenabled = false\n";

const KARI: &str = "Kari Nordmann <kari@fjordsalg.no>";
/// The watched conversation: its real reply must be seen.
const INGRID: &str = "Ingrid Berg <ingrid.berg@fjordkraft.no>";
const WATCHED_SUBJECT: &str = "Tilbud på rammeavtale";
const WATCHED_ID: &str = "a1@fjordsalg.no";
/// The conversation the strangers answer.
const PER: &str = "per.olsen@havbruk.no";
const TARGET_ID: &str = "b1@fjordsalg.no";
/// A conversation nobody answers (only forged seller mail names it): it gets a draft, so
/// drafts were being made, and the draft owes nothing to the forgery.
const SILENT_SUBJECT: &str = "Demo av plattformen";
const SILENT_ID: &str = "c1@fjordsalg.no";
const REPLY_ID: &str = "r1@fjordkraft.no";

/// The seller's three openers, an hour before `now`.
fn openers(now: DateTime<Utc>) -> Vec<String> {
    let date = (now - Days::hours(1)).to_rfc2822();
    let per = format!("Per Olsen <{PER}>");
    [
        (INGRID, WATCHED_SUBJECT, WATCHED_ID),
        (per.as_str(), "Tilbud", TARGET_ID),
        ("Siri Dahl <siri@laksefisk.no>", SILENT_SUBJECT, SILENT_ID),
    ]
    .into_iter()
    .map(|(to, subject, id)| {
        Message::new(
            KARI,
            to,
            subject,
            id,
            None,
            &date,
            "Hei,\n\nHer er tilbudet vi snakket om.\n\nVennlig hilsen\nKari",
        )
        .render()
    })
    .collect()
}

/// Ingrid's real reply to the watched opener.
fn real_reply(now: DateTime<Utc>) -> Vec<u8> {
    let date = now.to_rfc2822();
    crlf(
        &Message::new(
            INGRID,
            KARI,
            "Re: Tilbud på rammeavtale",
            REPLY_ID,
            Some(WATCHED_ID),
            &date,
            "Takk, Kari! La oss ta en prat på torsdag.",
        )
        .render(),
    )
    .into_bytes()
}

/// The corpus, dated `now`.
fn hostile_mail(now: DateTime<Utc>) -> Vec<Hostile> {
    let date = now.to_rfc2822();
    let corpus = corpus(&Scene {
        seller: SELLER,
        target_id: TARGET_ID,
        target_prospect: PER,
        watched_id: WATCHED_ID,
        quiet_id: SILENT_ID,
        date: &date,
    });
    assert!(corpus.len() >= 40, "{} messages", corpus.len());
    corpus
}

/// Delivers a message into INBOX as the server's delivery agent does, bytes as they are.
fn deliver(dovecot: &Dovecot, raw: &[u8]) {
    dovecot.save_message(SELLER, "INBOX", raw);
}

/// The UIDs in INBOX of the messages matching an IMAP search.
fn inbox_uids(dovecot: &Dovecot, search: &[&str]) -> Vec<u32> {
    let mut args = vec!["search", "-u", SELLER, "mailbox", "INBOX"];
    args.extend_from_slice(search);
    dovecot
        .doveadm(&args)
        .lines()
        .filter_map(|line| line.split_whitespace().nth(1)?.parse().ok())
        .collect()
}

/// What the store holds of one INBOX message.
#[derive(Debug)]
struct Row {
    uid: u32,
    processed: bool,
    quarantine_reason: Option<String>,
}

/// The store's rows of INBOX messages, by UID.
async fn inbox_rows(nudge: &Nudge) -> Vec<Row> {
    let pool = nudge.raw_store().await;
    let rows: Vec<(i64, i64, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT m.uid, m.processed, m.quarantined_at, m.quarantine_reason
         FROM messages m JOIN folders f ON f.name = m.folder
         WHERE f.role = 'inbox' ORDER BY m.uid",
    )
    .fetch_all(&pool)
    .await
    .expect("read the messages");
    pool.close().await;
    rows.into_iter()
        .map(|(uid, processed, at, reason)| Row {
            uid: uid as u32,
            processed: processed != 0 || at.is_some(),
            quarantine_reason: at.map(|_| reason.unwrap_or_default()),
        })
        .collect()
}

/// Every hostile message is in the store and either processed or quarantined, and none
/// was quarantined because reading it panicked (a bug, however well contained).
/// `names[uid - 1]` names the message of each UID. Returns how many were quarantined.
fn check_every_message_settled(rows: &[Row], names: &[String]) -> usize {
    let uids: Vec<u32> = rows.iter().map(|r| r.uid).collect();
    let expected: Vec<u32> = (1..=names.len() as u32).collect();
    assert_eq!(uids, expected, "every INBOX message is in the store");
    let name = |uid: u32| names[uid as usize - 1].as_str();
    let pending: Vec<&str> = rows
        .iter()
        .filter(|r| !r.processed)
        .map(|r| name(r.uid))
        .collect();
    assert!(
        pending.is_empty(),
        "left neither processed nor quarantined: {pending:?}"
    );
    let quarantined: Vec<(&str, &str)> = rows
        .iter()
        .filter_map(|r| Some((name(r.uid), r.quarantine_reason.as_deref()?)))
        .collect();
    for (name, reason) in &quarantined {
        eprintln!("quarantined: {name}: {reason}");
        assert!(!reason.contains("panicked"), "{name}: {reason}");
    }
    quarantined.len()
}

/// Control and format characters (other than line ends and tabs) in text shown to the seller.
fn hidden_characters(text: &str) -> Vec<String> {
    let mut found: Vec<String> = text
        .chars()
        .filter(|&c| nudge::display::is_hidden(c) && !matches!(c, '\n' | '\r' | '\t'))
        .map(|c| format!("U+{:04X}", c as u32))
        .collect();
    found.dedup();
    found
}

fn output_text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `nudge sync --now` over INBOX holding the corpus with Ingrid's reply in the middle (by
/// UID): exits 0, the watched conversation is replied and gets no draft (the silent one
/// does), the forged seller mail after the reply does not reopen it, every hostile message is
/// processed or quarantined, and neither the pass's output nor `status`/`show` shows a raw
/// control or bidi character. A second pass retries nothing and still exits 0.
#[tokio::test]
async fn sync_over_a_hostile_inbox_sees_the_real_reply() {
    let now = Utc::now();
    let dovecot = seller_dovecot();
    let nudge = Nudge::new(&dovecot, ALWAYS);
    for opener in openers(now) {
        dovecot.save_message(SELLER, "Sent", crlf(&opener).as_bytes());
    }
    nudge.sync(&now.to_rfc3339());
    assert_eq!(nudge.status().len(), 3, "{:#?}", nudge.status());

    let corpus = hostile_mail(now);
    let middle = corpus.len() / 2;
    assert!(
        corpus[..middle].iter().all(|h| !h.names_watched),
        "the messages naming the watched conversation come after the reply"
    );
    let mut names = Vec::new();
    let delivering = Instant::now();
    for (n, hostile) in corpus.iter().enumerate() {
        if n == middle {
            deliver(&dovecot, &real_reply(now));
            names.push("the real reply".to_string());
        }
        deliver(&dovecot, &hostile.raw);
        names.push(hostile.name.clone());
    }
    let bytes: usize = corpus.iter().map(|h| h.raw.len()).sum();
    eprintln!(
        "delivered {} hostile messages ({:.1} MB) in {:?}",
        corpus.len(),
        bytes as f64 / 1e6,
        delivering.elapsed()
    );
    assert_eq!(
        inbox_uids(&dovecot, &["HEADER", "Message-ID", REPLY_ID]),
        vec![middle as u32 + 1],
        "the real reply sits in the middle of the corpus"
    );

    // Four days on, a step-1 draft is due for every conversation still waiting.
    let later = (now + Days::days(4)).to_rfc3339();
    let started = Instant::now();
    let sync = nudge.run_with_env(&["sync", "--now", &later], &[("RUST_LOG", "nudge=debug")]);
    let sync_text = output_text(&sync);
    eprintln!("sync over the hostile INBOX took {:?}", started.elapsed());
    assert!(sync.status.success(), "sync failed:\n{sync_text}");
    assert_eq!(
        hidden_characters(&sync_text),
        Vec::<String>::new(),
        "the pass's output shows mail text neutralised:\n{sync_text}"
    );

    let watched = nudge.conversation(WATCHED_SUBJECT).expect("watched");
    assert_eq!(watched["state"], "replied", "{watched:#}\n{sync_text}");
    assert_eq!(watched["draft"], false, "{watched:#}");
    let history = output_text(&nudge.run(&["show", &watched["id"].to_string()]));
    assert!(
        history.contains("Ingrid Berg replied"),
        "the reply is Ingrid's:\n{history}"
    );
    let silent = nudge.conversation(SILENT_SUBJECT).expect("silent");
    assert_eq!(
        silent["state"], "drafted",
        "drafts were being made: {silent:#}"
    );
    let drafts = dovecot.doveadm(&[
        "fetch", "-u", SELLER, "hdr body", "mailbox", "Drafts", "ALL",
    ]);
    assert!(
        drafts.contains(&format!("<{SILENT_ID}>")) && drafts.contains("siri@laksefisk.no"),
        "the silent conversation's draft answers the opener, to Siri:\n{drafts}"
    );
    assert!(
        !drafts.contains(&format!("<{WATCHED_ID}>")),
        "no draft answers the replied conversation:\n{drafts}"
    );
    assert!(
        !drafts.to_ascii_lowercase().contains("evil") && !drafts.contains("Glem tilbudet"),
        "no stranger chose a draft's recipients, headers or words:\n{drafts}"
    );

    let quarantined = check_every_message_settled(&inbox_rows(&nudge).await, &names);
    eprintln!(
        "{} of {} hostile messages quarantined, the rest processed",
        quarantined,
        corpus.len()
    );

    let mut shown = output_text(&nudge.run(&["status"]));
    for conversation in nudge.status() {
        let id = conversation["id"].to_string();
        shown.push_str(&output_text(&nudge.run(&["show", &id])));
    }
    assert_eq!(hidden_characters(&shown), Vec::<String>::new(), "{shown}");
    assert!(
        shown.contains(nudge::model::UNKNOWN_SENDER),
        "the history names the sender of a message without From:\n{shown}"
    );

    // Only addresses are suppressed: an opt-out without a sender suppresses nobody.
    let suppressed = output_text(&nudge.run(&["suppress", "list"]));
    for line in suppressed.lines() {
        let entry = line.split_whitespace().next().unwrap_or("");
        assert!(
            entry.contains('@') || entry.contains('.'),
            "a suppression that is no address or domain: {line:?}\n{suppressed}"
        );
    }

    // The weekly summary over what the strangers left behind renders, neutralised.
    let summary = nudge.run(&["summary", "--preview", "--now", &later]);
    let summary_text = output_text(&summary);
    assert!(summary.status.success(), "{summary_text}");
    assert_eq!(
        hidden_characters(&summary_text),
        Vec::<String>::new(),
        "{summary_text}"
    );

    // The next pass has nothing left to try and still succeeds.
    let again = nudge.run_with_env(
        &["sync", "--now", &(now + Days::days(5)).to_rfc3339()],
        &[("RUST_LOG", "nudge=info")],
    );
    let again_text = output_text(&again);
    assert!(again.status.success(), "{again_text}");
    assert!(!again_text.contains("quarantined"), "{again_text}");
    assert_eq!(
        nudge.conversation(WATCHED_SUBJECT).unwrap()["state"],
        "replied"
    );
}

/// The daemon watching INBOX (IDLE) while the corpus is delivered keeps running: it takes
/// every hostile message (processed or quarantined) in passes it is woken for, then sees
/// Ingrid's real reply delivered after them, and its log shows no raw control character.
#[test]
fn the_daemon_survives_a_hostile_inbox_and_sees_the_reply_after_it() {
    let now = Utc::now();
    let dovecot = seller_dovecot();
    let nudge = Nudge::new(&dovecot, ALWAYS);
    for opener in openers(now) {
        dovecot.save_message(SELLER, "Sent", crlf(&opener).as_bytes());
    }
    let runtime = tokio::runtime::Runtime::new().expect("a runtime for the store checks");
    let mut daemon = Daemon::start_default(&nudge);
    let ready = wait_until(Duration::from_secs(30), || {
        daemon.log().contains("ready: first pass done")
    });
    assert!(ready.is_some(), "{}", daemon.log());
    let passes = |daemon: &Daemon| daemon.log().matches("pass timing").count();
    let before = passes(&daemon);

    let corpus = hostile_mail(now);
    let mut names: Vec<String> = Vec::new();
    let delivered = Instant::now();
    for hostile in &corpus {
        deliver(&dovecot, &hostile.raw);
        names.push(hostile.name.clone());
    }
    let settled = wait_until(Duration::from_secs(60), || {
        let rows = runtime.block_on(inbox_rows(&nudge));
        rows.len() == corpus.len() && rows.iter().all(|r| r.processed)
    });
    assert!(
        settled.is_some(),
        "the hostile messages were not all taken:\n{:?}\n{}",
        runtime.block_on(inbox_rows(&nudge)),
        daemon.log()
    );
    eprintln!(
        "the daemon took {} hostile messages within {:?} of the first delivery",
        corpus.len(),
        delivered.elapsed()
    );
    assert!(daemon.is_running(), "{}", daemon.log());
    let watched = nudge.conversation(WATCHED_SUBJECT).expect("watched");
    assert_eq!(
        watched["state"], "waiting",
        "no hostile message passed for the prospect's reply: {watched:#}"
    );
    assert!(
        wait_until(Duration::from_secs(10), || passes(&daemon) > before).is_some(),
        "IDLE woke the daemon for the corpus:\n{}",
        daemon.log()
    );
    let after_corpus = passes(&daemon);

    deliver(&dovecot, &real_reply(Utc::now()));
    names.push("the real reply".to_string());
    let seen = wait_until(Duration::from_secs(30), || {
        nudge
            .conversation(WATCHED_SUBJECT)
            .is_some_and(|c| c["state"] == "replied")
    });
    assert!(
        seen.is_some(),
        "the reply after the corpus was not seen:\n{}",
        daemon.log()
    );
    eprintln!(
        "the reply after the corpus was seen within {:?}",
        seen.unwrap()
    );
    // The conversation changes while the pass applies the reply; the pass logs its timing
    // when it ends, a moment later.
    assert!(
        wait_until(Duration::from_secs(10), || passes(&daemon) > after_corpus).is_some(),
        "a later pass saw the reply:\n{}",
        daemon.log()
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(daemon.is_running(), "{}", daemon.log());

    let rows = runtime.block_on(inbox_rows(&nudge));
    let quarantined = check_every_message_settled(&rows, &names);
    eprintln!("{quarantined} hostile messages quarantined by the daemon");
    let log = daemon.log();
    assert_eq!(hidden_characters(&log), Vec::<String>::new(), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}

/// Every hostile message read whole, as `nudge classify` reads a file (the sync reads at
/// most 64 KiB of header fields and of text): parsing and classifying never panic, a message
/// ties itself to a bounded number of thread ids, and what is shown of it is neutralised.
#[test]
fn every_hostile_message_is_read_whole_without_panic() {
    let now = Utc::now();
    let mut slowest = (Duration::ZERO, String::new());
    for hostile in hostile_mail(now) {
        let started = Instant::now();
        let Some(mail) = nudge::mail::parse::parse(&hostile.raw) else {
            continue;
        };
        let class = nudge::mail::classify::classify(&mail, now.date_naive());
        let took = started.elapsed();
        if took > slowest.0 {
            slowest = (took, hostile.name.clone());
        }
        assert!(
            mail.thread_ids().len() <= nudge::mail::parse::MAX_THREAD_IDS,
            "{}: {} thread ids",
            hostile.name,
            mail.thread_ids().len()
        );
        let name = mail.from.as_ref().and_then(|f| f.name.clone());
        assert!(
            name.as_ref()
                .is_none_or(|n| n.chars().count() <= nudge::mail::parse::MAX_NAME_CHARS),
            "{}: a name of {} characters",
            hostile.name,
            name.as_ref().map_or(0, |n| n.chars().count())
        );
        for shown in [Some(mail.subject.clone()), name, Some(class.reason.clone())]
            .into_iter()
            .flatten()
        {
            let shown = nudge::display::neutralise(&shown);
            assert_eq!(
                hidden_characters(&shown),
                Vec::<String>::new(),
                "{}: {shown}",
                hostile.name
            );
        }
    }
    eprintln!("slowest to read whole: {} in {:?}", slowest.1, slowest.0);
}

/// A reply whose Date lies in 2099 (a broken client clock, or a stranger's joke) arrived when
/// the server took it, not in 2099: when the seller writes to the prospect again, the
/// conversation is followed again (SPEC 3) instead of the seller's message reading forever as
/// one that crossed the reply.
#[tokio::test]
async fn a_reply_dated_in_2099_does_not_outlast_the_sellers_answer() {
    let now = Utc::now();
    let dovecot = seller_dovecot();
    let nudge = Nudge::new(&dovecot, ALWAYS);
    let opener = &openers(now)[0];
    dovecot.save_message(SELLER, "Sent", crlf(opener).as_bytes());
    nudge.sync(&now.to_rfc3339());

    // Ingrid answers outside the thread (her client broke it), from a clock in 2099.
    let reply = Message::new(
        INGRID,
        KARI,
        "Spørsmål om tilbudet",
        "far.future@fjordkraft.no",
        None,
        "Wed, 31 Dec 2099 23:59:59 +0000",
        "Hei Kari, kan du sende prisene per måned?",
    )
    .render();
    deliver(&dovecot, crlf(&reply).as_bytes());
    nudge.sync(&(now + Days::hours(1)).to_rfc3339());
    let watched = nudge.conversation(WATCHED_SUBJECT).expect("watched");
    assert_eq!(watched["state"], "replied", "{watched:#}");

    // The next day the seller answers her in the thread of the opener.
    let answer_date = (now + Days::days(1)).to_rfc2822();
    let answer = Message {
        extra: "References: <a1@fjordsalg.no> <far.future@fjordkraft.no>",
        ..Message::new(
            KARI,
            INGRID,
            "Re: Tilbud på rammeavtale",
            "a2@fjordsalg.no",
            Some("far.future@fjordkraft.no"),
            &answer_date,
            "Hei Ingrid, prisene per måned står under.",
        )
    }
    .render();
    dovecot.save_message(SELLER, "Sent", crlf(&answer).as_bytes());
    nudge.sync(&(now + Days::days(1) + Days::hours(1)).to_rfc3339());
    let watched = nudge.conversation(WATCHED_SUBJECT).expect("watched");
    assert_eq!(
        watched["state"],
        "waiting",
        "the seller wrote again: followed from the start\n{watched:#}\n{}",
        output_text(&nudge.run(&["show", &watched["id"].to_string()]))
    );
}

/// A reply from Gmail, which writes References before Subject and From, in a thread so long
/// that References holds 35,000 ids (1.2 MB): the fields after it are still read, so the
/// reply is Ingrid's, in the thread, and its text is read: she asks not to be contacted.
#[tokio::test]
async fn a_gmail_reply_with_35000_references_before_its_from_is_read_whole() {
    let now = Utc::now();
    let dovecot = seller_dovecot();
    let nudge = Nudge::new(&dovecot, ALWAYS);
    dovecot.save_message(SELLER, "Sent", crlf(&openers(now)[0]).as_bytes());
    nudge.sync(&now.to_rfc3339());

    let mut references = format!("References: <{WATCHED_ID}>");
    for n in 0..35_000 {
        references.push_str(&format!("\r\n <m{n}.list@lists.stranger.example>"));
    }
    let reply = format!(
        "MIME-Version: 1.0\r\nDate: {}\r\nMessage-ID: <gmail.r1@mail.gmail.com>\r\n{references}\r\nIn-Reply-To: <{WATCHED_ID}>\r\nSubject: Re: Tilbud på rammeavtale\r\nFrom: {INGRID}\r\nTo: {KARI}\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\nTakk, men vi har valgt en annen leverandør. Ikke kontakt meg igjen.\r\n",
        now.to_rfc2822()
    );
    ingrid_opts_out_with(&dovecot, &nudge, &reply, now);
}

/// Delivers Ingrid's `reply` and syncs four days later: her conversation is opted out and
/// its history names her.
fn ingrid_opts_out_with(dovecot: &Dovecot, nudge: &Nudge, reply: &str, now: DateTime<Utc>) {
    deliver(dovecot, reply.as_bytes());
    nudge.sync(&(now + Days::days(4)).to_rfc3339());
    let watched = nudge.conversation(WATCHED_SUBJECT).expect("watched");
    let history = output_text(&nudge.run(&["show", &watched["id"].to_string()]));
    assert_eq!(watched["state"], "opted_out", "{watched:#}\n{history}");
    assert!(history.contains("Ingrid Berg"), "{history}");
}

/// A reply-all to a list of 10,000 addresses, written before From: the sender is still read,
/// so the opt-out suppresses Ingrid's address, and the history names her.
#[tokio::test]
async fn a_reply_all_with_10000_recipients_before_its_from_names_its_sender() {
    let now = Utc::now();
    let dovecot = seller_dovecot();
    let nudge = Nudge::new(&dovecot, ALWAYS);
    dovecot.save_message(SELLER, "Sent", crlf(&openers(now)[0]).as_bytes());
    nudge.sync(&now.to_rfc3339());

    let to: Vec<String> = (0..10_000)
        .map(|n| format!("innkjop{n}@anbud.stranger.example"))
        .collect();
    let reply = format!(
        "To: {KARI},\r\n {}\r\nCc: {}\r\nDate: {}\r\nMessage-ID: <all.r1@fjordkraft.no>\r\nIn-Reply-To: <{WATCHED_ID}>\r\nSubject: Re: Tilbud på rammeavtale\r\nFrom: {INGRID}\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\nVi har valgt en annen leverandør. Ikke kontakt meg igjen.\r\n",
        to.join(",\r\n "),
        to.join(",\r\n "),
        now.to_rfc2822()
    );
    ingrid_opts_out_with(&dovecot, &nudge, &reply, now);
    let suppressed = output_text(&nudge.run(&["suppress", "list"]));
    assert!(
        suppressed.contains("ingrid.berg@fjordkraft.no"),
        "{suppressed}"
    );
}
