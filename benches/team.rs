//! A team's server: one `nudge run` serving every seller's mailbox, every store on one
//! PostgreSQL. How long the first pass over all of them takes, how much memory the service
//! needs, and how fast a reply in any mailbox still withdraws its draft.
//!
//! `NUDGE_TEAM_ACCOUNTS` sellers (default 20, `seller01@fjordsalg.no` …), each with a realistic
//! ten-year mailbox of `NUDGE_TEAM_MESSAGES` messages (default 5,000; the scale benchmark's
//! generator, `tests/support/mailbox.rs`, with the seller's own address and seed), written
//! into one throwaway Dovecot and indexed there once, outside every measurement. One
//! PostgreSQL (commits durable, as on a real server) with one database; one config file per
//! seller in a folder (`[store] url` that database, so each account gets its own schema;
//! `[team]` the same for all; ten years of lookback, so that the old threads where the seller
//! wrote last are due; a drafting day of every hour of every day). Then one
//! `nudge --config FOLDER run` (`RUST_LOG=nudge=debug`), and:
//!
//! - **first sync**: from the start of the process to the last account's
//!   `ready: first pass done` (each line carries `account{account=…}`), read from the
//!   timestamps the daemon puts on its lines;
//! - **peak RSS**: the daemon's VmHWM from `/proc`, after the first pass and at the end of the
//!   run (it only grows); and how many connections to PostgreSQL the service holds;
//! - **reply → withdrawal**: two rounds of `NUDGE_TEAM_TRIALS` trials (default 10), spread
//!   over the accounts, each a reply by the prospect to a conversation whose draft waits,
//!   appended to that seller's INBOX, timed as `benches/reply_latency.rs` does: from the APPEND
//!   to a bare IDLE client's `EXISTS` on the same mailbox (the floor: Dovecot holds its
//!   notifications back for about half a second) and to the withdrawal in the daemon's log.
//!   Nudge's own share is the withdrawal less the floor, trial by trial. The first round runs
//!   right after the first pass, the second once PostgreSQL's autovacuum has analyzed every
//!   account's tables (until then the server plans its queries on the tables the first pass
//!   filled without statistics); the table says how many were analyzed when each began.
//!
//! The sellers write to the same organisations (`orgN.example`), as a team's sellers do, so
//! `[team]`'s overlap rule holds some follow-ups back. The bench checks what must hold: every
//! account finished its first pass and drafted, and every reply withdrew its conversation's
//! draft (one trial per organisation of an account: a reply from an organisation stops every
//! conversation with it). It prints the daemon's warnings and errors. Run with `scripts/bench`
//! (`NUDGE_BENCH_ONLY=team`) or `cargo bench --bench team`; needs Dovecot and PostgreSQL, as
//! the tests do. A quick run: `NUDGE_TEAM_ACCOUNTS=3 NUDGE_TEAM_MESSAGES=500`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use support::daemon::{log_lines, Daemon};
use support::mailbox::{generate_for, team_dovecot_with, Generated};
use support::mailclient::{crlf, header_value};
use support::measure::median;
use support::nudge::{account_sections, nudge_command, PASSWORD};
use support::rawimap::{append_watched, Appended, RawImap};
use support::{Dovecot, Postgres};

const FOLDERS: [&str; 3] = ["INBOX", "Sent", "Drafts"];
const FIRST_NAMES: [&str; 20] = [
    "Kari", "Ola", "Ingrid", "Per", "Sofie", "Lars", "Nora", "Erik", "Emma", "Jonas", "Maja",
    "Henrik", "Sara", "Anders", "Ida", "Magnus", "Thea", "Sander", "Hanna", "Emil",
];
/// The longest a trial's withdrawal may take before the bench gives up.
const TRIAL_PATIENCE: Duration = Duration::from_secs(60);

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.trim()
                .parse()
                .unwrap_or_else(|_| panic!("{name}: a number"))
        })
        .unwrap_or(default)
        .max(1)
}

/// One seller of the team.
struct Seller {
    email: String,
    name: String,
    messages: Vec<Generated>,
}

fn sellers(accounts: usize, messages: usize, now: DateTime<Utc>) -> Vec<Seller> {
    (1..=accounts)
        .map(|n| {
            let email = format!("seller{n:02}@fjordsalg.no");
            let name = format!("{} Nordmann", FIRST_NAMES[(n - 1) % FIRST_NAMES.len()]);
            let messages = generate_for(messages, 2025 + n as u64, now, &email, &name);
            Seller {
                email,
                name,
                messages,
            }
        })
        .collect()
}

/// The config file of `seller`: its own `[store] path` (lock files) on the team's database.
fn config_text(seller: &Seller, dovecot: &Dovecot, url: &str, state: &Path) -> String {
    format!(
        r#"{account}[store]
path = "{state}"
url = "{url}"

[team]
name = "Fjordsalg"

[tracking]
lookback_days = 3650

[cadence]
holidays = []
daily_limit = 20
draft_time = "00:00"
quiet_after = "24:00"
workdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
"#,
        account = account_sections(&seller.email, &seller.name, "", dovecot),
        state = state.join("nudge.db").display(),
    )
}

/// Dovecot indexes a Maildir on first access: the same FETCH nudge sends, per folder of every
/// mailbox, done once before the daemon starts (a team's server finds mailboxes in use).
async fn index(dovecot: &Dovecot, user: &str) {
    let mut imap = RawImap::login(dovecot, user, PASSWORD).await;
    for folder in FOLDERS {
        imap.command(&format!("E EXAMINE \"{folder}\"\r\n")).await;
        imap.command_within(
            Duration::from_secs(600),
            &format!(
                "F1 UID FETCH 1:* (UID FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS ({})])\r\n",
                nudge::imap::sync::HEADER_FIELDS
            ),
        )
        .await;
    }
    imap.logout().await;
}

fn search(dovecot: &Dovecot, user: &str, query: &[&str]) -> usize {
    let mut args = vec!["search", "-u", user];
    args.extend_from_slice(query);
    dovecot
        .doveadm(&args)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

/// The tag of `email`'s lines in the daemon's log.
fn tag(email: &str) -> String {
    format!("account{{account={email}}}")
}

/// A conversation of a seller whose draft waits.
struct Waiting {
    /// The store's id and subject: the daemon's line about it is "#ID SUBJECT: …".
    id: i64,
    subject: String,
    /// The seller's last message: the reply answers it.
    parent: String,
    references: String,
    prospect: String,
}

impl Waiting {
    /// The prospect's domain.
    fn organisation(&self) -> String {
        self.prospect
            .rsplit_once('@')
            .map(|(_, domain)| domain.trim_end_matches('>').to_ascii_lowercase())
            .expect("a prospect's address")
    }
}

/// The conversations of `seller` with a draft waiting, one per organisation, from
/// `nudge status --json`, each with the seller's last message in the generated mailbox (its
/// subject ends in `#N`, the generator's conversation number; the turns' Message-IDs start
/// `cN.t`).
fn waiting(folder: &Path, seller: &Seller) -> Vec<Waiting> {
    let output = nudge_command(None)
        .arg("--config")
        .arg(folder)
        .args(["--account", &seller.email, "status", "--json"])
        .output()
        .expect("nudge status runs");
    assert!(
        output.status.success(),
        "status of {}: {}",
        seller.email,
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Vec<serde_json::Value> =
        serde_json::from_slice(&output.stdout).expect("status --json is a JSON array");
    let mut out = Vec::new();
    for row in rows.iter().filter(|r| r["state"] == "drafted") {
        let subject = row["subject"].as_str().expect("a subject").to_string();
        let number = subject
            .rsplit_once('#')
            .map(|(_, n)| n.trim())
            .expect("a generated subject ends in #N");
        let prefix = format!("<c{number}.t");
        let last = seller
            .messages
            .iter()
            .rfind(|m| header_value(&m.raw, "Message-ID").is_some_and(|id| id.starts_with(&prefix)))
            .expect("the conversation is in the generated mailbox");
        assert_eq!(last.folder, "Sent", "{subject}: the seller wrote last");
        let parent = header_value(&last.raw, "Message-ID").expect("an id");
        let references = match header_value(&last.raw, "References") {
            Some(earlier) => format!("{earlier} {parent}"),
            None => parent.clone(),
        };
        out.push(Waiting {
            id: row["id"].as_i64().expect("an id"),
            subject,
            parent,
            references,
            prospect: header_value(&last.raw, "To").expect("a prospect"),
        });
    }
    out.sort_by_key(|w| w.id);
    // A reply from an organisation stops every conversation with it (the prospect's colleague
    // answered for them): one trial per organisation, so that each finds its draft waiting.
    let mut organisations = std::collections::BTreeSet::new();
    out.retain(|w| organisations.insert(w.organisation()));
    out
}

/// Milliseconds from `from` to `to`.
fn ms(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_microseconds().expect("a short span") as f64 / 1000.0
}

/// VmHWM of `pid` in KiB (the peak resident memory so far).
fn peak_rss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("the daemon runs")
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// The lines of the daemon's log the bench reads.
const KEPT: [&str; 5] = [
    "ready: first pass done",
    "pass timing",
    "draft withdrawn",
    "woken by INBOX",
    "INBOX changed",
];

/// The daemon's log as it grows. A first pass over 100,000 messages logs tens of megabytes (a
/// line per event of every conversation): each look reads only what was added since the last
/// and keeps only the lines the bench reads, so that looking does not take the CPU the daemon
/// is measured on.
struct Log {
    path: PathBuf,
    read: u64,
    /// Time and text after the stamp (the level first) of the lines kept.
    lines: Vec<(DateTime<Utc>, String)>,
}

impl Log {
    fn of(daemon: &Daemon) -> Log {
        Log {
            path: daemon.log.clone(),
            read: 0,
            lines: Vec::new(),
        }
    }

    /// Reads the whole lines added since the last look.
    fn update(&mut self) {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return;
        };
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(self.read)).expect("seek the log");
        file.read_to_end(&mut bytes).expect("read the log");
        let end = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        self.read += end as u64;
        let text = String::from_utf8_lossy(&bytes[..end]);
        self.lines
            .extend(log_lines(&text).into_iter().filter(|(_, text)| {
                text.starts_with("WARN")
                    || text.starts_with("ERROR")
                    || KEPT.iter().any(|k| text.contains(k))
            }));
    }

    /// The first line of `account` that contains `what`, at `from` or later.
    fn find(&self, account: &str, what: &str, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.lines
            .iter()
            .find(|(at, text)| *at >= from && text.contains(account) && text.contains(what))
            .map(|(at, _)| *at)
    }

    /// The last lines of the whole log, for a failure's message.
    fn tail(&self) -> String {
        let text = support::read_lossy(&self.path);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(100)..].join("\n")
    }
}

/// Looks every `every` until `check` holds or `limit` passes.
fn wait_every(limit: Duration, every: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return true;
        }
        std::thread::sleep(every);
    }
    check()
}

/// The trials of a round, and the state of the store when it began.
struct Round {
    /// Seconds from the last account's first pass to the round's start.
    since_ready: f64,
    /// The stores PostgreSQL had analyzed when it began.
    analyzed_before: usize,
    /// For the round that waits for them: how long it waited, and whether all were.
    settled: Option<(f64, bool)>,
    trials: Vec<Trial>,
}

/// How many accounts' stores PostgreSQL has analyzed (its statistics on their messages),
/// by autovacuum or otherwise.
fn analyzed(postgres: &Postgres) -> usize {
    postgres
        .psql(
            "team",
            "SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'messages' \
             AND schemaname LIKE 'nudge\\_%' AND autoanalyze_count + analyze_count > 0",
        )
        .trim()
        .parse()
        .expect("a count")
}

struct Trial {
    account: String,
    floor: f64,
    notified: f64,
    withdrawn: f64,
}

/// One reply to `w` in `seller`'s INBOX, timed to a bare IDLE client's `EXISTS` and to the
/// daemon's lines.
async fn trial(i: usize, dovecot: &Dovecot, log: &mut Log, seller: &Seller, w: &Waiting) -> Trial {
    let user = seller.email.as_str();
    let in_reply_to = [
        "mailbox",
        "Drafts",
        "header",
        "In-Reply-To",
        w.parent.as_str(),
    ];
    assert_eq!(
        search(dovecot, user, &in_reply_to),
        1,
        "trial {i}: {user}'s draft for #{} {} (answering {}) waits in Drafts",
        w.id,
        w.subject,
        w.parent
    );
    let raw = crlf(&format!(
        "From: {}\nTo: {}\nSubject: Re: {}\nDate: {}\nMessage-ID: <team-reply-{i}@prospect.example>\n\
         In-Reply-To: {}\nReferences: {}\nMIME-Version: 1.0\n\
         Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n\
         Takk, dette passer fint. Kan vi ta en prat på torsdag?\n",
        w.prospect,
        seller.email,
        w.subject,
        Utc::now().to_rfc2822(),
        w.parent,
        w.references,
    ));
    let mut idle = RawImap::login(dovecot, user, PASSWORD).await;
    idle.command("S SELECT INBOX\r\n").await;
    let mut appender = RawImap::login(dovecot, user, PASSWORD).await;
    let Appended { wall, floor, .. } = append_watched(&mut idle, &mut appender, &raw).await;
    idle.logout().await;
    appender.logout().await;

    let account = tag(user);
    let withdrawal = format!("#{} {}: draft withdrawn", w.id, w.subject);
    let seen = wait_every(TRIAL_PATIENCE, Duration::from_millis(50), || {
        log.update();
        // And the end of that pass, so that the next trial finds the account idle.
        log.find(&account, &withdrawal, wall)
            .is_some_and(|at| log.find(&account, "pass timing", at).is_some())
    });
    assert!(
        seen,
        "trial {i}: {user}'s draft for #{} {} not withdrawn:\n{}",
        w.id,
        w.subject,
        log.tail()
    );
    let withdrawn = log
        .find(&account, &withdrawal, wall)
        .expect("the withdrawal line");
    // The INBOX watcher's `INBOX changed` line carries no account's address (each account's
    // watcher logs it alike): the account's main loop, woken by it at once, says so under its
    // address.
    let notified = log
        .find(&account, "woken by INBOX", wall)
        .unwrap_or_else(|| {
            panic!(
                "trial {i}: no line of {user}'s says its IDLE woke it:\n{}",
                log.tail()
            )
        });
    assert_eq!(
        search(dovecot, user, &in_reply_to),
        0,
        "trial {i}: {user}'s draft for #{} left Drafts",
        w.id
    );
    Trial {
        account: user.to_string(),
        floor: floor.as_secs_f64() * 1000.0,
        notified: ms(wall, notified),
        withdrawn: ms(wall, withdrawn),
    }
}

/// The value of `field=N` in a `pass timing` line.
fn timing(line: &str, field: &str) -> Option<f64> {
    let start = line.find(&format!("{field}="))? + field.len() + 1;
    line[start..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read from the command line.
    let accounts = knob("NUDGE_TEAM_ACCOUNTS", 20);
    let messages = knob("NUDGE_TEAM_MESSAGES", 5_000);
    let trials = knob("NUDGE_TEAM_TRIALS", 10);
    let total = accounts * messages;

    let seeding = Instant::now();
    let team = sellers(accounts, messages, Utc::now());
    let mailboxes: Vec<(&str, &[Generated])> = team
        .iter()
        .map(|s| (s.email.as_str(), s.messages.as_slice()))
        .collect();
    let dovecot = team_dovecot_with(&mailboxes);
    let written = seeding.elapsed().as_secs_f64();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        for seller in &team {
            index(&dovecot, &seller.email).await;
        }
    });
    eprintln!(
        "team: {accounts} mailboxes of {messages} messages written in {written:.1} s, indexed \
         by Dovecot in {:.1} s more",
        seeding.elapsed().as_secs_f64() - written
    );

    let postgres = Postgres::start_durable();
    let url = postgres.create_database("team");
    // Kept with NUDGE_KEEP_TEST_DIRS=1, with the daemon's log, as the servers' are.
    let dir = support::temp_dir("nudge-team-");
    let folder: PathBuf = dir.path().join("conf.d");
    std::fs::create_dir(&folder).expect("the config folder");
    for seller in &team {
        let local = seller.email.split('@').next().expect("a local part");
        let state = dir.path().join("state").join(local);
        std::fs::write(
            folder.join(format!("{local}.toml")),
            config_text(seller, &dovecot, &url, &state),
        )
        .expect("write a config");
    }

    // The daemon, and the first pass of every account.
    let started = Utc::now();
    let mut daemon = Daemon::start_in(
        dir.path(),
        &["--config", folder.to_str().expect("a UTF-8 path")],
        &[],
    );
    let pid = daemon.pid();
    let mut log = Log::of(&daemon);
    let patience = Duration::from_secs(300) + Duration::from_millis(20) * total as u32;
    let mut readies: Vec<DateTime<Utc>> = Vec::new();
    // The times come from the log's stamps: looking once a second costs no precision.
    let done = wait_every(patience, Duration::from_secs(1), || {
        assert!(daemon.is_running(), "the daemon stopped:\n{}", log.tail());
        log.update();
        readies = team
            .iter()
            .filter_map(|s| log.find(&tag(&s.email), "ready: first pass done", started))
            .collect();
        readies.len() == accounts
    });
    assert!(
        done,
        "only {} of {accounts} accounts finished their first pass in {} s:\n{}",
        readies.len(),
        patience.as_secs(),
        log.tail()
    );
    let first_rss = peak_rss(pid);
    let first_cpu = daemon.cpu_time();
    let connections = postgres
        .psql(
            "postgres",
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'team'",
        )
        .trim()
        .to_string();
    let last_ready = *readies.iter().max().expect("accounts");
    let first_ready = *readies.iter().min().expect("accounts");
    let median_ready = {
        let mut sorted = readies.clone();
        sorted.sort();
        sorted[sorted.len() / 2]
    };
    let first_sync = ms(started, last_ready) / 1000.0;

    // The first pass's own account of where the time went, per account.
    let phases = [
        "sync_ms",
        "texts_ms",
        "apply_ms",
        "reconcile_ms",
        "cadence_ms",
    ];
    let mut per_phase: Vec<Vec<f64>> = vec![Vec::new(); phases.len()];
    for seller in &team {
        let account = tag(&seller.email);
        if let Some((_, line)) = log
            .lines
            .iter()
            .find(|(_, text)| text.contains(&account) && text.contains("pass timing"))
        {
            for (values, phase) in per_phase.iter_mut().zip(phases) {
                values.extend(timing(line, phase));
            }
        }
    }

    // Every account drafted.
    let mut waiting_of: Vec<Vec<Waiting>> = Vec::new();
    let mut drafts = Vec::new();
    for seller in &team {
        let count = search(&dovecot, &seller.email, &["mailbox", "Drafts", "ALL"]);
        let waiting = waiting(&folder, seller);
        assert!(
            count > 0 && !waiting.is_empty(),
            "{} has no draft after its first pass ({count} in Drafts, {} drafted in the store):\n{}",
            seller.email,
            waiting.len(),
            log.tail()
        );
        drafts.push(count);
        waiting_of.push(waiting);
    }
    eprintln!(
        "team: first pass of every account in {first_sync:.1} s (the first account ready after \
         {:.1} s); drafts per account: {:?}",
        ms(started, first_ready) / 1000.0,
        drafts
    );
    std::thread::sleep(Duration::from_secs(1));

    // Replies, spread over the accounts: a round at once, and a round once PostgreSQL's
    // autovacuum has analyzed the tables the first pass filled (until then the server plans
    // its queries on them without statistics).
    let mut used = vec![0usize; accounts];
    let mut rounds: Vec<Round> = Vec::new();
    for round in 0..2 {
        let mut settled = None;
        if round == 1 {
            let waited = Instant::now();
            let done = wait_every(Duration::from_secs(600), Duration::from_secs(2), || {
                analyzed(&postgres) == accounts
            });
            settled = Some((waited.elapsed().as_secs_f64(), done));
        }
        let analyzed_before = analyzed(&postgres);
        let since_ready = ms(last_ready, Utc::now()) / 1000.0;
        let results: Vec<Trial> = runtime.block_on(async {
            let mut out = Vec::new();
            for i in 0..trials {
                let preferred =
                    (i * accounts / trials + round * (accounts / (2 * trials)).max(1)) % accounts;
                let a = (0..accounts)
                    .map(|k| (preferred + k) % accounts)
                    .find(|&a| used[a] < waiting_of[a].len())
                    .unwrap_or_else(|| {
                        panic!(
                            "not enough drafts waiting (one per organisation of an account) for \
                             two rounds of {trials} trials: {:?}",
                            waiting_of.iter().map(Vec::len).collect::<Vec<_>>()
                        )
                    });
                let w = &waiting_of[a][used[a]];
                used[a] += 1;
                let n = round * trials + i;
                let t = trial(n, &dovecot, &mut log, &team[a], w).await;
                eprintln!(
                    "round {} trial {}: {} floor {:.0} ms, woken {:.0} ms, withdrawn {:.0} ms",
                    round + 1,
                    i + 1,
                    t.account,
                    t.floor,
                    t.notified,
                    t.withdrawn
                );
                out.push(t);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            out
        });
        rounds.push(Round {
            since_ready,
            analyzed_before,
            settled,
            trials: results,
        });
    }
    let run_rss = peak_rss(pid);
    let run_cpu = daemon.cpu_time();

    daemon.signal("TERM");
    let stopped = daemon.wait_exit(Duration::from_secs(30));
    assert!(
        stopped.is_some_and(|s| s.success()),
        "the daemon stops on SIGTERM ({stopped:?}):\n{}",
        log.tail()
    );
    // What the daemon said that was not routine.
    log.update();
    let unusual: Vec<String> = log
        .lines
        .iter()
        .filter(|(_, text)| text.starts_with("WARN") || text.starts_with("ERROR"))
        .map(|(at, text)| format!("{} {text}", at.format("%H:%M:%S%.6f")))
        .collect();
    drop(postgres);

    let max = |v: &[f64]| v.iter().cloned().fold(f64::MIN, f64::max);
    println!();
    println!(
        "one `nudge run` for {accounts} accounts on one PostgreSQL; first sync from the daemon's \
         start, replies from their APPEND ({trials} a round, spread over the accounts)"
    );
    println!(
        "| replies | accounts | messages each | first sync s | peak RSS MiB | \
         reply→withdrawal median ms | max ms | floor median ms | nudge's own share median ms | \
         max ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for round in &rounds {
        let withdrawn: Vec<f64> = round.trials.iter().map(|t| t.withdrawn).collect();
        let floors: Vec<f64> = round.trials.iter().map(|t| t.floor).collect();
        let own: Vec<f64> = round.trials.iter().map(|t| t.withdrawn - t.floor).collect();
        let when = match round.settled {
            None => format!(
                "right after the first pass ({} of {accounts} stores analyzed)",
                round.analyzed_before
            ),
            Some((_, true)) => format!(
                "once PostgreSQL analyzed every store ({:.0} s after the first pass)",
                round.since_ready
            ),
            Some((waited, false)) => format!(
                "{:.0} s after the first pass; after {waited:.0} s, {} of {accounts} stores analyzed",
                round.since_ready, round.analyzed_before
            ),
        };
        println!(
            "| {when} | {accounts} | {messages} | {first_sync:.1} | {} | {:.0} | {:.0} | {:.0} | \
             {:.0} | {:.0} |",
            run_rss / 1024,
            median(withdrawn.clone()),
            max(&withdrawn),
            median(floors),
            median(own.clone()),
            max(&own)
        );
    }
    println!(
        "first sync: {:.0} µs per message ({total} messages), {:.0} µs of the daemon's CPU per \
         message; peak RSS {} MiB after the first pass; {connections} connections to PostgreSQL",
        first_sync * 1e6 / total as f64,
        first_cpu.as_secs_f64() * 1e6 / total as f64,
        first_rss / 1024,
    );
    println!(
        "first pass per account, median / max ms: {}",
        phases
            .iter()
            .zip(&per_phase)
            .filter(|(_, v)| !v.is_empty())
            .map(|(p, v)| format!(
                "{} {:.0} / {:.0}",
                p.trim_end_matches("_ms"),
                median(v.clone()),
                max(v)
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (n, round) in rounds.iter().enumerate() {
        let own: Vec<f64> = round.trials.iter().map(|t| t.withdrawn - t.floor).collect();
        let woken: Vec<f64> = round
            .trials
            .iter()
            .map(|t| t.withdrawn - t.notified)
            .collect();
        println!(
            "round {}: nudge's own share median {:.0} ms, max {:.0} ms (goal: under 100 ms); \
             woken by its IDLE → withdrawn median {:.0} ms, max {:.0} ms",
            n + 1,
            median(own.clone()),
            max(&own),
            median(woken.clone()),
            max(&woken)
        );
    }
    println!(
        "first pass of the first account {:.1} s, of the median account {:.1} s, of the last \
         {first_sync:.1} s; daemon CPU over the whole run {:.1} s",
        ms(started, first_ready) / 1000.0,
        ms(started, median_ready) / 1000.0,
        run_cpu.as_secs_f64()
    );
    if !unusual.is_empty() {
        println!("the daemon logged {} warnings or errors:", unusual.len());
        for line in unusual.iter().take(20) {
            println!("  {line}");
        }
    }
}
