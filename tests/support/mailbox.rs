//! A deterministic, realistic seller mailbox of any size, for the scale and team benchmarks
//! and the regression check on counts.
//!
//! Ten years of a seller's mail: conversations with prospects at organisations (several
//! prospects each, a colleague copied now and then), where the seller opens, the prospect
//! answers or does not, and the seller writes again; out-of-office replies; newsletters and
//! notifications with List-Id. About 30 % of the messages are in Sent. The same `seed` and
//! size always give the same messages, byte for byte; a team is one such mailbox per seller,
//! each with its seller's address and seed.
//!
//! Messages are written straight into the Maildir (a mailbox of 100,000 seeds in seconds);
//! Dovecot indexes them on the first access.

use std::os::unix::fs::chown;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};

use super::mailclient::crlf;
use super::nudge::SELLER;

/// One generated message: where it goes and its text (LF line ends; written with CRLF).
pub struct Generated {
    pub folder: &'static str,
    pub date: DateTime<Utc>,
    pub raw: String,
}

/// A small deterministic generator (SplitMix64): the same seed, the same mailbox.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const FIRST: [&str; 12] = [
    "Ola", "Ingrid", "Lars", "Sofie", "Erik", "Nora", "Jonas", "Emma", "Henrik", "Maja", "Anders",
    "Sara",
];
const LAST: [&str; 10] = [
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Jensen",
    "Karlsen",
];
const TOPICS: [&str; 8] = [
    "Tilbud på lisenser",
    "Oppfølging etter møtet",
    "Pilotprosjekt",
    "Prisforslag for 2026",
    "Demo av plattformen",
    "Avtaleutkast",
    "Spørsmål om integrasjon",
    "Rammeavtale",
];

fn date_header(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

struct Header<'a> {
    from: &'a str,
    to: &'a str,
    cc: Option<&'a str>,
    subject: &'a str,
    date: DateTime<Utc>,
    id: &'a str,
    parents: &'a [String],
    extra: &'a str,
}

fn render(h: Header, body: &str) -> String {
    let mut raw = format!("From: {}\nTo: {}\n", h.from, h.to);
    if let Some(cc) = h.cc {
        raw.push_str(&format!("Cc: {cc}\n"));
    }
    raw.push_str(&format!(
        "Subject: {}\nDate: {}\nMessage-ID: <{}>\n",
        h.subject,
        date_header(h.date),
        h.id
    ));
    if let Some(last) = h.parents.last() {
        raw.push_str(&format!("In-Reply-To: <{last}>\n"));
        let refs: Vec<String> = h.parents.iter().map(|p| format!("<{p}>")).collect();
        raw.push_str(&format!("References: {}\n", refs.join(" ")));
    }
    raw.push_str(h.extra);
    raw.push_str(
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\
         Content-Transfer-Encoding: 8bit\n\n",
    );
    raw.push_str(body);
    raw.push('\n');
    raw
}

/// `total` messages (exactly) of the scenarios' seller, the newest before `now`, the oldest
/// about ten years earlier.
pub fn generate(total: usize, seed: u64, now: DateTime<Utc>) -> Vec<Generated> {
    generate_for(total, seed, now, SELLER, "Kari Nordmann")
}

/// [`generate`] for the seller at `address` called `name` (the first name signs the seller's
/// messages and greets the prospects' answers): one mailbox of a team. The scenarios' seller
/// gets exactly the mailbox [`generate`] gives.
pub fn generate_for(
    total: usize,
    seed: u64,
    now: DateTime<Utc>,
    address: &str,
    name: &str,
) -> Vec<Generated> {
    let mut rng = Rng(seed);
    let seller = format!("{name} <{address}>");
    let first_name = name.split(' ').next().unwrap_or(name);
    let seller_body = format!(
        "Hei!\n\nTakk for praten. Her er forslaget vi snakket om, med priser for \
         første år og en plan for oppstart.\n\nVennlig hilsen\n{first_name}"
    );
    let prospect_body = format!(
        "Hei {first_name},\n\nTakk, dette ser interessant ut. Vi ser på det internt og \
         kommer tilbake til deg.\n\nHilsen"
    );
    let mut out: Vec<Generated> = Vec::with_capacity(total);
    let span_minutes = 10 * 365 * 24 * 60;
    let organisations = (total / 25).max(4) as u64;
    let mut conversation = 0u64;
    while out.len() < total {
        let kind = rng.below(100);
        let start = now - Duration::minutes((rng.below(span_minutes) + 60) as i64);
        if kind < 33 {
            // A sales conversation: opener, then turns until the thread goes quiet.
            conversation += 1;
            let org = rng.below(organisations);
            let person = rng.below(4);
            let first = FIRST[((org + person) % FIRST.len() as u64) as usize];
            let last = LAST[((org * 7 + person) % LAST.len() as u64) as usize];
            let prospect = format!(
                "{first} {last} <{}.{}@org{org}.example>",
                first.to_lowercase(),
                last.to_lowercase()
            );
            let colleague = (rng.chance(20))
                .then(|| format!("Per Berg <per.berg{}@org{org}.example>", person + 1));
            let topic = TOPICS[rng.below(TOPICS.len() as u64) as usize];
            let subject = format!("{topic} – org{org} #{conversation}");
            let turns = 1 + rng.below(4) as usize;
            let mut parents: Vec<String> = Vec::new();
            let mut at = start;
            for turn in 0..turns {
                if out.len() >= total {
                    break;
                }
                let id = format!(
                    "c{conversation}.t{turn}.{seed}@{}",
                    if turn % 2 == 0 {
                        "fjordsalg.no".to_string()
                    } else {
                        format!("org{org}.example")
                    }
                );
                let seller_turn = turn % 2 == 0;
                let subject_line = if turn == 0 {
                    subject.clone()
                } else {
                    format!("Re: {subject}")
                };
                let (folder, from, to) = if seller_turn {
                    ("Sent", seller.clone(), prospect.clone())
                } else {
                    ("INBOX", prospect.clone(), seller.clone())
                };
                let body = if seller_turn {
                    &seller_body
                } else {
                    &prospect_body
                };
                out.push(Generated {
                    folder,
                    date: at,
                    raw: render(
                        Header {
                            from: &from,
                            to: &to,
                            cc: colleague.as_deref(),
                            subject: &subject_line,
                            date: at,
                            id: &id,
                            parents: &parents,
                            extra: "",
                        },
                        body,
                    ),
                });
                // Now and then the prospect is away: an out-of-office answers the seller.
                if seller_turn && rng.chance(8) && out.len() < total {
                    let auto = format!("auto{conversation}.{turn}.{seed}@org{org}.example");
                    out.push(Generated {
                        folder: "INBOX",
                        date: at + Duration::minutes(1),
                        raw: render(
                            Header {
                                from: &prospect,
                                to: address,
                                cc: None,
                                subject: &format!("Fraværsmelding: {subject_line}"),
                                date: at + Duration::minutes(1),
                                id: &auto,
                                parents: std::slice::from_ref(&id),
                                extra: "Auto-Submitted: auto-replied\n",
                            },
                            "Jeg er på ferie og er tilbake om to uker.",
                        ),
                    });
                }
                parents.push(id);
                at += Duration::hours((4 + rng.below(24 * 9)) as i64);
                if at > now {
                    break;
                }
            }
        } else if kind < 80 {
            // A newsletter or a list.
            let list = rng.below(12);
            let id = format!("news{}.{seed}@list{list}.example", out.len());
            out.push(Generated {
                folder: "INBOX",
                date: start,
                raw: render(
                    Header {
                        from: &format!("Nyhetsbrev {list} <news@list{list}.example>"),
                        to: address,
                        cc: None,
                        subject: &format!("Ukens nyheter {}", out.len()),
                        date: start,
                        id: &id,
                        parents: &[],
                        extra: &format!(
                            "List-Id: <news.list{list}.example>\n\
                             List-Unsubscribe: <mailto:leave@list{list}.example>\n"
                        ),
                    },
                    "Denne uken: nye funksjoner, kundehistorier og arrangementer.",
                ),
            });
        } else {
            // Colleagues and notifications: mail that is not a sales conversation.
            let id = format!("note{}.{seed}@fjordsalg.no", out.len());
            out.push(Generated {
                folder: "INBOX",
                date: start,
                raw: render(
                    Header {
                        from: "Per Berg <per@fjordsalg.no>",
                        to: address,
                        cc: None,
                        subject: &format!("Salgsmøte uke {}", rng.below(52) + 1),
                        date: start,
                        id: &id,
                        parents: &[],
                        extra: "",
                    },
                    "Husk salgsmøtet på mandag.",
                ),
            });
        }
    }
    out
}

/// Writes `messages` into the Maildir of the seller in `maildir` (INBOX is the Maildir itself,
/// other folders its `.Name` or `Name` subfolders as `folder_dir` says), owned by the mail user.
pub fn write_maildir(
    maildir: &Path,
    folder_dir: impl Fn(&str) -> std::path::PathBuf,
    messages: &[Generated],
) {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(maildir).expect("the Maildir exists");
    let (uid, gid) = (meta.uid(), meta.gid());
    for (i, message) in messages.iter().enumerate() {
        let dir = if message.folder == "INBOX" {
            maildir.to_path_buf()
        } else {
            folder_dir(message.folder)
        };
        let cur = dir.join("cur");
        if !cur.exists() {
            for sub in ["cur", "new", "tmp"] {
                std::fs::create_dir_all(dir.join(sub)).expect("create Maildir folder");
                chown(dir.join(sub), Some(uid), Some(gid)).expect("chown Maildir folder");
            }
            chown(&dir, Some(uid), Some(gid)).expect("chown Maildir folder");
        }
        // Maildir names start with the delivery time, which Dovecot reads as INTERNALDATE
        // only from the file's mtime: set it to the message's date.
        let path = cur.join(format!("{}.M{i}.scale:2,S", message.date.timestamp()));
        std::fs::write(&path, crlf(&message.raw)).expect("write message file");
        let time =
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(message.date.timestamp() as u64);
        let file = std::fs::File::options()
            .write(true)
            .open(&path)
            .expect("open message file");
        file.set_modified(time).expect("set the message's time");
        chown(&path, Some(uid), Some(gid)).expect("chown message file");
    }
}

/// A fresh Dovecot for the seller with `messages` written into the seller's Maildir.
pub fn seller_dovecot_with(messages: &[Generated]) -> super::Dovecot {
    team_dovecot_with(&[(SELLER, messages)])
}

/// A fresh Dovecot with one user per mailbox (the password of the scenarios), each mailbox's
/// messages written into its user's Maildir (a first login makes Dovecot create the Maildir
/// with the right owner).
pub fn team_dovecot_with(mailboxes: &[(&str, &[Generated])]) -> super::Dovecot {
    use super::mailclient::MailClient;
    use super::nudge::PASSWORD;
    let dovecot = super::Dovecot::start(super::DovecotOptions {
        users: mailboxes
            .iter()
            .map(|(user, _)| (user.to_string(), PASSWORD.to_string()))
            .collect(),
        ..Default::default()
    });
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    for (user, messages) in mailboxes {
        runtime.block_on(async {
            let mut client = MailClient::connect(&dovecot, user, PASSWORD).await;
            let _ = client.messages("Sent").await;
            client.logout().await;
        });
        let maildir = dovecot.maildir_of(user);
        write_maildir(&maildir, |folder| maildir.join(folder), messages);
    }
    dovecot
}
