//! The demo's sample sales mailbox, generated rather than hand-copied: Kari Nordmann of
//! Fjordsalg AS in Bergen and her prospects in Norway, Sweden, Denmark and the UK.
//!
//! [`generate`] returns what is in the mailbox when nudge first starts (Monday 9 November 2026,
//! 08:30 Oslo time) and a timeline of what happens over the six weeks after: prospects'
//! answers arriving in INBOX, and what Kari does in her mail client (sending, editing and
//! deleting drafts, writing by hand). Every message is built here from a few facts — who,
//! when, in which language, replying to what — with the headers and quoting that real mail
//! clients and mail servers produce. Nothing here does I/O.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// When nudge first starts: Monday of ISO week 46, at its usual draft time.
pub const FIRST_START: (i32, u32, u32, u32, u32) = (2026, 11, 9, 8, 30);
/// The last pass of the demo: the Monday morning after six weeks, when the summary is due.
pub const LAST_PASS: (i32, u32, u32, u32, u32) = (2026, 12, 21, 8, 30);

pub const SELLER_ZONE: Tz = chrono_tz::Europe::Oslo;

/// A person with an address and the organisation they work for.
#[derive(Clone, Copy, Debug)]
pub struct Person {
    pub name: &'static str,
    pub email: &'static str,
    pub company: &'static str,
    /// Where they write from (their Date headers carry this zone's offset).
    pub zone: Tz,
    /// The language they (and Kari, to them) write in.
    pub lang: Lang,
    /// The mail client (or server) that writes their mail.
    pub client: Client,
}

/// What writes a person's mail: each leaves its own headers, Message-IDs, reply prefixes and
/// way of quoting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    Thunderbird,
    /// Outlook on Microsoft 365: localized "SV:"/"RE:", the original below a header block.
    Outlook,
    AppleMail,
    /// Gmail on the web (Google Workspace).
    Gmail,
    /// A program, not a person: notices, delivery reports.
    Server,
}

impl Person {
    pub fn mailbox(&self) -> String {
        format!("{} <{}>", self.name, self.email)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Nb,
    Sv,
    Da,
    En,
}

impl Lang {
    /// The name nudge's reports use.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Nb => "Norwegian",
            Lang::Sv => "Swedish",
            Lang::Da => "Danish",
            Lang::En => "English",
        }
    }
}

pub const KARI: Person = Person {
    name: "Kari Nordmann",
    email: "kari@fjordsalg.no",
    company: "Fjordsalg AS",
    zone: SELLER_ZONE,
    lang: Lang::Nb,
    client: Client::Thunderbird,
};

const SIGNATURE_NB: &str =
    "Vennlig hilsen\nKari Nordmann\nKundeansvarlig, Fjordsalg AS\n+47 912 34 567";
const SIGNATURE_SV: &str =
    "Vänliga hälsningar\nKari Nordmann\nFjordsalg AS, Bergen\n+47 912 34 567";
const SIGNATURE_DA: &str = "Venlig hilsen\nKari Nordmann\nFjordsalg AS, Bergen\n+47 912 34 567";
const SIGNATURE_EN: &str =
    "Kind regards\nKari Nordmann\nAccount Manager, Fjordsalg AS\n+47 912 34 567";

fn signature(lang: Lang) -> &'static str {
    match lang {
        Lang::Nb => SIGNATURE_NB,
        Lang::Sv => SIGNATURE_SV,
        Lang::Da => SIGNATURE_DA,
        Lang::En => SIGNATURE_EN,
    }
}

/// The folder a message of the starting mailbox is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Folder {
    Inbox,
    Sent,
}

impl Folder {
    pub fn name(self) -> &'static str {
        match self {
            Folder::Inbox => "INBOX",
            Folder::Sent => "Sent",
        }
    }

    /// Flags a mail client leaves: Kari's sent mail and what she has read are `\Seen`.
    pub fn flags(self) -> &'static [&'static str] {
        &["\\Seen"]
    }
}

/// One message of the starting mailbox.
#[derive(Clone, Debug)]
pub struct Seeded {
    pub folder: Folder,
    pub raw: String,
}

/// What nudge should make of a conversation at its first pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtStart {
    /// Followed, nothing due yet.
    Waiting,
    /// Followed, and its first follow-up is overdue: drafted at once.
    Drafted,
    /// Already answered before nudge started.
    Replied,
    /// The address did not exist.
    Bounced,
    /// Not followed at all, for the reason given in [`Case::about`].
    NotTracked,
    /// Kari writes the opener later, during the demo.
    Later,
}

/// One conversation of the sample, described for people.
#[derive(Clone, Debug)]
pub struct Case {
    pub subject: &'static str,
    pub prospect: Person,
    /// What this conversation shows, in a few words.
    pub about: &'static str,
    pub at_start: AtStart,
    /// Its state in `nudge status` after the six weeks (`None`: never followed).
    pub at_end: Option<&'static str>,
}

/// What happens at one moment of the timeline.
#[derive(Clone, Debug)]
pub enum Action {
    /// Mail from outside lands in INBOX.
    Arrives(String),
    /// Kari writes a message by hand; her client puts the copy in Sent.
    Writes(String),
    /// Kari sends nudge's draft to this prospect as it is; her client gives the sent copy
    /// this Message-ID.
    Sends(String),
    /// Kari adds a line to the draft and saves it (her client makes a replacement draft).
    Edits(&'static str),
    /// Kari deletes the draft without sending it.
    Deletes,
}

#[derive(Clone, Debug)]
pub struct Event {
    pub at: DateTime<Utc>,
    /// The prospect whose conversation this concerns.
    pub prospect: Person,
    pub action: Action,
    /// For the story: what happened, in a few words.
    pub note: String,
}

pub struct Sample {
    pub cases: Vec<Case>,
    pub mailbox: Vec<Seeded>,
    pub timeline: Vec<Event>,
}

/// Oslo wall-clock time.
pub fn oslo(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    local(SELLER_ZONE, y, m, d, h, min)
}

fn local(zone: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    let naive = NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|date| date.and_hms_opt(h, min, 0))
        .expect("a valid sample date");
    zone.from_local_datetime(&naive)
        .earliest()
        .expect("a time that exists in the zone")
        .with_timezone(&Utc)
}

pub fn first_start() -> DateTime<Utc> {
    let (y, m, d, h, min) = FIRST_START;
    oslo(y, m, d, h, min)
}

pub fn last_pass() -> DateTime<Utc> {
    let (y, m, d, h, min) = LAST_PASS;
    oslo(y, m, d, h, min)
}

/// A message as its author's client wrote it.
#[derive(Clone, Debug)]
struct Mail {
    from: String,
    to: Vec<String>,
    subject: String,
    date: DateTime<Utc>,
    zone: Tz,
    message_id: String,
    references: Vec<String>,
    body: String,
    /// Header lines a particular client or server adds.
    extra: Vec<String>,
    /// The MIME type of the whole message, when it is not plain text.
    content_type: Option<String>,
    /// The author's name and address, for quoting.
    author: (String, String),
    /// The language it is written in.
    lang: Lang,
    /// What wrote it.
    client: Client,
}

impl Mail {
    fn render(&self) -> String {
        let mut out = String::new();
        let date = self.date.with_timezone(&self.zone);
        out.push_str(&format!(
            "Date: {}\n",
            date.format("%a, %d %b %Y %H:%M:%S %z")
        ));
        out.push_str(&format!("From: {}\n", encode_phrase(&self.from)));
        out.push_str(&format!(
            "To: {}\n",
            self.to
                .iter()
                .map(|t| encode_phrase(t))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        out.push_str(&format!("Subject: {}\n", encode_words(&self.subject)));
        out.push_str(&format!("Message-ID: <{}>\n", self.message_id));
        if let Some(parent) = self.references.last() {
            out.push_str(&format!("In-Reply-To: <{parent}>\n"));
            let chain: Vec<String> = self.references.iter().map(|r| format!("<{r}>")).collect();
            out.push_str(&format!("References: {}\n", chain.join(" ")));
        }
        for line in &self.extra {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str("MIME-Version: 1.0\n");
        let body = match (&self.content_type, self.client) {
            (Some(content_type), _) => {
                out.push_str(&format!("Content-Type: {content_type}\n\n"));
                self.body.clone()
            }
            // Thunderbird wraps at 72 columns and marks the soft breaks (RFC 3676).
            (None, Client::Thunderbird) => {
                out.push_str("Content-Type: text/plain; charset=UTF-8; format=flowed\nContent-Transfer-Encoding: 8bit\n\n");
                flowed(&self.body)
            }
            // Outlook sends the text twice: plain, and as HTML with its own reply markers.
            (None, Client::Outlook) => {
                let boundary = format!("_000_{:X}_", fnv(&[self.message_id.as_bytes()]));
                out.push_str(&format!(
                    "Content-Type: multipart/alternative; boundary=\"{boundary}\"\n\n"
                ));
                format!(
                    "--{boundary}\nContent-Type: text/plain; charset=\"utf-8\"\nContent-Transfer-Encoding: 8bit\n\n{}\n--{boundary}\nContent-Type: text/html; charset=\"utf-8\"\nContent-Transfer-Encoding: 8bit\n\n{}\n--{boundary}--\n",
                    self.body.trim_end(),
                    outlook_html(&self.body)
                )
            }
            (None, _) => {
                out.push_str(
                    "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n",
                );
                self.body.clone()
            }
        };
        out.push_str(&body);
        if !body.ends_with('\n') {
            out.push('\n');
        }
        out
    }

    /// The message as it lands in Kari's INBOX: her mail server adds Return-Path,
    /// Delivered-To and a Received line on top.
    fn delivered(&self) -> String {
        let (_, sender) = &self.author;
        let domain = sender.rsplit('@').next().unwrap_or("example.com");
        let arrived = (self.date + chrono::Duration::seconds(3))
            .with_timezone(&SELLER_ZONE)
            .format("%a, %-d %b %Y %H:%M:%S %z (%Z)");
        let queue_id = format!(
            "4Q{:X}",
            fnv(&[self.message_id.as_bytes()]) & 0xff_ffff_ffff
        );
        let mut out = String::new();
        if !self.extra.iter().any(|h| h.starts_with("Return-Path:")) {
            out.push_str(&format!("Return-Path: <{sender}>\n"));
        }
        out.push_str("Delivered-To: kari@fjordsalg.no\n");
        if domain == "fjordsalg.no" || domain == "mx.fjordsalg.no" {
            out.push_str(&format!(
                "Received: by mx.fjordsalg.no (Postfix)\n\tid {queue_id}; {arrived}\n"
            ));
        } else {
            let host = match self.client {
                Client::Outlook => format!(
                    "mail-{}.outbound.protection.outlook.com",
                    &format!("{:x}", fnv(&[domain.as_bytes()]))[..8]
                ),
                Client::Gmail => "mail-sor-f41.google.com".to_string(),
                _ => format!("smtp.{domain}"),
            };
            let octet = fnv(&[host.as_bytes()]) % 250 + 2;
            out.push_str(&format!(
                "Received: from {host} ({host} [192.0.2.{octet}])\n\tby mx.fjordsalg.no (Postfix) with ESMTPS id {queue_id}\n\tfor <kari@fjordsalg.no>; {arrived}\n"
            ));
        }
        out.push_str(&self.render());
        out
    }

    /// What the replier's client puts under a reply: Outlook a header block above the original
    /// text, the others an attribution line above `> ` lines — in the replier's language and
    /// clock.
    fn quoted(&self, lang: Lang, zone: Tz, client: Client) -> String {
        let at = self.date.with_timezone(&zone);
        let (name, email) = &self.author;
        let month = at.month0() as usize;
        let weekday = at.weekday().num_days_from_monday() as usize;
        if client == Client::Outlook {
            let to = self.to.join("; ");
            let subject = &self.subject;
            let block = match lang {
                Lang::Nb => format!(
                    "Fra: {name} <{email}>\nSendt: {} {}. {} {} {}\nTil: {to}\nEmne: {subject}",
                    WEEKDAYS_NB[weekday],
                    at.day(),
                    MONTHS_LONG_NB[month],
                    at.year(),
                    at.format("%H:%M")
                ),
                Lang::Sv => {
                    format!(
                    "Från: {name} <{email}>\nSkickat: den {} {} {} {}\nTill: {to}\nÄmne: {subject}",
                    at.day(), MONTHS_LONG_SV[month], at.year(), at.format("%H:%M")
                )
                }
                Lang::Da => format!(
                    "Fra: {name} <{email}>\nSendt: {} den {}. {} {} {}\nTil: {to}\nEmne: {subject}",
                    WEEKDAYS_DA[weekday],
                    at.day(),
                    MONTHS_LONG_DA[month],
                    at.year(),
                    at.format("%H.%M")
                ),
                Lang::En => format!(
                    "From: {name} <{email}>\nSent: {}\nTo: {to}\nSubject: {subject}",
                    at.format("%A, %-d %B %Y %H:%M")
                ),
            };
            return format!("________________________________\n{block}\n\n{}", self.body);
        }
        let line = match lang {
            Lang::Nb => format!(
                "{}. {} {} kl. {} skrev {name} <{email}>:",
                at.day(),
                MONTHS_NB[month],
                at.year(),
                at.format("%H:%M")
            ),
            Lang::Sv => format!(
                "Den {} {} {} kl. {} skrev {name} <{email}>:",
                at.day(),
                MONTHS_SV[month],
                at.year(),
                at.format("%H:%M")
            ),
            Lang::Da => format!(
                "Den {}. {} {} kl. {} skrev {name} <{email}>:",
                at.day(),
                MONTHS_DA[month],
                at.year(),
                at.format("%H.%M")
            ),
            Lang::En => format!(
                "On {}, {name} <{email}> wrote:",
                at.format("%a, %-d %b %Y at %H:%M")
            ),
        };
        let mut out = format!("{line}\n");
        for l in self.body.lines() {
            if l.is_empty() {
                out.push_str(">\n");
            } else if l.starts_with('>') {
                out.push_str(&format!(">{l}\n"));
            } else {
                out.push_str(&format!("> {l}\n"));
            }
        }
        out
    }
}

const WEEKDAYS_NB: [&str; 7] = [
    "mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag",
];
const WEEKDAYS_DA: [&str; 7] = [
    "mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag",
];
const MONTHS_LONG_NB: [&str; 12] = [
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
];
const MONTHS_LONG_SV: [&str; 12] = [
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
];
const MONTHS_LONG_DA: [&str; 12] = [
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
];
const MONTHS_NB: [&str; 12] = [
    "jan.", "feb.", "mar.", "apr.", "mai", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "des.",
];
const MONTHS_SV: [&str; 12] = [
    "jan.", "feb.", "mars", "apr.", "maj", "juni", "juli", "aug.", "sep.", "okt.", "nov.", "dec.",
];
const MONTHS_DA: [&str; 12] = [
    "jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "dec.",
];

/// RFC 2047 for a display name with non-ASCII letters ("Søren Kjær <…>").
fn encode_phrase(mailbox: &str) -> String {
    match mailbox.rsplit_once(" <") {
        Some((name, rest)) if !name.is_ascii() => format!("{} <{rest}", encode_words(name)),
        _ => mailbox.to_string(),
    }
}

/// RFC 2047 B-encoding of a header text that is not plain ASCII: encoded words of at most 45
/// bytes of text (60 characters encoded, well under the limit of 75), folded onto lines of
/// their own.
fn encode_words(text: &str) -> String {
    use base64::Engine;
    if text.is_ascii() {
        return text.to_string();
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    words.push(chunk);
    words
        .iter()
        .map(|w| {
            format!(
                "=?UTF-8?B?{}?=",
                base64::engine::general_purpose::STANDARD.encode(w.as_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join("\n ")
}

/// The HTML part Outlook writes for a plain text: a `<div>` a line, and under a reply the
/// original below its `divRplyFwdMsg` header block.
fn outlook_html(body: &str) -> String {
    fn escape(text: &str) -> String {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }
    fn lines(text: &str) -> String {
        text.trim()
            .lines()
            .map(|l| {
                if l.trim().is_empty() {
                    "<div><br></div>".to_string()
                } else {
                    format!("<div>{}</div>", escape(l))
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
    const BAR: &str = "________________________________";
    let (new, quoted) = body.split_once(BAR).unwrap_or((body, ""));
    let mut html = format!(
        "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\n</head>\n<body dir=\"ltr\">\n<div style=\"font-family: Aptos, Calibri, sans-serif; font-size: 12pt;\">\n{}\n</div>\n",
        lines(new)
    );
    if let Some((block, original)) = quoted.trim_start().split_once("\n\n") {
        let block = block
            .lines()
            .map(|l| match l.split_once(": ") {
                Some((name, value)) => format!("<b>{}:</b> {}", escape(name), escape(value)),
                None => escape(l),
            })
            .collect::<Vec<_>>()
            .join("<br>\n");
        html.push_str(&format!(
            "<div id=\"appendonsend\"></div>\n<hr style=\"display:inline-block;width:98%\" tabindex=\"-1\">\n<div id=\"divRplyFwdMsg\" dir=\"ltr\"><font face=\"Calibri, sans-serif\" style=\"font-size:11pt\" color=\"#000000\">{block}</font>\n<div>&nbsp;</div>\n</div>\n{}\n",
            lines(original)
        ));
    }
    html.push_str("</body>\n</html>");
    html
}

/// FNV-1a over some byte strings: a stable, seedless hash for made-up ids.
fn fnv(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.iter().chain(b"\0") {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// Text wrapped at 72 columns with RFC 3676 soft breaks (a trailing space), quotes left alone.
fn flowed(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with('>') || line.chars().count() <= 72 {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let mut current = String::new();
        for word in line.split(' ') {
            if !current.is_empty() && current.chars().count() + word.chars().count() > 72 {
                out.push_str(&current);
                out.push('\n');
                current.clear();
            }
            current.push_str(word);
            current.push(' ');
        }
        out.push_str(current.trim_end());
        out.push('\n');
    }
    out
}

/// A subject without the reply prefixes clients add ("Re: ", "SV: ", "AW: "…).
fn thread_subject(subject: &str) -> &str {
    let mut rest = subject.trim();
    while let Some((prefix, tail)) = rest.split_once(':') {
        if ["re", "sv", "aw", "vs", "antw"].contains(&prefix.trim().to_ascii_lowercase().as_str()) {
            rest = tail.trim_start();
        } else {
            break;
        }
    }
    rest
}

/// Builds the sample's messages with ids in the style of each sender's mail system.
struct Writer {
    counter: u32,
}

impl Writer {
    fn id(&mut self, who: &Person, at: DateTime<Utc>) -> String {
        self.counter += 1;
        let counter = self.counter.to_le_bytes();
        let stamp = at.timestamp().to_le_bytes();
        let a = fnv(&[who.email.as_bytes(), &counter, &stamp]);
        let b = fnv(&[&stamp, &counter, who.email.as_bytes()]);
        let domain = who.email.split('@').nth(1).unwrap_or("example.com");
        let uuid = format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        );
        match who.client {
            Client::Thunderbird => format!("{uuid}@{domain}"),
            Client::AppleMail => format!("{}@{domain}", uuid.to_uppercase()),
            Client::Outlook => {
                let server = format!("DB9PR10MB{:04}", a % 10_000);
                format!("{server}{:016X}@{server}.EURPRD10.PROD.OUTLOOK.COM", b)
            }
            Client::Gmail => format!("CAO{:016x}{:016x}@mail.gmail.com", a, b),
            Client::Server => format!("{}.{:x}@{domain}", at.format("%Y%m%d%H%M%S"), a & 0xff_ffff),
        }
    }

    /// A message from `from` to `to`, in `lang`, under `parent`'s thread when given.
    #[allow(clippy::too_many_arguments)]
    fn write(
        &mut self,
        from: &Person,
        to: Vec<String>,
        subject: String,
        at: DateTime<Utc>,
        body: String,
        lang: Lang,
        references: Vec<String>,
    ) -> Mail {
        let message_id = self.id(from, at);
        let thread_root = references.first().unwrap_or(&message_id).clone();
        let extra = client_headers(
            from,
            lang,
            thread_subject(&subject),
            &thread_root,
            references.len(),
        );
        Mail {
            from: from.mailbox(),
            to,
            subject,
            date: at,
            zone: from.zone,
            message_id,
            references,
            body,
            extra,
            content_type: None,
            author: (from.name.to_string(), from.email.to_string()),
            lang,
            client: from.client,
        }
    }

    /// A first message from `from` to `to`.
    fn opener(
        &mut self,
        from: &Person,
        to: &[&Person],
        subject: &str,
        at: DateTime<Utc>,
        text: &str,
        lang: Lang,
    ) -> Mail {
        let body = if from.email == KARI.email {
            format!("{text}\n\n{}\n", signature(lang))
        } else {
            format!("{text}\n")
        };
        let to = to.iter().map(|p| p.mailbox()).collect();
        self.write(from, to, subject.to_string(), at, body, lang, Vec::new())
    }

    /// Kari's follow-up under `parent` as her client sends it from nudge's draft: the id it
    /// will carry in Sent, and the thread headers. Its text is nudge's, so it is left empty
    /// here; answers to it quote nothing.
    fn followup(&mut self, parent: &Mail, at: DateTime<Utc>) -> Mail {
        let mut references = parent.references.clone();
        references.push(parent.message_id.clone());
        let subject = format!("Re: {}", thread_subject(&parent.subject));
        let to = recipients_of_reply(parent, &KARI);
        self.write(
            &KARI,
            to,
            subject,
            at,
            String::new(),
            parent.lang,
            references,
        )
    }

    /// An answer to `parent` from `from` (to the parent's author), quoting it the way the
    /// answerer's client does.
    fn reply(&mut self, parent: &Mail, from: &Person, at: DateTime<Utc>, text: &str) -> Mail {
        let own = from.email == KARI.email;
        // Kari writes in the thread's language; prospects in their own.
        let lang = if own { parent.lang } else { from.lang };
        let text = if own {
            format!("{text}\n\n{}", signature(lang))
        } else {
            text.to_string()
        };
        let mut references = parent.references.clone();
        references.push(parent.message_id.clone());
        let subject = format!(
            "{}{}",
            reply_prefix(from.client, lang),
            thread_subject(&parent.subject)
        );
        let body = if parent.body.is_empty() {
            format!("{text}\n")
        } else {
            format!("{text}\n\n{}", parent.quoted(lang, from.zone, from.client))
        };
        let to = recipients_of_reply(parent, from);
        self.write(from, to, subject, at, body, lang, references)
    }
}

/// Who an answer to `parent` goes to: its author, or — writing again under one's own
/// message — the same people as before.
fn recipients_of_reply(parent: &Mail, from: &Person) -> Vec<String> {
    if parent.author.1 == from.email {
        parent.to.clone()
    } else {
        vec![format!("{} <{}>", parent.author.0, parent.author.1)]
    }
}

/// The prefix a client puts on a reply's subject: Outlook translates it, the others do not.
fn reply_prefix(client: Client, lang: Lang) -> &'static str {
    match (client, lang) {
        (Client::Outlook, Lang::En) => "RE: ",
        (Client::Outlook, _) => "SV: ",
        _ => "Re: ",
    }
}

/// The headers each client adds: Thunderbird its User-Agent and language; Outlook its thread
/// topic and index (22 bytes for a new thread, 5 more per reply); Apple Mail its X-Mailer.
fn client_headers(
    who: &Person,
    lang: Lang,
    topic: &str,
    thread_root: &str,
    depth: usize,
) -> Vec<String> {
    use base64::Engine;
    let tag = match lang {
        Lang::Nb => "nb-NO",
        Lang::Sv => "sv-SE",
        Lang::Da => "da-DK",
        Lang::En => "en-GB",
    };
    match who.client {
        Client::Thunderbird => vec![
            "User-Agent: Mozilla Thunderbird".to_string(),
            format!("Content-Language: {tag}"),
        ],
        Client::Outlook => {
            let mut index = Vec::new();
            for part in 0..3u8 {
                index.extend(fnv(&[thread_root.as_bytes(), &[part]]).to_be_bytes());
            }
            index.truncate(22);
            for level in 0..depth {
                index.extend(
                    &fnv(&[thread_root.as_bytes(), &level.to_le_bytes()]).to_be_bytes()[..5],
                );
            }
            vec![
                format!("Thread-Topic: {}", encode_words(topic)),
                format!(
                    "Thread-Index: {}",
                    base64::engine::general_purpose::STANDARD.encode(&index)
                ),
                "X-MS-Has-Attach: ".to_string(),
                "X-MS-TNEF-Correlator: ".to_string(),
                format!("Content-Language: {tag}"),
            ]
        }
        Client::AppleMail => vec!["X-Mailer: Apple Mail (2.3776.700.51)".to_string()],
        Client::Gmail | Client::Server => Vec::new(),
    }
}

pub const fn prospect(
    name: &'static str,
    email: &'static str,
    company: &'static str,
    zone: Tz,
    (lang, client): (Lang, Client),
) -> Person {
    Person {
        name,
        email,
        company,
        zone,
        lang,
        client,
    }
}

use chrono_tz::Europe::{Copenhagen, London, Oslo, Stockholm};

pub const INGRID: Person = prospect(
    "Ingrid Berg",
    "ingrid.berg@fjordkraft.no",
    "Fjordkraft AS",
    Oslo,
    (Lang::Nb, Client::Outlook),
);
pub const ANNA: Person = prospect(
    "Anna Svensson",
    "anna.svensson@nordiskhandel.se",
    "Nordisk Handel AB",
    Stockholm,
    (Lang::Sv, Client::Outlook),
);
pub const JAMES: Person = prospect(
    "James Wright",
    "james.wright@thamesbuild.co.uk",
    "Thames Build Ltd",
    London,
    (Lang::En, Client::Outlook),
);
pub const METTE: Person = prospect(
    "Mette Larsen",
    "mette.larsen@kbhbyg.dk",
    "Københavns Byg ApS",
    Copenhagen,
    (Lang::Da, Client::Outlook),
);
pub const OLA: Person = prospect(
    "Ola Hansen",
    "ola.hansen@vestlandenergi.no",
    "Vestland Energi AS",
    Oslo,
    (Lang::Nb, Client::Outlook),
);
pub const ERIK: Person = prospect(
    "Erik Lund",
    "erik.lund@bergenshipping.no",
    "Bergen Shipping AS",
    Oslo,
    (Lang::Nb, Client::Outlook),
);
pub const SILJE: Person = prospect(
    "Silje Moe",
    "silje.moe@bergenshipping.no",
    "Bergen Shipping AS",
    Oslo,
    (Lang::Nb, Client::Outlook),
);
/// Kari mistyped his address: "johan.ekk".
pub const JOHAN: Person = prospect(
    "Johan Ek",
    "johan.ekk@uppsaladata.se",
    "Uppsala Data AB",
    Stockholm,
    (Lang::Sv, Client::Outlook),
);
pub const LARS_P: Person = prospect(
    "Lars Poulsen",
    "lars.poulsen@fynstrae.dk",
    "Fyns Træ A/S",
    Copenhagen,
    (Lang::Da, Client::Outlook),
);
pub const LIST: Person = prospect(
    "Salgsforum Vest",
    "salgsforum@lists.salgsforum.no",
    "Salgsforum Vest",
    Oslo,
    (Lang::Nb, Client::Server),
);
pub const TROND: Person = prospect(
    "Trond Aas",
    "trond.aas@vestbygg.no",
    "Vestbygg AS",
    Oslo,
    (Lang::Nb, Client::Gmail),
);
pub const TENDERS: Person = prospect(
    "Anbudsportalen",
    "noreply@anbudsportalen.no",
    "Anbudsportalen",
    Oslo,
    (Lang::Nb, Client::Server),
);
pub const LARS_N: Person = prospect(
    "Lars Nilsson",
    "lars.nilsson@gbglogistik.se",
    "Göteborg Logistik AB",
    Stockholm,
    (Lang::Sv, Client::Gmail),
);
pub const SOPHIE: Person = prospect(
    "Sophie Turner",
    "sophie.turner@leedspackaging.co.uk",
    "Leeds Packaging Ltd",
    London,
    (Lang::En, Client::Outlook),
);
pub const NILS: Person = prospect(
    "Nils Johansen",
    "nils.johansen@tromsosjomat.no",
    "Tromsø Sjømat AS",
    Oslo,
    (Lang::Nb, Client::AppleMail),
);
pub const KARIN: Person = prospect(
    "Karin Lindqvist",
    "karin.lindqvist@malmodesign.se",
    "Malmö Design AB",
    Stockholm,
    (Lang::Sv, Client::AppleMail),
);
pub const EMMA: Person = prospect(
    "Emma Clarke",
    "emma.clarke@harbourfoods.co.uk",
    "Harbour Foods Ltd",
    London,
    (Lang::En, Client::Outlook),
);
pub const HENRIK: Person = prospect(
    "Henrik Dahl",
    "henrik.dahl@aalborgenergi.dk",
    "Aalborg Energi A/S",
    Copenhagen,
    (Lang::Da, Client::Outlook),
);
pub const PER: Person = prospect(
    "Per Kristiansen",
    "per.kristiansen@fjordsalg.no",
    "Fjordsalg AS",
    Oslo,
    (Lang::Nb, Client::Thunderbird),
);
pub const SARA: Person = prospect(
    "Sara Holm",
    "sara.holm@osloeiendom.no",
    "Oslo Eiendom AS",
    Oslo,
    (Lang::Nb, Client::AppleMail),
);
pub const OLIVER: Person = prospect(
    "Oliver Bennett",
    "oliver.bennett@bristolcold.co.uk",
    "Bristol Cold Storage Ltd",
    London,
    (Lang::En, Client::Gmail),
);

/// The whole sample: the starting mailbox, the timeline, and what each conversation shows.
pub fn generate() -> Sample {
    let mut w = Writer { counter: 0 };
    let mut mailbox = Vec::new();
    let mut timeline = Vec::new();
    let mut cases = Vec::new();
    let mut seed = |folder: Folder, mail: &Mail| {
        mailbox.push(Seeded {
            folder,
            raw: match folder {
                Folder::Inbox => mail.delivered(),
                Folder::Sent => mail.render(),
            },
        })
    };
    let mut at = |when: DateTime<Utc>, who: Person, action: Action, note: &str| {
        timeline.push(Event {
            at: when,
            prospect: who,
            action,
            note: note.to_string(),
        })
    };
    let mut case = |subject: &'static str,
                    who: Person,
                    about: &'static str,
                    (at_start, at_end): (AtStart, Option<&'static str>)| {
        cases.push(Case {
            subject,
            prospect: who,
            about,
            at_start,
            at_end,
        })
    };

    // 1. Ingrid: a reply while the first follow-up waits; Kari answers days later, prompted by
    //    her summary, and Ingrid confirms.
    let subject = "Tilbud på rammeavtale for 2027";
    let opener = w.opener(&KARI, &[&INGRID], subject, oslo(2026, 11, 5, 10, 12), "Hei Ingrid,\n\nTakk for en hyggelig prat på Energikonferansen i Bergen. Som lovet sender jeg tilbudet på rammeavtalen for 2027, med faste priser på service og reservedeler i tre år.\n\nDet viktigste for dere var responstiden ved driftsstans, så jeg har lagt ved et forslag med fire timers oppmøte på hverdager.", Lang::Nb);
    seed(Folder::Sent, &opener);
    case(
        subject,
        INGRID,
        "replies while the first follow-up waits",
        (AtStart::Waiting, Some("replied")),
    );
    let answer = w.reply(&opener, &INGRID, oslo(2026, 11, 11, 14, 2), "Hei Kari,\n\nTakk for tilbudet, det ser ryddig ut. Jeg har sendt det videre til innkjøpssjefen vår og kommer tilbake til deg. Kan du si litt mer om hva som ligger i «fire timers oppmøte» i helgene?\n\nMvh\nIngrid");
    at(
        answer.date,
        INGRID,
        Action::Arrives(answer.delivered()),
        "Ingrid answers",
    );
    let kari = w.reply(&answer, &KARI, oslo(2026, 11, 16, 15, 0), "Hei Ingrid,\n\nBeklager at svaret tok noen dager. I helgene gjelder åtte timers oppmøte; fire timer kan legges til for 900 kroner i måneden. Si gjerne fra om du vil at jeg setter det inn i avtalen.");
    at(
        kari.date,
        INGRID,
        Action::Writes(kari.render()),
        "Kari answers Ingrid's question by hand",
    );
    let done = w.reply(&kari, &INGRID, oslo(2026, 11, 18, 14, 40), "Hei igjen,\n\nTakk, da tar vi med helgetillegget. Jeg sender signert avtale i løpet av neste uke.\n\nIngrid");
    at(
        done.date,
        INGRID,
        Action::Arrives(done.delivered()),
        "Ingrid confirms",
    );

    // 2. Anna: sent every step, never answers; let go after the close-the-loop.
    let subject = "Offert på lagersystem";
    let opener = w.opener(&KARI, &[&ANNA], subject, oslo(2026, 10, 29, 13, 45), "Hej Anna,\n\nTack för ett trevligt möte i Stockholm i tisdags. Här kommer offerten på lagersystemet för era tre lager i Mälardalen, med installation under första kvartalet.\n\nJag har räknat med den integration mot ert affärssystem som vi pratade om.", Lang::Sv);
    seed(Folder::Sent, &opener);
    case(
        subject,
        ANNA,
        "every follow-up sent, no answer: let go",
        (AtStart::Drafted, Some("let_go")),
    );
    let latest = w.followup(&opener, oslo(2026, 11, 9, 9, 40));
    at(
        latest.date,
        ANNA,
        Action::Sends(latest.message_id.clone()),
        "Kari sends the follow-up to Anna as it is",
    );
    let latest = w.followup(&latest, oslo(2026, 11, 18, 10, 5));
    at(
        latest.date,
        ANNA,
        Action::Sends(latest.message_id.clone()),
        "Kari sends the second follow-up to Anna",
    );
    let latest = w.followup(&latest, oslo(2026, 12, 2, 9, 15));
    at(
        latest.date,
        ANNA,
        Action::Sends(latest.message_id.clone()),
        "Kari sends the close-the-loop to Anna",
    );

    // 3. James: Kari edits the draft before sending it; he answers after follow-up 2.
    let subject = "Proposal: site logistics for Canary Wharf";
    let opener = w.opener(&KARI, &[&JAMES], subject, oslo(2026, 11, 6, 16, 30), "Hi James,\n\nThank you for showing me round the Canary Wharf site on Wednesday. As promised, here is our proposal for the site logistics: delivery slots, the crane schedule and the weekly reporting your project office asked for.\n\nThe prices hold until the end of January.", Lang::En);
    seed(Folder::Sent, &opener);
    case(
        subject,
        JAMES,
        "Kari edits a draft, then sends it; he replies after follow-up 2",
        (AtStart::Waiting, Some("replied")),
    );
    at(
        oslo(2026, 11, 11, 9, 20),
        JAMES,
        Action::Edits("PS: I am in London on 24 November, if a coffee near the site suits you."),
        "Kari adds a line to the draft to James and saves it",
    );
    let latest = w.followup(&opener, oslo(2026, 11, 12, 8, 50));
    at(
        latest.date,
        JAMES,
        Action::Sends(latest.message_id.clone()),
        "Kari sends her edited follow-up to James",
    );
    let latest = w.followup(&latest, oslo(2026, 11, 23, 9, 0));
    at(
        latest.date,
        JAMES,
        Action::Sends(latest.message_id.clone()),
        "Kari sends the second follow-up to James",
    );
    let reply = w.reply(&latest, &JAMES, local(London, 2026, 11, 24, 16, 40), "Hi Kari,\n\nSorry for the silence, the tender took all our time. We would like to go ahead with the delivery slots and the reporting, but not the crane schedule. Could you send a revised figure?\n\nBest,\nJames");
    at(
        reply.date,
        JAMES,
        Action::Arrives(reply.delivered()),
        "James answers",
    );

    // 4. Mette: Kari deletes the draft (she heard by phone the project is on hold).
    let subject = "Tilbud på adgangskontrol";
    let opener = w.opener(&KARI, &[&METTE], subject, oslo(2026, 10, 30, 11, 5), "Hej Mette,\n\nTak for snakken i går. Som aftalt sender jeg tilbuddet på adgangskontrol til jeres nye kontorhus i Nordhavn, med kortlæsere på alle etager og en årlig serviceaftale.\n\nTilbuddet gælder til udgangen af december.", Lang::Da);
    seed(Folder::Sent, &opener);
    case(
        subject,
        METTE,
        "Kari deletes the draft: nudge stops",
        (AtStart::Drafted, Some("stopped")),
    );
    at(
        oslo(2026, 11, 9, 11, 0),
        METTE,
        Action::Deletes,
        "Kari deletes the draft to Mette: the project is on hold, she heard by phone",
    );

    // 5. Ola: an out-of-office in Norwegian with a return date.
    let subject = "Serviceavtale for varmepumpene";
    let opener = w.opener(&KARI, &[&OLA], subject, oslo(2026, 11, 3, 9, 30), "Hei Ola,\n\nHer er forslaget til serviceavtale for de tolv varmepumpene på anleggene deres i Sogn, med to faste kontroller i året og døgnvakt i fyringssesongen.\n\nPrisene gjelder fra januar.", Lang::Nb);
    seed(Folder::Sent, &opener);
    let mut ooo = w.reply(&opener, &OLA, oslo(2026, 11, 3, 9, 31), "Takk for e-posten din. Jeg er på ferie og er tilbake mandag 16. november. Haster det, kan du ringe sentralbordet på 55 00 00 00.\n\nOla Hansen");
    // Exchange answers for Ola: no quote, Outlook's Norwegian subject, its out-of-office pair.
    ooo.subject = format!("Automatisk svar: {subject}");
    ooo.body = ooo
        .body
        .split("\n\n")
        .take(2)
        .collect::<Vec<_>>()
        .join("\n\n")
        + "\n";
    ooo.extra.extend([
        "Auto-Submitted: auto-generated".to_string(),
        "X-Auto-Response-Suppress: All".to_string(),
        format!("X-MS-Exchange-Inbox-Rules-Loop: {}", OLA.email),
    ]);
    seed(Folder::Inbox, &ooo);
    case(
        subject,
        OLA,
        "out of office until 16 November: the follow-up waits",
        (AtStart::Waiting, Some("replied")),
    );
    let latest = w.followup(&opener, oslo(2026, 11, 17, 9, 30));
    at(
        latest.date,
        OLA,
        Action::Sends(latest.message_id.clone()),
        "Kari sends the follow-up to Ola",
    );
    let reply = w.reply(&latest, &OLA, oslo(2026, 11, 19, 10, 0), "Hei Kari,\n\nTakk for at du purret, jeg var borte en uke og innboksen er lang. Vi vil gjerne ha avtalen, men med kontroller i mars og september. Kan du sende en oppdatert versjon?\n\nHilsen Ola");
    at(
        reply.date,
        OLA,
        Action::Arrives(reply.delivered()),
        "Ola answers",
    );

    // 6. Erik: his colleague answers from the same company, outside the thread.
    let subject = "Forslag til flåtestyring";
    let opener = w.opener(&KARI, &[&ERIK], subject, oslo(2026, 11, 4, 8, 55), "Hei Erik,\n\nTakk for møtet på kontoret deres på Bryggen. Vedlagt er forslaget til flåtestyring for de fire forsyningsskipene, med sporing, drivstoffrapporter og varsling ved avvik.\n\nVi kan ha en pilot i gang på ett skip innen fire uker.", Lang::Nb);
    seed(Folder::Sent, &opener);
    case(
        subject,
        ERIK,
        "a colleague at his company answers instead",
        (AtStart::Drafted, Some("replied")),
    );
    let latest = w.followup(&opener, oslo(2026, 11, 9, 10, 15));
    at(
        latest.date,
        ERIK,
        Action::Sends(latest.message_id.clone()),
        "Kari sends the follow-up to Erik",
    );
    let colleague = w.opener(&SILJE, &[&KARI], "Pilot på flåtestyring", oslo(2026, 11, 12, 11, 20), "Hei Kari,\n\nErik er i permisjon ut året, og jeg har overtatt saken om flåtestyring. Vi er interessert i piloten. Har du tid til et kort møte neste uke?\n\nVennlig hilsen\nSilje Moe\nBergen Shipping AS", Lang::Nb);
    at(
        colleague.date,
        SILJE,
        Action::Arrives(colleague.delivered()),
        "Silje Moe, Erik's colleague, writes",
    );

    // 7. Johan: the address bounces (Kari's own mail server reports it).
    let subject = "Offert på datasenterkylning";
    let opener = w.opener(&KARI, &[&JOHAN], subject, oslo(2026, 11, 2, 11, 0), "Hej Johan,\n\nTack för samtalet i morse. Här är offerten på kylningen till ert nya datasenter i Uppsala, med service dygnet runt.", Lang::Sv);
    seed(Folder::Sent, &opener);
    seed(
        Folder::Inbox,
        &opener.bounce(&mut w, oslo(2026, 11, 2, 11, 1)),
    );
    case(
        subject,
        JOHAN,
        "a mistyped address bounces",
        (AtStart::Bounced, Some("bounced")),
    );

    // 8. Lars Poulsen: opts out while the second follow-up waits.
    let subject = "Tilbud på tørreanlæg";
    let opener = w.opener(&KARI, &[&LARS_P], subject, oslo(2026, 11, 3, 14, 20), "Hej Lars,\n\nTak for besøget på savværket i Odense. Her er tilbuddet på det nye tørreanlæg, med montering i uge 8 og to års service.", Lang::Da);
    seed(Folder::Sent, &opener);
    case(
        subject,
        LARS_P,
        "asks not to be contacted again",
        (AtStart::Drafted, Some("opted_out")),
    );
    let latest = w.followup(&opener, oslo(2026, 11, 9, 10, 30));
    at(
        latest.date,
        LARS_P,
        Action::Sends(latest.message_id.clone()),
        "Kari sends the follow-up to Lars Poulsen",
    );
    let optout = w.reply(&latest, &LARS_P, local(Copenhagen, 2026, 11, 19, 8, 10), "Hej Kari,\n\nVi har valgt en anden leverandør. Afmeld mig venligst, og kontakt os ikke igen om dette.\n\nLars");
    at(
        optout.date,
        LARS_P,
        Action::Arrives(optout.delivered()),
        "Lars Poulsen writes back",
    );

    // 9. A mailing list: Kari answers a post on a sales forum's list.
    let subject = "Erfaringer med rammeavtaler i offentlig sektor?";
    let mut post = w.opener(&TROND, &[&LIST], subject, oslo(2026, 11, 4, 19, 12), "Hei alle,\n\nNoen som har erfaring med å vinne rammeavtaler med kommuner på Vestlandet? Hvor lang tid tok det fra kunngjøring til kontrakt?\n\nTrond", Lang::Nb);
    post.extra.extend([
        "List-Id: Salgsforum Vest <salgsforum.lists.salgsforum.no>".to_string(),
        "List-Unsubscribe: <mailto:salgsforum-leave@lists.salgsforum.no>".to_string(),
        "Precedence: list".to_string(),
    ]);
    seed(Folder::Inbox, &post);
    let mut answer = w.reply(&post, &KARI, oslo(2026, 11, 5, 7, 50), "Hei Trond,\n\nHos oss tok det fire måneder for Bergen kommune. Det viktigste var referansene.");
    answer.to = vec![LIST.mailbox()];
    seed(Folder::Sent, &answer);
    case(
        subject,
        LIST,
        "Kari answers a mailing list: not followed",
        (AtStart::NotTracked, None),
    );

    // 10. A noreply sender: Kari answers a tender portal's notice.
    let subject = "Ny kunngjøring: Rammeavtale varmepumper, Bergen kommune";
    let mut notice = w.opener(&TENDERS, &[&KARI], subject, oslo(2026, 11, 6, 6, 0), "En ny kunngjøring passer din profil:\n\nRammeavtale for service på varmepumper, Bergen kommune.\nTilbudsfrist: 8. desember 2026.\n\nDenne e-posten kan ikke besvares.", Lang::Nb);
    notice.extra = vec![
        "Auto-Submitted: auto-generated".to_string(),
        "List-Unsubscribe: <https://anbudsportalen.no/varsler/avmeld>".to_string(),
    ];
    seed(Folder::Inbox, &notice);
    let answer = w.reply(
        &notice,
        &KARI,
        oslo(2026, 11, 6, 8, 10),
        "Hei,\n\nVi ønsker å levere tilbud. Hvem er kontaktperson for spørsmål?",
    );
    seed(Folder::Sent, &answer);
    case(
        subject,
        TENDERS,
        "Kari answers a noreply address: not followed",
        (AtStart::NotTracked, None),
    );

    // 11. Lars Nilsson: his client breaks the thread (a new mail, no In-Reply-To).
    let subject = "Offert: truckflotta för Torslanda";
    let opener = w.opener(&KARI, &[&LARS_N], subject, oslo(2026, 11, 5, 15, 10), "Hej Lars,\n\nTack för rundturen i Torslanda. Här är offerten på leasing av tolv eltruckar med service, och ett förslag på laddplatser.", Lang::Sv);
    seed(Folder::Sent, &opener);
    case(
        subject,
        LARS_N,
        "his client breaks the thread: still his reply",
        (AtStart::Waiting, Some("replied")),
    );
    let latest = w.followup(&opener, oslo(2026, 11, 10, 9, 0));
    at(
        latest.date,
        LARS_N,
        Action::Sends(latest.message_id.clone()),
        "Kari sends the follow-up to Lars Nilsson",
    );
    let broken = w.opener(&LARS_N, &[&KARI], "Fråga om leveranstid", local(Stockholm, 2026, 11, 16, 13, 30), "Hej Kari,\n\nTack för påminnelsen. Vilken leveranstid har ni på truckarna om vi beställer före jul?\n\nMed vänlig hälsning\nLars Nilsson\nGöteborg Logistik AB", Lang::Sv);
    at(
        broken.date,
        LARS_N,
        Action::Arrives(broken.delivered()),
        "Lars Nilsson writes a new mail, outside the thread",
    );

    // 12. Sophie: an old thread, older than the 14-day lookback at first start.
    let subject = "Packaging line maintenance";
    let opener = w.opener(&KARI, &[&SOPHIE], subject, oslo(2026, 10, 5, 10, 0), "Hi Sophie,\n\nIt was good to meet you in Leeds. Here is the maintenance plan for your packaging lines that we discussed.", Lang::En);
    seed(Folder::Sent, &opener);
    case(
        subject,
        SOPHIE,
        "older than the lookback at first start: left alone",
        (AtStart::NotTracked, None),
    );

    // 13. Nils: Kari writes by hand while the draft waits; later the close-the-loop waits.
    let subject = "Kjølelager i Tromsø";
    let opener = w.opener(&KARI, &[&NILS], subject, oslo(2026, 11, 6, 12, 40), "Hei Nils,\n\nTakk for omvisningen på fabrikken. Her er forslaget til overvåking av kjølelageret, med alarm på SMS og månedlig rapport til Mattilsynet.", Lang::Nb);
    seed(Folder::Sent, &opener);
    case(
        subject,
        NILS,
        "Kari writes by hand instead of sending the draft",
        (AtStart::Waiting, Some("drafted")),
    );
    let by_hand = w.reply(&opener, &KARI, oslo(2026, 11, 11, 10, 30), "Hei Nils,\n\nJeg glemte å nevne at vi kan koble alarmen til vaktselskapet deres uten ekstra kostnad.");
    at(
        by_hand.date,
        NILS,
        Action::Writes(by_hand.render()),
        "Kari writes to Nils by hand instead of sending the draft",
    );
    let latest = w.followup(&by_hand, oslo(2026, 11, 20, 9, 25));
    at(
        latest.date,
        NILS,
        Action::Sends(latest.message_id.clone()),
        "Kari sends the second follow-up to Nils",
    );

    // 14. Karin: a new conversation started during the demo; she answers after follow-up 2.
    let subject = "Belysning till showroomet i Malmö";
    let opener = w.opener(&KARI, &[&KARIN], subject, oslo(2026, 11, 17, 13, 0), "Hej Karin,\n\nTack för att du tog dig tid i telefon i dag. Här är förslaget på styrd belysning till ert nya showroom, med tre ljusscener och installation i februari.", Lang::Sv);
    case(
        subject,
        KARIN,
        "a new opener during the demo; answers after follow-up 2",
        (AtStart::Later, Some("replied")),
    );
    at(
        opener.date,
        KARIN,
        Action::Writes(opener.render()),
        "Kari writes to Karin Lindqvist for the first time",
    );
    let latest = w.followup(&opener, oslo(2026, 11, 20, 9, 10));
    at(
        latest.date,
        KARIN,
        Action::Sends(latest.message_id.clone()),
        "Kari sends the follow-up to Karin",
    );
    let latest = w.followup(&latest, oslo(2026, 12, 1, 9, 5));
    at(
        latest.date,
        KARIN,
        Action::Sends(latest.message_id.clone()),
        "Kari sends the second follow-up to Karin",
    );
    let reply = w.reply(&latest, &KARIN, local(Stockholm, 2026, 12, 16, 15, 20), "Hej Kari,\n\nFörlåt dröjsmålet, vi har haft fullt upp med öppningen. Vi vill gärna gå vidare med två ljusscener. Kan du komma förbi i januari?\n\nKarin");
    at(
        reply.date,
        KARIN,
        Action::Arrives(reply.delivered()),
        "Karin answers",
    );

    // 15. Emma: answers after the close-the-loop.
    let subject = "Cold-chain monitoring for your depots";
    let opener = w.opener(&KARI, &[&EMMA], subject, oslo(2026, 11, 2, 14, 30), "Hi Emma,\n\nThank you for the call on Friday. Here is our proposal for cold-chain monitoring in your Hull and Grimsby depots, with alerts to your night shift and monthly reports for your auditors.", Lang::En);
    seed(Folder::Sent, &opener);
    case(
        subject,
        EMMA,
        "answers after the close-the-loop",
        (AtStart::Drafted, Some("replied")),
    );
    let latest = w.followup(&opener, oslo(2026, 11, 9, 10, 45));
    at(
        latest.date,
        EMMA,
        Action::Sends(latest.message_id.clone()),
        "Kari sends the follow-up to Emma",
    );
    let latest = w.followup(&latest, oslo(2026, 11, 18, 10, 20));
    at(
        latest.date,
        EMMA,
        Action::Sends(latest.message_id.clone()),
        "Kari sends the second follow-up to Emma",
    );
    let latest = w.followup(&latest, oslo(2026, 12, 2, 9, 30));
    at(
        latest.date,
        EMMA,
        Action::Sends(latest.message_id.clone()),
        "Kari sends the close-the-loop to Emma",
    );
    let reply = w.reply(&latest, &EMMA, local(London, 2026, 12, 15, 11, 45), "Hi Kari,\n\nThank you for your patience, and for keeping the door open. Our budget for next year was approved last week. Could we talk in the first week of January?\n\nEmma");
    at(
        reply.date,
        EMMA,
        Action::Arrives(reply.delivered()),
        "Emma answers",
    );

    // 16. Henrik: answers the first follow-up.
    let subject = "Tilbud på måleraflæsning";
    let opener = w.opener(&KARI, &[&HENRIK], subject, oslo(2026, 10, 28, 10, 0), "Hej Henrik,\n\nTak for et godt møde i Aalborg. Her er tilbuddet på fjernaflæsning af jeres 4.000 målere, med udrulning over seks måneder.", Lang::Da);
    seed(Folder::Sent, &opener);
    case(
        subject,
        HENRIK,
        "answers the first follow-up",
        (AtStart::Drafted, Some("replied")),
    );
    let latest = w.followup(&opener, oslo(2026, 11, 9, 11, 20));
    at(
        latest.date,
        HENRIK,
        Action::Sends(latest.message_id.clone()),
        "Kari sends the follow-up to Henrik",
    );
    let reply = w.reply(&latest, &HENRIK, local(Copenhagen, 2026, 11, 12, 13, 10), "Hej Kari,\n\nTak for påmindelsen. Vi vil gerne se en demo af løsningen. Passer det i uge 48?\n\nMvh Henrik");
    at(
        reply.date,
        HENRIK,
        Action::Arrives(reply.delivered()),
        "Henrik answers",
    );

    // 17. Per: a colleague at Fjordsalg, never a prospect.
    let subject = "Prisliste 2027";
    let internal = w.opener(&KARI, &[&PER], subject, oslo(2026, 11, 6, 14, 0), "Hei Per,\n\nHar du den nye prislisten for 2027? Jeg trenger den til tilbudet til Fjordkraft.", Lang::Nb);
    seed(Folder::Sent, &internal);
    case(
        subject,
        PER,
        "a colleague: never followed",
        (AtStart::NotTracked, None),
    );

    // 18. Sara: answered before nudge started.
    let subject = "Energimåling i Oslo-byggene";
    let opener = w.opener(
        &KARI,
        &[&SARA],
        subject,
        oslo(2026, 10, 27, 9, 0),
        "Hei Sara,\n\nHer er forslaget til energimåling i de seks byggene deres i Oslo sentrum.",
        Lang::Nb,
    );
    seed(Folder::Sent, &opener);
    let reply = w.reply(&opener, &SARA, oslo(2026, 10, 28, 16, 5), "Hei Kari,\n\nTakk! Vi går gjennom det på styremøtet 12. november og gir deg beskjed etterpå.\n\nSara");
    seed(Folder::Inbox, &reply);
    case(
        subject,
        SARA,
        "answered before nudge started; Kari answers late",
        (AtStart::Replied, Some("replied")),
    );
    let late = w.reply(&reply, &KARI, oslo(2026, 11, 16, 9, 10), "Hei Sara,\n\nTakk, og beklager at jeg ikke svarte før nå. Hvordan gikk styremøtet? Jeg setter gjerne av tid til å gå gjennom forslaget med styret hvis det hjelper.");
    at(
        late.date,
        SARA,
        Action::Writes(late.render()),
        "Kari answers Sara, whom her summary says is waiting on her",
    );
    let latest = w.followup(&late, oslo(2026, 11, 19, 9, 15));
    at(
        latest.date,
        SARA,
        Action::Sends(latest.message_id.clone()),
        "Kari sends the follow-up to Sara",
    );
    let yes = w.reply(&latest, &SARA, oslo(2026, 11, 24, 10, 30), "Hei Kari,\n\nStyret sa ja til de tre første byggene. Kan du sende en avtale vi kan signere?\n\nSara");
    at(
        yes.date,
        SARA,
        Action::Arrives(yes.delivered()),
        "Sara answers",
    );

    // 19. Oliver: a new opener in the last week, due the week after.
    let subject = "Racking inspection for your Avonmouth store";
    let opener = w.opener(&KARI, &[&OLIVER], subject, oslo(2026, 12, 17, 14, 0), "Hi Oliver,\n\nThank you for the quick call today. Here is the inspection plan for the racking in your Avonmouth store, with a report you can hand to your insurer.", Lang::En);
    case(
        subject,
        OLIVER,
        "a new opener in the last week: due the week after",
        (AtStart::Later, Some("waiting")),
    );
    at(
        opener.date,
        OLIVER,
        Action::Writes(opener.render()),
        "Kari writes to Oliver Bennett for the first time",
    );

    timeline.sort_by_key(|e| e.at);
    Sample {
        cases,
        mailbox,
        timeline,
    }
}

impl Mail {
    /// The delivery report Kari's own mail server sends back when this message cannot be
    /// delivered (RFC 3464, as Postfix writes it).
    fn bounce(&self, w: &mut Writer, at: DateTime<Utc>) -> Mail {
        let daemon = Person {
            name: "Mail Delivery System",
            email: "MAILER-DAEMON@mx.fjordsalg.no",
            company: "Fjordsalg AS",
            zone: SELLER_ZONE,
            lang: Lang::En,
            client: Client::Server,
        };
        let recipient = self.to.first().cloned().unwrap_or_default();
        let address = recipient
            .rsplit_once('<')
            .map(|(_, a)| a.trim_end_matches('>').to_string())
            .unwrap_or(recipient);
        let boundary = format!(
            "{:X}.{}/mx.fjordsalg.no",
            fnv(&[self.message_id.as_bytes()]) >> 32,
            at.timestamp()
        );
        let original = self.render();
        let original_headers = original.split("\n\n").next().unwrap_or("");
        let arrival = self.date.with_timezone(&SELLER_ZONE);
        let body = format!(
            "This is a MIME-encapsulated message.\n\n--{boundary}\nContent-Description: Notification\nContent-Type: text/plain; charset=us-ascii\n\nThis is the mail system at host mx.fjordsalg.no.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients. It's attached below.\n\n<{address}>: host mx1.uppsaladata.se[192.0.2.25] said: 550 5.1.1\n    <{address}>: Recipient address rejected: User unknown in virtual\n    mailbox table (in reply to RCPT TO command)\n\n--{boundary}\nContent-Description: Delivery report\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.fjordsalg.no\nX-Postfix-Queue-ID: 4QZk2B1x7Cz9tQ\nArrival-Date: {}\n\nFinal-Recipient: rfc822; {address}\nOriginal-Recipient: rfc822;{address}\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx1.uppsaladata.se\nDiagnostic-Code: smtp; 550 5.1.1 <{address}>: Recipient address rejected:\n    User unknown in virtual mailbox table\n\n--{boundary}\nContent-Description: Undelivered Message Headers\nContent-Type: text/rfc822-headers\n\n{original_headers}\n\n--{boundary}--\n",
            arrival.format("%a, %-d %b %Y %H:%M:%S %z")
        );
        Mail {
            from: daemon.mailbox(),
            to: vec![KARI.mailbox()],
            subject: "Undelivered Mail Returned to Sender".to_string(),
            date: at,
            zone: SELLER_ZONE,
            message_id: w.id(&daemon, at),
            references: Vec::new(),
            body,
            extra: vec![
                "Return-Path: <>".to_string(),
                "Auto-Submitted: auto-replied".to_string(),
            ],
            content_type: Some(format!(
                "multipart/report; report-type=delivery-status; boundary=\"{boundary}\""
            )),
            author: (daemon.name.to_string(), daemon.email.to_string()),
            lang: Lang::En,
            client: Client::Server,
        }
    }
}

/// Every weekday morning at 08:30 from the first start to the last pass, when nudge's drafts
/// and the Monday summary appear.
pub fn mornings() -> Vec<DateTime<Utc>> {
    weekday_mornings(first_start(), last_pass())
}

/// Every weekday morning at 08:30 in Kari's time zone, from the day of `first` to the day of
/// `last`.
pub fn weekday_mornings(first: DateTime<Utc>, last: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let first = first.with_timezone(&SELLER_ZONE).date_naive();
    let last = last.with_timezone(&SELLER_ZONE).date_naive();
    first
        .iter_days()
        .take_while(|day| *day <= last)
        .filter(|day| day.weekday().number_from_monday() <= 5)
        .map(|day| oslo(day.year(), day.month(), day.day(), 8, 30))
        .collect()
}
