//! Writing a follow-up draft as the seller's mail client would: headers threaded under the
//! seller's last message (SPEC 6), the text, the signature, and the last message quoted.
//! Only this file knows lettre's message builder.

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;
use lettre::message::header::ContentType;
use lettre::message::Mailbox as LettreMailbox;
use lettre::Message;

use crate::config::Language;
use crate::error::{Error, Result};
use crate::mail::parse::one_line;
use crate::rules::recipients::Recipients;
use crate::store::StoredMessage;

/// Everything a draft is made of.
#[derive(Debug, Clone)]
pub struct DraftParts<'a> {
    /// The seller's last message in the thread (from Sent): the draft answers it.
    pub last_touch: &'a StoredMessage,
    /// Who the draft is addressed to (see [`crate::rules::recipients`]).
    pub recipients: &'a Recipients,
    /// The seller identity that wrote it, and the seller's name.
    pub from_address: &'a str,
    pub from_name: &'a str,
    /// The rendered follow-up text.
    pub text: &'a str,
    /// Closing and signature lines.
    pub signature: &'a str,
    pub language: Language,
    pub zone: Tz,
    pub now: DateTime<Utc>,
    /// The Message-ID for the draft, without brackets.
    pub message_id: &'a str,
}

/// A fresh Message-ID at the seller's domain.
pub fn new_message_id(seller_address: &str, now: DateTime<Utc>) -> String {
    let domain = seller_address
        .rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
        .unwrap_or("nudge.invalid");
    format!(
        "nudge.{}.{:016x}@{domain}",
        now.format("%Y%m%d%H%M%S"),
        fastrand::u64(..)
    )
}

/// The subject with exactly one "Re: " in front, whatever prefixes it had (Re, SV, AW, VS, …).
pub fn reply_subject(subject: &str) -> String {
    format!("Re: {}", strip_reply_prefixes(subject))
}

/// The subject without reply prefixes: "Re: SV: Tilbud" → "Tilbud".
pub fn strip_reply_prefixes(subject: &str) -> String {
    const PREFIXES: [&str; 10] = [
        "re", "sv", "aw", "vs", "antw", "odp", "ang", "r", "ref", "réf",
    ];
    let mut rest = one_line(subject);
    loop {
        let trimmed = rest.trim_start();
        let Some((head, tail)) = trimmed.split_once(':') else {
            break;
        };
        // "Re", "RE", "Sv", "Re[2]", "Re(3)".
        let word = head
            .trim()
            .trim_end_matches(|c: char| c == ']' || c == ')' || c.is_ascii_digit())
            .trim_end_matches(['[', '('])
            .to_lowercase();
        if PREFIXES.contains(&word.as_str()) && head.len() <= 8 {
            rest = tail.to_string();
        } else {
            break;
        }
    }
    rest.trim().to_string()
}

fn mailbox(address: &str, name: Option<&str>) -> Result<LettreMailbox> {
    let email = address
        .parse()
        .map_err(|e| Error::Data(format!("cannot address a draft to {address:?}: {e}")))?;
    Ok(LettreMailbox::new(
        name.map(one_line).filter(|n| !n.is_empty()),
        email,
    ))
}

/// The raw draft (RFC 5322 bytes, CRLF) ready for IMAP APPEND.
pub fn compose(parts: &DraftParts<'_>) -> Result<Vec<u8>> {
    let last = parts.last_touch;
    let mut builder = Message::builder()
        .from(mailbox(parts.from_address, Some(parts.from_name))?)
        .subject(reply_subject(&last.subject))
        .date(parts.now.into())
        .message_id(Some(format!("<{}>", parts.message_id)));
    for m in &parts.recipients.to {
        builder = builder.to(mailbox(&m.address, m.name.as_deref())?);
    }
    for m in &parts.recipients.cc {
        builder = builder.cc(mailbox(&m.address, m.name.as_deref())?);
    }
    if let Some(parent) = &last.message_id {
        builder = builder.in_reply_to(format!("<{parent}>"));
        let mut chain: Vec<String> = last.references.iter().map(|r| format!("<{r}>")).collect();
        chain.push(format!("<{parent}>"));
        builder = builder.references(chain.join(" "));
    }
    let body = format!(
        "{}\n\n{}\n\n{}\n",
        parts.text.trim(),
        parts.signature.trim(),
        quote(last, parts.language, parts.zone)
    );
    let message = builder
        .header(ContentType::TEXT_PLAIN)
        .body(body.replace("\r\n", "\n"))
        .map_err(|e| Error::Data(format!("cannot build the draft: {e}")))?;
    Ok(message.formatted())
}

/// What a draft says, as a SHA-256 hex digest over its recipients, subject and decoded text
/// (line ends and trailing spaces evened out): the same for nudge's raw draft and for the copy
/// a server gives back, different as soon as the seller changed a word, a recipient or the
/// subject. `None` for bytes that do not parse as a message.
pub fn fingerprint(raw: &[u8]) -> Option<String> {
    use sha2::{Digest, Sha256};
    let mail = crate::mail::parse::parse(raw)?;
    let mut hasher = Sha256::new();
    for (field, list) in [("to", &mail.to), ("cc", &mail.cc)] {
        hasher.update(field.as_bytes());
        for mailbox in list {
            hasher.update(b"\0");
            hasher.update(mailbox.address.as_bytes());
        }
        hasher.update(b"\n");
    }
    hasher.update(b"subject\0");
    hasher.update(mail.subject.trim().as_bytes());
    hasher.update(b"\ntext\0");
    let text = mail.body.replace("\r\n", "\n");
    for line in text.trim_end().lines() {
        hasher.update(line.trim_end().as_bytes());
        hasher.update(b"\n");
    }
    let digest = hasher.finalize();
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// The last message quoted under a localized attribution line.
pub fn quote(last: &StoredMessage, language: Language, zone: Tz) -> String {
    let who = match &last.from_name {
        Some(name) => format!("{name} <{}>", last.from_addr),
        None => last.from_addr.clone(),
    };
    let mut out = format!("{}\n", attribution(&who, last.date, language, zone));
    let text = if last.snippet.trim().is_empty() {
        "…"
    } else {
        last.snippet.trim()
    };
    for line in text.lines() {
        if line.is_empty() {
            out.push_str(">\n");
        } else {
            out.push_str("> ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out.trim_end().to_string()
}

const WEEKDAYS: [[&str; 7]; 6] = [
    ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    ["man.", "tir.", "ons.", "tor.", "fre.", "lør.", "søn."],
    ["mån", "tis", "ons", "tors", "fre", "lör", "sön"],
    ["man.", "tir.", "ons.", "tor.", "fre.", "lør.", "søn."],
    ["ma", "ti", "ke", "to", "pe", "la", "su"],
    ["Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."],
];
const MONTHS_SHORT: [[&str; 12]; 6] = [
    [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ],
    [
        "jan.", "feb.", "mar.", "apr.", "mai", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.",
        "des.",
    ],
    [
        "jan.", "feb.", "mars", "apr.", "maj", "juni", "juli", "aug.", "sep.", "okt.", "nov.",
        "dec.",
    ],
    [
        "jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.",
        "dec.",
    ],
    [
        "tammik.", "helmik.", "maalisk.", "huhtik.", "toukok.", "kesäk.", "heinäk.", "elok.",
        "syysk.", "lokak.", "marrask.", "jouluk.",
    ],
    [
        "Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.",
        "Dez.",
    ],
];
/// Full month names as a date uses them: Finnish in the partitive ("10. marraskuuta").
const MONTHS_LONG: [[&str; 12]; 6] = [
    [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    [
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
    ],
    [
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
    ],
    [
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
    ],
    [
        "tammikuuta",
        "helmikuuta",
        "maaliskuuta",
        "huhtikuuta",
        "toukokuuta",
        "kesäkuuta",
        "heinäkuuta",
        "elokuuta",
        "syyskuuta",
        "lokakuuta",
        "marraskuuta",
        "joulukuuta",
    ],
    [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
];

/// A weekday's short name ("Tue", "tir.").
pub(crate) fn weekday_name(language: Language, weekday: chrono::Weekday) -> &'static str {
    WEEKDAYS[index(language)][weekday.num_days_from_monday() as usize]
}

/// A month's full name ("November", "november"), from its 0-based number.
pub(crate) fn month_name(language: Language, month0: u32) -> &'static str {
    MONTHS_LONG[index(language)][month0 as usize % 12]
}

fn index(language: Language) -> usize {
    match language {
        Language::En => 0,
        Language::Nb => 1,
        Language::Sv => 2,
        Language::Da => 3,
        Language::Fi => 4,
        Language::De => 5,
    }
}

/// "On Tue, 10 Nov 2026 at 10:15, Kari <k@x> wrote:" and its nb, sv, da, fi and de forms
/// (Finnish and German as Outlook and Gmail write them: a numeric date, "klo 9.12", "um 09:12").
pub fn attribution(who: &str, at: DateTime<Utc>, language: Language, zone: Tz) -> String {
    let t = at.with_timezone(&zone);
    let i = index(language);
    let weekday = WEEKDAYS[i][t.weekday().num_days_from_monday() as usize];
    let month = MONTHS_SHORT[i][t.month0() as usize];
    let (d, y, h, m) = (t.day(), t.year(), t.hour(), t.minute());
    match language {
        Language::En => format!("On {weekday}, {d} {month} {y} at {h:02}:{m:02}, {who} wrote:"),
        Language::Nb => format!("{weekday} {d}. {month} {y} kl. {h:02}:{m:02} skrev {who}:"),
        Language::Sv => format!("Den {weekday} {d} {month} {y} kl {h:02}:{m:02} skrev {who}:"),
        Language::Da => format!("Den {weekday} {d}. {month} {y} kl. {h:02}.{m:02} skrev {who}:"),
        Language::Fi => format!(
            "{weekday} {d}.{}.{y} klo {h}.{m:02} {who} kirjoitti:",
            t.month()
        ),
        Language::De => format!(
            "Am {d:02}.{:02}.{y} um {h:02}:{m:02} schrieb {who}:",
            t.month()
        ),
    }
}

/// A date written the language's way, for templates: "10 November", "10. november".
pub fn long_date(at: DateTime<Utc>, language: Language, zone: Tz) -> String {
    let t = at.with_timezone(&zone);
    let month = MONTHS_LONG[index(language)][t.month0() as usize];
    match language {
        Language::En | Language::Sv => format!("{} {month}", t.day()),
        Language::Nb | Language::Da | Language::Fi | Language::De => {
            format!("{}. {month}", t.day())
        }
    }
}

/// The closing line before the signature.
pub fn closing(language: Language) -> &'static str {
    match language {
        Language::En => "Best regards,",
        Language::Nb => "Vennlig hilsen",
        Language::Sv => "Vänliga hälsningar",
        Language::Da => "Venlig hilsen",
        Language::Fi => "Ystävällisin terveisin",
        Language::De => "Viele Grüße",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_reply_prefix() {
        for (subject, expected) in [
            ("Tilbud", "Re: Tilbud"),
            ("Re: Tilbud", "Re: Tilbud"),
            ("Re: Re: x", "Re: x"),
            ("Re: SV: Tilbud", "Re: Tilbud"),
            ("SV: Tilbud", "Re: Tilbud"),
            ("AW: Angebot", "Re: Angebot"),
            ("RE[2]: Proposal", "Re: Proposal"),
            ("VS: Fwd: Tilbud", "Re: Fwd: Tilbud"),
            ("Regarding: the offer", "Re: Regarding: the offer"),
            (
                "Tilbud\r\nBcc: evil@example.com",
                "Re: Tilbud Bcc: evil@example.com",
            ),
        ] {
            assert_eq!(reply_subject(subject), expected, "{subject:?}");
        }
    }

    #[test]
    fn attributions_in_each_language() {
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 10, 9, 15, 0).unwrap();
        let zone = chrono_tz::Europe::Oslo;
        let who = "Kari Nordmann <kari@fjordsalg.no>";
        assert_eq!(
            attribution(who, at, Language::En, zone),
            "On Tue, 10 Nov 2026 at 10:15, Kari Nordmann <kari@fjordsalg.no> wrote:"
        );
        assert_eq!(
            attribution(who, at, Language::Nb, zone),
            "tir. 10. nov. 2026 kl. 10:15 skrev Kari Nordmann <kari@fjordsalg.no>:"
        );
        assert_eq!(
            attribution(who, at, Language::Sv, zone),
            "Den tis 10 nov. 2026 kl 10:15 skrev Kari Nordmann <kari@fjordsalg.no>:"
        );
        assert_eq!(
            attribution(who, at, Language::Da, zone),
            "Den tir. 10. nov. 2026 kl. 10.15 skrev Kari Nordmann <kari@fjordsalg.no>:"
        );
        assert_eq!(
            attribution(who, at, Language::Fi, zone),
            "ti 10.11.2026 klo 10.15 Kari Nordmann <kari@fjordsalg.no> kirjoitti:"
        );
        assert_eq!(
            attribution(who, at, Language::De, zone),
            "Am 10.11.2026 um 10:15 schrieb Kari Nordmann <kari@fjordsalg.no>:"
        );
        // Finnish writes the hour without a leading zero, German with one.
        let early = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 3, 2, 8, 5, 0).unwrap();
        assert_eq!(
            attribution("Ingrid Berg", early, Language::Fi, zone),
            "ma 2.3.2026 klo 9.05 Ingrid Berg kirjoitti:"
        );
        assert_eq!(
            attribution("Ingrid Berg", early, Language::De, zone),
            "Am 02.03.2026 um 09:05 schrieb Ingrid Berg:"
        );
        assert_eq!(long_date(at, Language::Nb, zone), "10. november");
        assert_eq!(long_date(at, Language::Fi, zone), "10. marraskuuta");
        assert_eq!(long_date(at, Language::De, zone), "10. November");
        assert_eq!(long_date(at, Language::En, zone), "10 November");
    }

    #[test]
    fn message_ids_are_fresh_and_at_the_sellers_domain() {
        let now = Utc::now();
        let a = new_message_id("kari@fjordsalg.no", now);
        let b = new_message_id("kari@fjordsalg.no", now);
        assert_ne!(a, b);
        assert!(a.ends_with("@fjordsalg.no"), "{a}");
    }

    #[test]
    fn a_fingerprint_survives_the_server_and_not_an_edit() {
        let draft = "From: Kari <kari@fjordsalg.no>\r\nTo: Ingrid <ingrid@fjordkraft.no>\r\n\
            Subject: Re: Tilbud\r\nMessage-ID: <d1@fjordsalg.no>\r\n\
            Content-Type: text/plain; charset=utf-8\r\n\r\nHei Ingrid,\r\n\r\nPasser det?\r\n";
        let original = fingerprint(draft.as_bytes()).expect("parses");
        // The copy a server gives back: LF line ends, another header added, a Date.
        let copy = draft.replace("\r\n", "\n").replace(
            "Subject:",
            "Date: Thu, 19 Nov 2026 08:30:00 +0100\nX-Keywords: draft\nSubject:",
        );
        assert_eq!(
            fingerprint(copy.as_bytes()).as_deref(),
            Some(original.as_str())
        );
        for edited in [
            draft.replace("Passer det?", "Passer det på torsdag?"),
            draft.replace("ingrid@fjordkraft.no", "per@fjordkraft.no"),
            draft.replace("Re: Tilbud", "Re: Tilbud (ny pris)"),
        ] {
            assert_ne!(
                fingerprint(edited.as_bytes()),
                Some(original.clone()),
                "{edited}"
            );
        }
    }
}
