//! Sync at scale, side by side with the floor the protocol sets and with a plain script.
//!
//! For each size (default 1,000, 10,000 and 100,000 messages; `NUDGE_SCALE_SIZES=1000,10000`
//! to choose) a realistic ten-year seller mailbox is generated (`tests/support/mailbox.rs`),
//! written into a fresh Dovecot once, and measured `NUDGE_SCALE_RUNS` times (default 3; the
//! table shows the median):
//!
//! - **floor**: one `UID FETCH 1:*` of the header fields nudge reads, per folder, bytes read
//!   and thrown away;
//! - **text floor**: the texts the first sync read (SPEC 4: an opt-out, a bounce or a return
//!   date is in the text, also of old mail), fetched alone, as many to a FETCH as nudge asks;
//!   a first sync costs the server at least both floors;
//! - **python**: a plain imaplib + email script that fetches the same, threads by References
//!   and counts the conversations where the seller wrote last;
//! - **nudge first sync** (`sync --dry-run`, `lookback_days = 3650`), wall time and peak RSS;
//! - **nudge resync** with no change, and **one reply**: a pass after one new message, on a
//!   store made by a real first sync; and the store's size per message.
//!
//! Run with `scripts/bench` (or `cargo bench --bench scale`); needs Dovecot, as the tests do.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use chrono::{DateTime, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use support::mailbox::{generate, seller_dovecot_with};
use support::mailclient::MailClient;
use support::measure::{measure, measure_with_cpu, median};
use support::nudge::{nudge_binary, Nudge, PASSWORD, SELLER};
use support::tls::tls_handshake;
use support::Dovecot;

const NOW: &str = "2026-11-18T09:00:00+01:00";
const FOLDERS: [&str; 3] = ["INBOX", "Sent", "Drafts"];

/// The protocol floor: the same FETCH nudge sends, over the same TLS, bytes discarded.
async fn floor(dovecot: &Dovecot) -> (f64, usize) {
    session(dovecot, true).await
}

/// The server's floor for a pass with no change: connect, log in and EXAMINE each folder,
/// which is all a pass asks the server when nothing is new.
async fn quiet_floor(dovecot: &Dovecot) -> f64 {
    session(dovecot, false).await.0
}

/// One session over TLS: log in, EXAMINE each folder and, when `fetch`, FETCH its headers.
async fn session(dovecot: &Dovecot, fetch: bool) -> (f64, usize) {
    let started = Instant::now();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0;
    let mut tls = logged_in(dovecot, &mut buffer).await;
    for folder in FOLDERS {
        command(&mut tls, &mut buffer, "E", &format!("EXAMINE \"{folder}\"")).await;
        if !fetch {
            continue;
        }
        let fetch = format!(
            "UID FETCH 1:* (UID FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS ({})])",
            nudge::imap::sync::HEADER_FIELDS
        );
        bytes += command(&mut tls, &mut buffer, "F", &fetch).await;
    }
    tls.write_all(b"Q LOGOUT\r\n").await.ok();
    (started.elapsed().as_secs_f64(), bytes)
}

/// Reads from `stream` until `end` has been read; returns how many bytes were read.
async fn until<S: AsyncReadExt + Unpin>(stream: &mut S, buffer: &mut [u8], end: &[u8]) -> usize {
    let mut total = 0;
    // A tagged reply may be the first line read.
    let mut tail: Vec<u8> = b"\r\n".to_vec();
    loop {
        let n = stream.read(buffer).await.expect("read");
        assert!(n > 0, "the server closed the connection");
        total += n;
        tail.extend_from_slice(&buffer[..n]);
        if tail.windows(end.len()).any(|w| w == end) {
            return total;
        }
        let keep = tail.len().saturating_sub(end.len() + 256);
        tail.drain(..keep);
    }
}

/// Sends the command `text` tagged `tag` and reads until its tagged answer; returns how many
/// bytes were read.
async fn command<S: AsyncReadExt + AsyncWriteExt + Unpin>(
    stream: &mut S,
    buffer: &mut [u8],
    tag: &str,
    text: &str,
) -> usize {
    stream
        .write_all(format!("{tag} {text}\r\n").as_bytes())
        .await
        .expect("write");
    until(stream, buffer, format!("\r\n{tag} ").as_bytes()).await
}

/// A session over TLS, logged in as the seller.
async fn logged_in(
    dovecot: &Dovecot,
    buffer: &mut [u8],
) -> impl AsyncReadExt + AsyncWriteExt + Unpin {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", dovecot.imaps_port()))
        .await
        .expect("connect");
    let mut tls = tls_handshake(dovecot.ca(), tcp).await.expect("TLS");
    until(&mut tls, buffer, b"* OK").await;
    command(
        &mut tls,
        buffer,
        "L",
        &format!("LOGIN \"{SELLER}\" \"{PASSWORD}\""),
    )
    .await;
    tls
}

/// The server's floor for the texts a first sync reads: the messages whose text nudge read
/// (`wanted`, by folder), their text alone, as many to a FETCH as nudge asks. SPEC 4 has a
/// first sync read them (an opt-out, a bounce or a return date is in the text, also of old
/// mail), so a first sync costs at least the header floor and this.
async fn text_floor(dovecot: &Dovecot, wanted: &[(String, Vec<u32>)]) -> f64 {
    let started = Instant::now();
    let mut buffer = vec![0u8; 1 << 16];
    let mut tls = logged_in(dovecot, &mut buffer).await;
    for (folder, uids) in wanted {
        command(&mut tls, &mut buffer, "E", &format!("EXAMINE \"{folder}\"")).await;
        for batch in uids.chunks(nudge::engine::TEXT_BATCH) {
            let set: Vec<String> = batch.iter().map(u32::to_string).collect();
            let fetch = format!("UID FETCH {} (BODY.PEEK[TEXT]<0.65536>)", set.join(","));
            command(&mut tls, &mut buffer, "F", &fetch).await;
        }
    }
    tls.write_all(b"Q LOGOUT\r\n").await.ok();
    started.elapsed().as_secs_f64()
}

/// The messages of nudge's store whose text it read, by folder.
async fn texts_read(nudge: &Nudge) -> Vec<(String, Vec<u32>)> {
    use sqlx::Row as _;
    let url = format!("sqlite://{}?mode=ro", nudge.store_path().display());
    let pool = sqlx::SqlitePool::connect(&url).await.expect("the store");
    let rows =
        sqlx::query("SELECT folder, uid FROM messages WHERE has_body = 1 ORDER BY folder, uid")
            .fetch_all(&pool)
            .await
            .expect("the texts read");
    pool.close().await;
    let mut wanted: Vec<(String, Vec<u32>)> = Vec::new();
    for row in rows {
        let (folder, uid): (String, i64) = (row.get(0), row.get(1));
        match wanted.last_mut() {
            Some((last, uids)) if *last == folder => uids.push(uid as u32),
            _ => wanted.push((folder, vec![uid as u32])),
        }
    }
    wanted
}

/// What a technical seller would write in an afternoon: imaplib, the email package, threads
/// by References, and the threads where the seller wrote last.
const PYTHON: &str = r#"
import imaplib, ssl, sys, email.parser, email.utils
host, port, user, password, cafile, fields, seller = sys.argv[1:8]
ctx = ssl.create_default_context(cafile=cafile)
imap = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
imap.login(user, password)
parser = email.parser.BytesHeaderParser()
parent = {}
def find(x):
    while parent.get(x, x) != x:
        parent[x] = parent.get(parent[x], parent[x])
        x = parent[x]
    return x
def union(a, b):
    ra, rb = find(a), find(b)
    if ra != rb:
        parent[ra] = rb
messages = []
for folder in ("INBOX", "Sent"):
    imap.select(folder, readonly=True)
    typ, data = imap.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (%s)])" % fields)
    for item in data:
        if not isinstance(item, tuple):
            continue
        h = parser.parsebytes(item[1])
        mid = (h.get("Message-ID") or "").strip()
        refs = (h.get("References") or "").split() + (h.get("In-Reply-To") or "").split()
        for r in refs:
            union(r, mid)
        parent.setdefault(mid, mid)
        sender = email.utils.parseaddr(h.get("From") or "")[1].lower()
        try:
            when = email.utils.parsedate_to_datetime(h.get("Date")).timestamp()
        except Exception:
            when = 0
        messages.append((mid, sender, when))
last = {}
for mid, sender, when in messages:
    root = find(mid)
    if root not in last or when >= last[root][0]:
        last[root] = (when, sender)
print(sum(1 for when, sender in last.values() if sender == seller))
"#;

fn python(dovecot: &Dovecot, script: &Path) -> f64 {
    let mut command = Command::new("python3");
    command.arg(script).args([
        "127.0.0.1".to_string(),
        dovecot.imaps_port().to_string(),
        SELLER.to_string(),
        PASSWORD.to_string(),
        dovecot.ca().ca_path().display().to_string(),
        nudge::imap::sync::HEADER_FIELDS.to_string(),
        SELLER.to_string(),
    ]);
    measure(command).0
}

/// Runs nudge: wall seconds, peak RSS in KiB, CPU seconds, and its output.
fn nudge_sync(nudge: &Nudge, args: &[&str]) -> (f64, u64, f64, String) {
    // NUDGE_SCALE_PERF=FILE records a profile of each nudge run with `perf record`, in
    // FILE.0, FILE.1, … in the order they ran.
    let mut command = match std::env::var("NUDGE_SCALE_PERF") {
        Ok(file) => {
            static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let run = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut perf = Command::new("perf");
            perf.args(["record", "-F", "999", "-o", &format!("{file}.{run}"), "--"])
                .arg(nudge_binary());
            perf
        }
        Err(_) => Command::new(nudge_binary()),
    };
    command
        // What a seller's log shows, and the pass's own account of its time.
        .env("RUST_LOG", "nudge=info,nudge::timing=debug")
        .arg("--config")
        .arg(&nudge.config)
        .args(args)
        .env("NUDGE_TEST_PASSWORD", PASSWORD);
    measure_with_cpu(command)
}

fn store_bytes(nudge: &Nudge) -> u64 {
    let path = nudge.store_path();
    ["", "-wal"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", path.display())).ok())
        .map(|m| m.len())
        .sum()
}

struct Row {
    size: usize,
    floor: f64,
    /// The server's floor for the texts a first sync reads ([`text_floor`]).
    text_floor: f64,
    /// How many texts the first sync read.
    texts: usize,
    python: f64,
    first: f64,
    first_rss: u64,
    real_first: f64,
    resync: f64,
    resync_rss: u64,
    /// nudge's own time (CPU, user and system) in the no-change pass.
    resync_cpu: f64,
    /// The server's floor for the no-change pass: log in and EXAMINE the folders.
    quiet_floor: f64,
    one_reply: f64,
    one_reply_cpu: f64,
    store: u64,
}

fn run_size(size: usize, runs: usize, script: &Path) -> Row {
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339(NOW).expect("NOW").to_utc();
    let seeding = Instant::now();
    let messages = generate(size, 2026, now);
    let sent = messages.iter().filter(|m| m.folder == "Sent").count();
    let dovecot = seller_dovecot_with(&messages);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // Dovecot indexes a Maildir on first access: done once here, outside every measurement.
    let (_, bytes) = runtime.block_on(floor(&dovecot));
    eprintln!(
        "{size}: seeded {} messages ({sent} in Sent), {:.1} MB of header fields, in {:.1} s",
        messages.len(),
        bytes as f64 / 1e6,
        seeding.elapsed().as_secs_f64()
    );
    let config = "[tracking]\nlookback_days = 3650\n";
    // NUDGE_SCALE_HOLD=SECONDS keeps the mailbox up that long for runs by hand.
    if let Some(hold) = std::env::var("NUDGE_SCALE_HOLD")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        let nudge = Nudge::new(&dovecot, config);
        eprintln!(
            "holding for {hold} s: NUDGE_TEST_PASSWORD={PASSWORD} nudge --config {}",
            nudge.config.display()
        );
        std::thread::sleep(std::time::Duration::from_secs(hold));
    }
    let mut floors = Vec::new();
    let mut pythons = Vec::new();
    let mut firsts = Vec::new();
    let mut first_rss = Vec::new();
    for run in 0..runs {
        floors.push(runtime.block_on(floor(&dovecot)).0);
        pythons.push(python(&dovecot, script));
        let nudge = Nudge::new(&dovecot, config);
        let (seconds, rss, _, output) = nudge_sync(&nudge, &["sync", "--dry-run", "--now", NOW]);
        for line in output.lines().filter(|l| l.contains("pass timing")) {
            eprintln!("  {line}");
        }
        firsts.push(seconds);
        first_rss.push(rss as f64);
        eprintln!(
            "{size} run {}: floor {:.2} s, python {:.2} s, nudge first sync {seconds:.2} s, {} MiB",
            run + 1,
            floors[run],
            pythons[run],
            rss / 1024
        );
    }
    // A real store: first sync, then passes with no change and with one new reply.
    let nudge = Nudge::new(&dovecot, config);
    let (real_first, _, _, _) = nudge_sync(&nudge, &["sync", "--now", NOW]);
    let wanted = runtime.block_on(texts_read(&nudge));
    let texts = wanted.iter().map(|(_, uids)| uids.len()).sum();
    let text_floor = median(
        (0..runs)
            .map(|_| runtime.block_on(text_floor(&dovecot, &wanted)))
            .collect(),
    );
    eprintln!("{size}: the first sync read {texts} texts; their floor {text_floor:.2} s");
    let mut resyncs = Vec::new();
    let mut resync_rss = Vec::new();
    let mut replies = Vec::new();
    let mut resync_cpus = Vec::new();
    let mut reply_cpus = Vec::new();
    let mut quiet_floors = Vec::new();
    for run in 0..runs {
        // The server's part of a pass with no change, just before it: Dovecot's own time to
        // open a folder of Maildir varies from run to run.
        quiet_floors.push(runtime.block_on(quiet_floor(&dovecot)));
        let later = (now + chrono::Duration::minutes(5 * (run as i64 + 1))).to_rfc3339();
        let (seconds, rss, cpu, _) = nudge_sync(&nudge, &["sync", "--now", &later]);
        resyncs.push(seconds);
        resync_cpus.push(cpu);
        resync_rss.push(rss as f64);
        // One new reply to the newest opener in Sent.
        let opener = messages
            .iter()
            .rev()
            .find(|m| m.folder == "Sent")
            .expect("an opener");
        let id = support::mailclient::header_value(&opener.raw, "Message-ID").expect("id");
        let to = support::mailclient::header_value(&opener.raw, "To").expect("to");
        let reply = format!(
            "From: {to}\nTo: {SELLER}\nSubject: Re: bench {run}\nDate: {}\n\
             Message-ID: <bench-reply-{run}-{size}@example.net>\nIn-Reply-To: {id}\n\
             References: {id}\n\nTakk, vi tar en prat.\n",
            now.format("%a, %d %b %Y %H:%M:%S +0000")
        );
        runtime.block_on(async {
            let mut client = MailClient::connect(&dovecot, SELLER, PASSWORD).await;
            client.append("INBOX", &reply, &[]).await;
            client.logout().await;
        });
        let later = (now + chrono::Duration::minutes(5 * (run as i64 + 1) + 1)).to_rfc3339();
        let (seconds, _, cpu, _) = nudge_sync(&nudge, &["sync", "--now", &later]);
        replies.push(seconds);
        reply_cpus.push(cpu);
    }
    Row {
        size,
        floor: median(floors),
        text_floor,
        texts,
        python: median(pythons),
        first: median(firsts),
        first_rss: median(first_rss) as u64,
        real_first,
        resync: median(resyncs),
        resync_rss: median(resync_rss) as u64,
        resync_cpu: median(resync_cpus),
        quiet_floor: median(quiet_floors),
        one_reply: median(replies),
        one_reply_cpu: median(reply_cpus),
        store: store_bytes(&nudge),
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read from the command line.
    let sizes: Vec<usize> = std::env::var("NUDGE_SCALE_SIZES")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("NUDGE_SCALE_SIZES: numbers"))
        .collect();
    let runs: usize = std::env::var("NUDGE_SCALE_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("follow_ups.py");
    std::fs::write(&script, PYTHON).expect("write the script");
    let rows: Vec<Row> = sizes.iter().map(|&n| run_size(n, runs, &script)).collect();
    println!();
    println!(
        "median of {runs} runs; times in seconds; RSS in MiB; store in bytes per message; \
         (CPU): nudge's own time in the pass, user and system; server floor: log in and \
         EXAMINE the folders, just before the no-change pass; texts: how many texts a first \
         sync reads, and the server's floor for them alone; ×(floor+texts): the first sync \
         against both floors"
    );
    println!(
        "| messages | floor | python | nudge first sync | ×floor | python÷nudge | texts (floor) | \
         ×(floor+texts) | peak RSS | real first sync | no-change pass (CPU) | server floor | RSS | one-reply pass (CPU) | \
         store/msg | µs/msg |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {:.2} | {:.2} | {:.2} | {:.1} | {:.2} | {} ({:.2}) | {:.1} | {} | {:.2} | \
             {:.3} ({:.3}) | {:.3} | {} | {:.3} ({:.3}) | {} | {:.0} |",
            r.size,
            r.floor,
            r.python,
            r.first,
            r.first / r.floor,
            r.python / r.first,
            r.texts,
            r.text_floor,
            r.first / (r.floor + r.text_floor),
            r.first_rss / 1024,
            r.real_first,
            r.resync,
            r.resync_cpu,
            r.quiet_floor,
            r.resync_rss / 1024,
            r.one_reply,
            r.one_reply_cpu,
            r.store / r.size as u64,
            r.first * 1e6 / r.size as f64
        );
    }
}
