//! The team story behind `scripts/demo --team`: three sellers of Fjordsalg AS — Kari, Ola and
//! Per, three accounts on one throwaway Dovecot — whose stores share one throwaway PostgreSQL
//! and whose configs, one file each in one folder, name the same `[team]`. nudge runs as a
//! team runs it, `nudge --config conf.d sync` for every account in turn, every weekday morning
//! of two weeks and a minute after everything that happens, while the demo plays the sellers'
//! mail clients and their prospects' answers.
//!
//! What the two weeks show: an opt-out that reaches Kari stops Ola's pending draft to the same
//! prospect (the team shares one suppression list); Kari's follow-up to a company Per wrote to
//! a few days before her waits until the team's overlap has passed; and the lead's weekly
//! team summary goes out once, over SMTP, when the week's summaries fall due on the last
//! Friday afternoon.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::sample::{self, oslo, Client, Lang, Person, SELLER_ZONE};
use crate::story::in_sellers_words;
use crate::support::mailclient::{crlf, Message};
use crate::support::nudge::{account_sections, nudge_command, smtp_section, PASSWORD};
use crate::support::{Dovecot, DovecotOptions, Postgres, SmtpSecurity, SmtpServer};

/// The team's name, as every member's `[team]` writes it.
pub const TEAM: &str = "Fjordsalg";
/// Who gets the weekly team summary.
pub const LEAD: &str = "lead@fjordsalg.no";
/// The team's one database on the demo's PostgreSQL: a schema per seller, and the team's.
pub const DATABASE: &str = "demo";
/// Business days a follow-up waits after a colleague wrote to the same company.
pub const OVERLAP_DAYS: u32 = 10;

/// One seller of the team: a Dovecot user, a config file in conf.d, a schema on PostgreSQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seller {
    /// What the story calls them.
    pub first: &'static str,
    pub name: &'static str,
    pub email: &'static str,
}

impl Seller {
    /// The config file's name in conf.d (the folder's order is the order of a pass).
    fn file(&self) -> String {
        format!("{}.toml", self.first.to_lowercase())
    }

    fn mailbox(&self) -> String {
        format!("{} <{}>", self.name, self.email)
    }

    /// The seller's signature in the language they write to the prospect in.
    fn signature(&self, lang: Lang) -> String {
        let closing = match lang {
            Lang::Nb => "Vennlig hilsen",
            Lang::Sv => "Vänliga hälsningar",
            Lang::Da => "Venlig hilsen",
            Lang::En => "Kind regards",
        };
        format!("{closing}\n{}\nFjordsalg AS, Bergen", self.name)
    }
}

pub const KARI: Seller = Seller {
    first: "Kari",
    name: "Kari Nordmann",
    email: "kari@fjordsalg.no",
};
pub const OLA: Seller = Seller {
    first: "Ola",
    name: "Ola Nilsen",
    email: "ola@fjordsalg.no",
};
pub const PER: Seller = Seller {
    first: "Per",
    name: "Per Haugen",
    email: "per@fjordsalg.no",
};
pub const SELLERS: [Seller; 3] = [KARI, OLA, PER];

const fn prospect(
    name: &'static str,
    email: &'static str,
    company: &'static str,
    zone: chrono_tz::Tz,
    lang: Lang,
) -> Person {
    sample::prospect(name, email, company, zone, (lang, Client::Outlook))
}

use chrono_tz::Europe::{Copenhagen, London, Oslo, Stockholm};

pub const INGRID: Person = prospect(
    "Ingrid Berg",
    "ingrid.berg@fjordkraft.no",
    "Fjordkraft AS",
    Oslo,
    Lang::Nb,
);
pub const SARA: Person = prospect(
    "Sara Holm",
    "sara.holm@osloeiendom.no",
    "Oslo Eiendom AS",
    Oslo,
    Lang::Nb,
);
pub const NILS: Person = prospect(
    "Nils Johansen",
    "nils.johansen@tromsosjomat.no",
    "Tromsø Sjømat AS",
    Oslo,
    Lang::Nb,
);
pub const ERIK: Person = prospect(
    "Erik Lund",
    "erik.lund@bergenshipping.no",
    "Bergen Shipping AS",
    Oslo,
    Lang::Nb,
);
pub const LARS: Person = prospect(
    "Lars Nilsson",
    "lars.nilsson@gbglogistik.se",
    "Göteborg Logistik AB",
    Stockholm,
    Lang::Sv,
);
pub const TROND: Person = prospect(
    "Trond Aas",
    "trond.aas@vestbygg.no",
    "Vestbygg AS",
    Oslo,
    Lang::Nb,
);
pub const MARIT: Person = prospect(
    "Marit Aune",
    "marit.aune@bergenhavn.no",
    "Bergen Havn AS",
    Oslo,
    Lang::Nb,
);
pub const HILDE: Person = prospect(
    "Hilde Olsen",
    "hilde.olsen@tromsosjomat.no",
    "Tromsø Sjømat AS",
    Oslo,
    Lang::Nb,
);
pub const EMMA: Person = prospect(
    "Emma Clarke",
    "emma.clarke@harbourfoods.co.uk",
    "Harbour Foods Ltd",
    London,
    Lang::En,
);
pub const METTE: Person = prospect(
    "Mette Larsen",
    "mette.larsen@kbhbyg.dk",
    "Københavns Byg ApS",
    Copenhagen,
    Lang::Da,
);
pub const TOR: Person = prospect(
    "Tor Vik",
    "tor.vik@bergenhavn.no",
    "Bergen Havn AS",
    Oslo,
    Lang::Nb,
);

/// One seller's conversation with one prospect, opened by the seller's message.
#[derive(Clone, Copy, Debug)]
pub struct Conversation {
    pub seller: Seller,
    pub prospect: Person,
    pub subject: &'static str,
    /// When the seller wrote the opener: before the first start it is in Sent already,
    /// after it the seller writes it during the story.
    pub opened: (u32, u32, u32, u32),
    pub text: &'static str,
}

impl Conversation {
    pub fn opened_at(&self) -> DateTime<Utc> {
        let (m, d, h, min) = self.opened;
        oslo(2026, m, d, h, min)
    }

    /// The opener's Message-ID, as the seller's client made it.
    fn message_id(&self) -> String {
        let local = self.seller.email.split('@').next().unwrap_or("seller");
        let who = self.prospect.email.split('@').next().unwrap_or("prospect");
        format!(
            "{}.{local}.{}@fjordsalg.no",
            self.opened_at().format("%Y%m%d%H%M"),
            who.replace('.', "-")
        )
    }

    /// The opener as the seller's client put it in Sent.
    fn opener(&self) -> String {
        let at = self.opened_at().with_timezone(&SELLER_ZONE);
        let body = format!(
            "{}\n\n{}",
            self.text,
            self.seller.signature(self.prospect.lang)
        );
        Message::new(
            &self.seller.mailbox(),
            &self.prospect.mailbox(),
            self.subject,
            &self.message_id(),
            None,
            &at.to_rfc2822(),
            &body,
        )
        .render()
    }

    /// The prospect's answer to the opener at `at`, quoting it below the text.
    fn answer(&self, at: DateTime<Utc>, text: &str) -> String {
        let prefix = if self.prospect.lang == Lang::En {
            "RE: "
        } else {
            "SV: "
        };
        let opened = self.opened_at().with_timezone(&SELLER_ZONE);
        let quoted: String = self
            .text
            .lines()
            .map(|l| format!("> {l}\n"))
            .collect::<String>();
        let body = format!(
            "{text}\n\n{} {}:\n{quoted}",
            opened.format("%d.%m.%Y %H:%M"),
            self.seller.mailbox()
        );
        let id = format!(
            "{}.{}@{}",
            at.format("%Y%m%d%H%M%S"),
            self.prospect.email.split('@').next().unwrap_or("reply"),
            self.prospect
                .email
                .split('@')
                .nth(1)
                .unwrap_or("example.com")
        );
        let subject = format!("{prefix}{}", self.subject);
        Message::new(
            &self.prospect.mailbox(),
            &self.seller.mailbox(),
            &subject,
            &id,
            Some(&self.message_id()),
            &at.with_timezone(&self.prospect.zone).to_rfc2822(),
            &body,
        )
        .render()
    }
}

/// The dozen conversations of the story, each seller's in the order they began.
pub fn conversations() -> Vec<Conversation> {
    let c = |seller, prospect, subject, opened, text| Conversation {
        seller,
        prospect,
        subject,
        opened,
        text,
    };
    vec![
        c(
            KARI,
            INGRID,
            "Tilbud på rammeavtale for 2027",
            (10, 26, 10, 12),
            "Hei Ingrid,\n\nTakk for en hyggelig prat på Energikonferansen. Som lovet sender jeg tilbudet på rammeavtalen for 2027, med faste priser på service og reservedeler i tre år.",
        ),
        c(
            KARI,
            SARA,
            "Forslag til vedlikeholdsplan",
            (11, 6, 14, 20),
            "Hei Sara,\n\nHer er forslaget til vedlikeholdsplan for de fire byggene på Skøyen, med faste besøk hver måned og beredskap i helgene.",
        ),
        c(
            KARI,
            NILS,
            "Kjøleanlegg til den nye fabrikken",
            (11, 9, 11, 5),
            "Hei Nils,\n\nJeg så at dere bygger ny fabrikk på Breivika. Vi har levert kjøleanlegg til tre sjømatprodusenter i Nord-Norge, og jeg vil gjerne vise dere hva vi gjorde for dem.",
        ),
        c(
            KARI,
            ERIK,
            "Serviceavtale for kranene",
            (11, 17, 13, 0),
            "Hei Erik,\n\nTakk for omvisningen på kaia i går. Her er serviceavtalen for de seks kranene, med to faste ettersyn i året og reservedeler på lager i Bergen.",
        ),
        c(
            OLA,
            LARS,
            "Offert på kylcontainrar",
            (11, 3, 9, 40),
            "Hej Lars,\n\nTack för samtalet i fredags. Här kommer offerten på tjugo kylcontainrar till terminalen i Göteborg, med leverans i februari.",
        ),
        c(
            OLA,
            TROND,
            "Tilbud på byggstrøm",
            (11, 6, 11, 30),
            "Hei Trond,\n\nHer er tilbudet på byggstrøm og lys til riggen på Kokstad, med oppkobling innen en uke etter bestilling.",
        ),
        c(
            OLA,
            INGRID,
            "Energirådgivning for Fjordkraft",
            (11, 10, 9, 45),
            "Hei Ingrid,\n\nJeg leder rådgivningen hos Fjordsalg. Vi hjelper kraftselskaper med å kutte energibruken i egne bygg, og jeg tror vi kan spare dere for mye på hovedkontoret.",
        ),
        c(
            OLA,
            MARIT,
            "Landstrøm til cruisekaien",
            (11, 18, 10, 30),
            "Hei Marit,\n\nTakk for sist på havnekonferansen. Her er en skisse av landstrømanlegget vi foreslår for cruisekaien på Skolten.",
        ),
        c(
            PER,
            METTE,
            "Tilbud på stilladser",
            (11, 2, 13, 15),
            "Hej Mette,\n\nHer er tilbuddet på stilladser til byggeriet i Nordhavn, som vi talte om i telefonen. Priserne gælder til nytår.",
        ),
        c(
            PER,
            HILDE,
            "Vedlikehold av frysehotellet",
            (11, 4, 13, 30),
            "Hei Hilde,\n\nTakk for praten i går. Her er tilbudet på vedlikehold av frysehotellet, med døgnvakt og fast pris per kvartal.",
        ),
        c(
            PER,
            EMMA,
            "Cold storage for the Grimsby depot",
            (11, 5, 15, 10),
            "Hi Emma,\n\nThank you for the call on Tuesday. Here is our offer for the cold storage at the Grimsby depot, installed before the spring season.",
        ),
        c(
            PER,
            TOR,
            "Vedlikehold av kranene på Dokken",
            (11, 19, 11, 15),
            "Hei Tor,\n\nMarit Aune nevnte at dere skal fornye vedlikeholdsavtalen for kranene på Dokken. Her er hva vi kan tilby.",
        ),
    ]
}

/// A prospect's answer during the story.
#[derive(Clone, Copy, Debug)]
pub struct Answer {
    pub seller: Seller,
    pub prospect: Person,
    pub at: (u32, u32, u32, u32),
    pub text: &'static str,
    /// For the story: what it says, in a few words.
    pub gist: &'static str,
}

impl Answer {
    pub fn at(&self) -> DateTime<Utc> {
        let (m, d, h, min) = self.at;
        oslo(2026, m, d, h, min)
    }
}

/// What the prospects answer over the two weeks.
pub fn answers() -> Vec<Answer> {
    vec![
        Answer {
            seller: KARI,
            prospect: SARA,
            at: (11, 10, 13, 20),
            text: "Hei Kari,\n\nTakk for forslaget. Vi tar det opp på driftsmøtet torsdag, så hører du fra meg etter det.\n\nHilsen Sara",
            gist: "they will discuss it on Thursday",
        },
        Answer {
            seller: PER,
            prospect: EMMA,
            at: (11, 12, 15, 40),
            text: "Hi Per,\n\nThanks for the figures. Could we have a call on Tuesday to go through the installation schedule?\n\nBest,\nEmma",
            gist: "could we talk on Tuesday?",
        },
        Answer {
            seller: KARI,
            prospect: INGRID,
            at: (11, 16, 10, 12),
            text: "Hei,\n\nVi har valgt en annen leverandør. Ikke kontakt meg igjen.\n\nIngrid Berg",
            gist: "“Vi har valgt en annen leverandør. Ikke kontakt meg igjen.”",
        },
    ]
}

/// Monday 9 November 2026 at 08:30, Oslo time: the team's first pass.
pub fn first_start() -> DateTime<Utc> {
    oslo(2026, 11, 9, 8, 30)
}

/// Friday 20 November 2026 at 16:00, when the week's summaries fall due: the last pass.
pub fn last_pass() -> DateTime<Utc> {
    oslo(2026, 11, 20, 16, 0)
}

/// Every weekday morning at 08:30 from the first start to the last pass.
pub fn mornings() -> Vec<DateTime<Utc>> {
    crate::sample::weekday_mornings(first_start(), last_pass())
}

/// The mail servers, the team's PostgreSQL and the conf.d folder with one config per seller.
/// Everything stops and goes when it is dropped.
pub struct World {
    pub dovecot: Dovecot,
    pub smtp: SmtpServer,
    pub postgres: Postgres,
    /// Holds conf.d and each seller's folder for lock files.
    pub dir: tempfile::TempDir,
}

impl World {
    /// Starts Dovecot with the three sellers, the SMTP server, PostgreSQL with one database
    /// for the team, and writes conf.d.
    pub fn start() -> World {
        let dovecot = Dovecot::start(DovecotOptions {
            users: SELLERS
                .iter()
                .map(|s| (s.email.to_string(), PASSWORD.to_string()))
                .collect(),
            ..Default::default()
        });
        // The demo's SMTP server takes one login: every seller sends with Kari's.
        let smtp = SmtpServer::start(SmtpSecurity::StartTls, KARI.email, PASSWORD, dovecot.ca());
        let postgres = Postgres::start();
        let url = postgres.create_database(DATABASE);
        let dir = tempfile::Builder::new()
            .prefix("nudge-team-")
            .tempdir()
            .expect("a temp dir for the team's configs");
        let world = World {
            dovecot,
            smtp,
            postgres,
            dir,
        };
        std::fs::create_dir_all(world.confd()).expect("create conf.d");
        for seller in SELLERS {
            let text = world.config_of(&seller, &url);
            std::fs::write(world.confd().join(seller.file()), text).expect("write a config");
        }
        world
    }

    /// The folder of the team's config files.
    pub fn confd(&self) -> PathBuf {
        self.dir.path().join("conf.d")
    }

    /// One seller's config: their account on the demo's Dovecot, the team's database (the
    /// seller's own schema in it), the demo's SMTP server, realistic business days (the
    /// defaults), the summaries due on Friday afternoons, and the team.
    fn config_of(&self, seller: &Seller, url: &str) -> String {
        let state = self
            .dir
            .path()
            .join(format!("state-{}", seller.first.to_lowercase()));
        format!(
            r#"{account}[store]
path = "{store}"
url = "{url}"

[tracking]
lookback_days = 30

[summary]
weekday = "friday"
time = "16:00"

{smtp}[team]
name = "{TEAM}"
overlap_days = {OVERLAP_DAYS}
lead = "{LEAD}"
"#,
            account = account_sections(seller.email, seller.name, "", &self.dovecot),
            store = state.join("nudge.db").display(),
            smtp = smtp_section(&self.dovecot, &self.smtp),
        )
    }

    /// `nudge --config conf.d ARGS`: stdout and stderr, or what went wrong.
    pub fn nudge(&self, args: &[&str]) -> Result<String, String> {
        let output = nudge_command(None)
            .arg("--config")
            .arg(self.confd())
            .args(args)
            .output()
            .map_err(|e| format!("cannot run nudge: {e}"))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if output.status.success() {
            Ok(text)
        } else {
            Err(format!("nudge {} failed:\n{text}", args.join(" ")))
        }
    }

    /// `nudge --config conf.d --account SELLER ARGS`.
    pub fn nudge_for(&self, seller: &Seller, args: &[&str]) -> Result<String, String> {
        let mut all = vec!["--account", seller.email];
        all.extend_from_slice(args);
        self.nudge(&all)
    }

    /// `nudge --account SELLER status --json`, parsed.
    pub fn status(&self, seller: &Seller) -> Result<Vec<serde_json::Value>, String> {
        let output = nudge_command(None)
            .arg("--config")
            .arg(self.confd())
            .args(["--account", seller.email, "status", "--json"])
            .output()
            .map_err(|e| format!("cannot run nudge: {e}"))?;
        serde_json::from_slice(&output.stdout).map_err(|e| {
            format!(
                "nudge status --json for {}: {e}: {}",
                seller.email,
                String::from_utf8_lossy(&output.stderr)
            )
        })
    }

    /// The addressees of the drafts in the seller's Drafts folder, one entry a draft.
    pub fn drafts_to(&self, seller: &Seller) -> Vec<String> {
        self.dovecot
            .doveadm(&[
                "fetch",
                "-u",
                seller.email,
                "hdr",
                "mailbox",
                "Drafts",
                "ALL",
            ])
            .lines()
            .filter_map(|l| l.strip_prefix("To: "))
            .map(str::to_string)
            .collect()
    }

    /// Puts the mail in the seller's folder, as their mail server or client does.
    fn save(&self, seller: &Seller, folder: &str, raw: &str) {
        self.dovecot
            .save_message(seller.email, folder, crlf(raw).as_bytes());
    }
}

/// Puts in each seller's Sent the openers they wrote before the team's first pass.
pub fn seed(world: &World) {
    for c in conversations()
        .iter()
        .filter(|c| c.opened_at() < first_start())
    {
        world.save(&c.seller, "Sent", &c.opener());
    }
}

/// The story so far, printed as it is told.
pub struct Story<'a> {
    out: &'a mut dyn FnMut(&str),
    conversations: Vec<Conversation>,
    week: Option<u32>,
}

impl<'a> Story<'a> {
    pub fn new(out: &'a mut dyn FnMut(&str)) -> Story<'a> {
        Story {
            out,
            conversations: conversations(),
            week: None,
        }
    }

    fn tell(&mut self, at: DateTime<Utc>, text: &str) {
        crate::story::tell_line(self.out, &mut self.week, at, text);
    }

    /// The seller's conversation a report line is about ("#4 Subject: what"), and the what.
    fn conversation_of(&self, seller: &Seller, line: &str) -> Option<(Conversation, String)> {
        let rest = line.strip_prefix('#')?;
        let (_, rest) = rest.split_once(' ')?;
        self.conversations
            .iter()
            .filter(|c| c.seller == *seller)
            .find_map(|c| {
                rest.strip_prefix(c.subject)
                    .and_then(|r| r.strip_prefix(": "))
                    .map(|what| (*c, what.to_string()))
            })
    }

    /// Tells what one `nudge --config conf.d sync` reported: per account, a line per
    /// conversation, the seller's name in front.
    fn tell_pass(&mut self, at: DateTime<Utc>, output: &str, indent: bool) {
        let prefix = if indent { "  → " } else { "" };
        let mut seller: Option<Seller> = None;
        // Per account, per conversation (in the order they began), what happened.
        let mut told: Vec<(Option<Seller>, Option<usize>, Vec<String>)> = Vec::new();
        for line in output.lines() {
            if let Some(address) = line.strip_prefix("Account ") {
                seller = SELLERS.iter().find(|s| s.email == address.trim()).copied();
                continue;
            }
            if line.trim().is_empty()
                || line.starts_with("Pass at ")
                || line.starts_with("New messages: ")
            {
                continue;
            }
            let line = line.strip_prefix("  ").unwrap_or(line);
            let about = seller.and_then(|s| self.conversation_of(&s, line));
            let (index, what) = match about {
                Some((c, what)) => (
                    self.conversations
                        .iter()
                        .position(|o| o.message_id() == c.message_id()),
                    in_sellers_words(&what, c.seller.first, c.prospect.email, c.subject),
                ),
                None => (
                    None,
                    line.replace("the seller", seller.map_or("the seller", |s| s.first)),
                ),
            };
            match told
                .iter_mut()
                .find(|(s, i, _)| *s == seller && index.is_some() && *i == index)
            {
                Some((_, _, whats)) => whats.push(what),
                None => told.push((seller, index, vec![what])),
            }
        }
        let mut by_seller: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for (seller, index, whats) in told {
            let order = seller
                .and_then(|s| SELLERS.iter().position(|o| *o == s))
                .unwrap_or(SELLERS.len());
            let mut text = whats.join(" — ");
            if let Some(c) = index.map(|i| self.conversations[i]) {
                let introduced = format!("{} ({})", c.prospect.name, c.prospect.company);
                text = if text.contains(c.prospect.name) {
                    text.replacen(c.prospect.name, &introduced, 1)
                } else {
                    format!("{introduced}: {text}")
                };
            }
            let who = seller.map_or(String::new(), |s| format!("{}: ", s.first));
            by_seller
                .entry(order)
                .or_default()
                .push(format!("{prefix}{who}{text}"));
        }
        for line in by_seller.into_values().flatten() {
            self.tell(at, &line);
        }
    }
}

/// Plays the moments of the story from `from` to `until` (both included), telling it: every
/// weekday morning and a minute after each thing that happens, `nudge --config conf.d sync
/// --now …`, and the last pass when the week's summaries fall due. The whole story is
/// `play(world, first_start(), last_pass(), …)`; a test may stop in between and look.
pub fn play(
    world: &World,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    story: &mut Story<'_>,
) -> Result<(), String> {
    enum Moment {
        Morning,
        Summaries,
        Writes(Conversation),
        Arrives(Answer),
    }
    let mut moments: Vec<(DateTime<Utc>, Moment)> = mornings()
        .into_iter()
        .map(|at| (at, Moment::Morning))
        .chain(std::iter::once((last_pass(), Moment::Summaries)))
        .chain(
            conversations()
                .into_iter()
                .filter(|c| c.opened_at() >= first_start())
                .map(|c| (c.opened_at(), Moment::Writes(c))),
        )
        .chain(answers().into_iter().map(|a| (a.at(), Moment::Arrives(a))))
        .filter(|(at, _)| from <= *at && *at <= until)
        .collect();
    moments.sort_by_key(|(at, _)| *at);

    for (at, moment) in moments {
        match moment {
            Moment::Morning => {
                let output = pass(world, at)?;
                story.tell_pass(at, &output, false);
            }
            Moment::Summaries => {
                story.tell(
                    at,
                    "Friday afternoon: the week's summaries fall due (the sellers' and the lead's)",
                );
                let output = pass(world, at)?;
                story.tell_pass(at, &output, true);
            }
            Moment::Writes(c) => {
                story.tell(
                    at,
                    &format!(
                        "{} writes to {} ({}): “{}”",
                        c.seller.first, c.prospect.name, c.prospect.company, c.subject
                    ),
                );
                world.save(&c.seller, "Sent", &c.opener());
                let output = pass(world, at + chrono::Duration::minutes(1))?;
                story.tell_pass(at, &output, true);
            }
            Moment::Arrives(a) => {
                let c = story
                    .conversations
                    .iter()
                    .find(|c| c.seller == a.seller && c.prospect.email == a.prospect.email)
                    .copied()
                    .ok_or_else(|| {
                        format!(
                            "no conversation of {} with {}",
                            a.seller.first, a.prospect.name
                        )
                    })?;
                story.tell(
                    at,
                    &format!(
                        "{} ({}) answers {}: {}",
                        a.prospect.name, a.prospect.company, a.seller.first, a.gist
                    ),
                );
                world.save(&a.seller, "INBOX", &c.answer(at, a.text));
                let output = pass(world, at + chrono::Duration::minutes(1))?;
                story.tell_pass(at, &output, true);
            }
        }
    }
    Ok(())
}

/// One `nudge --config conf.d sync --now AT`: every seller's pass in turn.
fn pass(world: &World, at: DateTime<Utc>) -> Result<String, String> {
    world.nudge(&[
        "sync",
        "--now",
        &at.with_timezone(&SELLER_ZONE).to_rfc3339(),
    ])
}

/// The team summaries the SMTP server received: the lead's, parsed (subject and text).
pub fn team_summaries(smtp: &SmtpServer) -> Vec<(String, String)> {
    smtp.received()
        .into_iter()
        .filter(|m| m.rcpt_to == [LEAD])
        .filter_map(|m| {
            let message = mail_parser::MessageParser::default().parse(&m.data)?;
            let text = message
                .body_text(0)
                .unwrap_or_default()
                .replace("\r\n", "\n");
            Some((
                message.subject().unwrap_or("").to_string(),
                text.trim_end().to_string(),
            ))
        })
        .collect()
}
