//! What an inbound message means for a conversation (SPEC 4), decided in this order:
//! bounce → automated notice → auto-reply (with a return date) → opt-out → human reply.
//! Pure functions over [`Mail`]; nothing here does I/O.

use chrono::NaiveDate;

use super::address::{is_robot, local_part};
use super::parse::Mail;
use super::quote::new_text;
use super::return_date::find_return_date;

/// The meaning of one inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    /// Delivery failed: the conversation ends as bounced and the address is suppressed.
    Bounce {
        /// The Message-ID of the returned original, to find the conversation.
        returned_message_id: Option<String>,
        /// The address that failed, when the report names it.
        recipient: Option<String>,
    },
    /// Out of office or another autoresponder: not a reply; may move the schedule.
    AutoReply { return_date: Option<NaiveDate> },
    /// The person asks not to be contacted again.
    OptOut,
    /// A person answered.
    Reply,
    /// Machine mail that is none of the above: a delay notice, a read receipt, list mail.
    Automated,
}

/// What an inbound message is, without the details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageClass {
    Bounce,
    AutoReply,
    OptOut,
    Reply,
    Automated,
}

impl Class {
    /// The class without its details.
    pub fn class(&self) -> MessageClass {
        match self {
            Class::Bounce { .. } => MessageClass::Bounce,
            Class::AutoReply { .. } => MessageClass::AutoReply,
            Class::OptOut => MessageClass::OptOut,
            Class::Reply => MessageClass::Reply,
            Class::Automated => MessageClass::Automated,
        }
    }
}

/// Classifies an inbound message. `received` stands in for a missing or invalid Date when
/// judging return dates.
pub fn classify(mail: &Mail, received: NaiveDate) -> Class {
    if let Some(class) = delivery_report(mail) {
        return class;
    }
    if mail.signals.list || mail.signals.nudge_summary {
        return Class::Automated;
    }
    if is_auto_reply(mail) {
        let sent = mail.date.map(|d| d.date_naive()).unwrap_or(received);
        let text = format!("{}\n{}", mail.subject, new_text(&mail.body));
        return Class::AutoReply {
            return_date: find_return_date(&text, sent),
        };
    }
    if mail.from.as_ref().is_some_and(|f| is_robot(&f.address)) {
        return Class::Automated;
    }
    if is_opt_out(&mail.subject, &new_text(&mail.body)) {
        return Class::OptOut;
    }
    Class::Reply
}

/// Bounces and other delivery or disposition reports.
fn delivery_report(mail: &Mail) -> Option<Class> {
    // Without the returned part, a report that answers the original names it in its headers.
    let returned = mail
        .returned_message_id
        .clone()
        .or_else(|| mail.in_reply_to.first().cloned())
        .or_else(|| mail.references.last().cloned());
    let bounce = |recipient: Option<String>| Class::Bounce {
        returned_message_id: returned.clone(),
        recipient,
    };
    if let Some(report) = &mail.report {
        if report.delivery_status {
            let failed = report.actions.iter().any(|a| a == "failed")
                || (report.actions.is_empty()
                    && report.statuses.iter().any(|s| s.starts_with('5')));
            return Some(if failed {
                bounce(report.final_recipients.first().cloned())
            } else {
                Class::Automated
            });
        }
        if report.disposition {
            return Some(Class::Automated);
        }
    }
    if mail.signals.report_type.as_deref() == Some("disposition-notification") {
        return Some(Class::Automated);
    }
    let sender_is_mail_system = mail.from.as_ref().is_some_and(|f| {
        is_mail_system(&f.address)
            || f.name.as_deref().is_some_and(|n| {
                n.eq_ignore_ascii_case("Mail Delivery System")
                    || n.eq_ignore_ascii_case("Mail Delivery Subsystem")
            })
    });
    let failure_subject = has_failure_subject(&mail.subject);
    if !sender_is_mail_system && !failure_subject {
        return None;
    }
    let text = format!("{}\n{}", mail.subject, mail.body).to_lowercase();
    if DELAY_WORDS.iter().any(|w| text.contains(w))
        && !FAILURE_WORDS.iter().any(|w| text.contains(w))
    {
        return Some(Class::Automated);
    }
    if failure_subject || FAILURE_WORDS.iter().any(|w| text.contains(w)) {
        return Some(bounce(None));
    }
    // A mail system writing in a thread with no failure words: not a person either way.
    sender_is_mail_system.then_some(Class::Automated)
}

const FAILURE_SUBJECTS: &[&str] = &[
    "undeliverable",
    "undelivered mail",
    "delivery status notification (failure)",
    "mail delivery failed",
    "delivery failure",
    "failure notice",
    "returned mail",
    "mail delivery failure",
    "non remis",
    "unzustellbar",
    "nicht zustellbar",
    "kan ikke leveres",
    "kunne ikke leveres",
    "ikke levert",
    "kunde inte levereras",
    "olevererbart",
    "kunne ikke afleveres",
    "kan ikke leveres",
];

const FAILURE_WORDS: &[&str] = &[
    "could not be delivered",
    "couldn't be delivered",
    "wasn't delivered",
    "was not delivered",
    "delivery has failed",
    "delivery to the following recipient failed",
    "permanent error",
    "permanently",
    "user unknown",
    "unknown user",
    "no such user",
    "does not exist",
    "doesn't exist",
    "address rejected",
    "recipient address rejected",
    "mailbox unavailable",
    "mailbox not found",
    "undeliverable",
    "550 ",
    "5.1.1",
    "kunne ikke leveres",
    "unzustellbar",
];

const DELAY_WORDS: &[&str] = &[
    "delivery delayed",
    "has been delayed",
    "not yet been delivered",
    "will retry",
    "still trying",
    "delivery status notification (delay)",
    "warning: message",
];

/// True when a message may be a bounce, judged from its sender and subject alone (to decide
/// whether its text is worth fetching).
pub fn may_be_bounce(from: &str, subject: &str) -> bool {
    is_mail_system(from) || has_failure_subject(subject)
}

/// Senders of delivery reports: mailer-daemon, postmaster, Exchange's system mailbox.
pub fn is_mail_system(address: &str) -> bool {
    let local = local_part(address);
    local.contains("mailer-daemon")
        || local == "postmaster"
        || local.starts_with("microsoftexchange")
}

/// True for subjects mail systems put on bounces ("Undeliverable: …").
pub fn has_failure_subject(subject: &str) -> bool {
    let lower = subject.to_lowercase();
    FAILURE_SUBJECTS
        .iter()
        .any(|s| lower.starts_with(s) || lower.contains(&format!("{s}:")))
}

/// Subjects autoresponders use; Outlook rule-based replies carry no header at all.
const AUTO_REPLY_SUBJECTS: &[&str] = &[
    "auto:",
    "automatic reply",
    "autoreply",
    "auto-reply",
    "auto reply",
    "auto response",
    "autoresponse",
    "out of office",
    "out of the office",
    "ooo:",
    "away from the office",
    "on vacation",
    "vacation reply",
    "autosvar",
    "automatisk svar",
    "automatiskt svar",
    "automatisk besvarelse",
    "frånvaro",
    "fravær",
    "fraværende",
    "ikke til stede",
    "ikke på kontoret",
    "abwesenheitsnotiz",
    "abwesenheit",
    "automatische antwort",
    "réponse automatique",
    "absence du bureau",
    "respuesta automática",
    "risposta automatica",
    "automatisch antwoord",
    "afwezig",
    "automaattinen vastaus",
    "poissa",
];

fn is_auto_reply(mail: &Mail) -> bool {
    let s = &mail.signals;
    let header = s.auto_submitted.as_deref().is_some_and(|v| v != "no")
        || s.x_autoreply
        || s.x_autorespond
        || s.precedence
            .as_deref()
            .is_some_and(|p| matches!(p, "auto_reply" | "bulk" | "junk" | "list"))
        || (s.exchange_suppress && s.exchange_rules_loop);
    if header {
        return true;
    }
    let subject = mail.subject.to_lowercase();
    AUTO_REPLY_SUBJECTS.iter().any(|p| subject.starts_with(p))
}

/// Ways people ask not to be contacted, in en, nb, sv, da and de.
const OPT_OUT_PHRASES: &[&str] = &[
    // English
    "unsubscribe",
    "remove me",
    "remove my address",
    "remove us from",
    "take me off",
    "take us off",
    "stop emailing",
    "stop e-mailing",
    "stop sending",
    "stop contacting",
    "do not contact",
    "don't contact",
    "do not email",
    "don't email",
    "do not e-mail",
    "no more emails",
    "no further emails",
    "not contact me again",
    "not to contact me",
    "opt out",
    "opt-out",
    // Norwegian
    "ikke kontakt meg",
    "ikke kontakt oss",
    "ikke kontakte meg",
    "ikke kontakte oss",
    "avregistrer",
    "avmeld",
    "meld meg av",
    "fjern meg",
    "fjern oss",
    "slett meg",
    "ta meg av",
    "ikke send meg",
    "ikke send flere",
    "slutt å sende",
    "slutte å sende",
    "ønsker ikke flere",
    "ønsker ikke å bli kontaktet",
    "vil ikke bli kontaktet",
    "vil ikke motta",
    "ikke motta flere",
    "reservert meg",
    // Swedish
    "sluta maila",
    "sluta mejla",
    "sluta skicka",
    "sluta kontakta",
    "avregistrera",
    "avsluta prenumeration",
    "ta bort mig",
    "ta bort oss",
    "kontakta mig inte",
    "kontakta oss inte",
    "kontakta inte",
    "vill inte ha fler",
    "vill inte bli kontaktad",
    "inga fler mejl",
    "inga fler mail",
    "inga fler e-post",
    // Danish
    "afmeld",
    "fjern mig",
    "slet mig",
    "kontakt mig ikke",
    "kontakt os ikke",
    "kontakt mig venligst ikke",
    "stop med at sende",
    "hold op med at sende",
    "send ikke flere",
    "ønsker ikke at blive kontaktet",
    "ønsker ikke at modtage",
    "ingen flere mails",
    "ingen flere e-mails",
    // German
    "abmelden",
    "austragen",
    "keine weiteren e-mails",
    "keine weiteren mails",
    "keine e-mails mehr",
    "keine mails mehr",
    "nicht mehr kontaktieren",
    "nicht mehr anschreiben",
    "kontaktieren sie mich nicht",
    "entfernen sie mich",
    "bitte keine werbung",
    "aus ihrem verteiler",
    "aus dem verteiler",
    "aus ihrer liste",
    "tragen sie mich aus",
    "tragen sie uns aus",
];

/// Words that turn an opt-out phrase around: "please don't unsubscribe me".
const NEGATIONS: &[&str] = &[
    "don't",
    "dont",
    "do not",
    "not",
    "never",
    "no need to",
    "ikke",
    "inte",
    "nicht",
];

/// True when the subject or the new text asks not to be contacted again.
pub fn is_opt_out(subject: &str, new_text: &str) -> bool {
    let subject = subject.to_lowercase();
    let text = new_text.to_lowercase();
    OPT_OUT_PHRASES
        .iter()
        .any(|p| contains_phrase(&text, p) || contains_phrase(&subject, p))
}

/// `phrase` in `text` at word boundaries ("afmeld" must not match inside "tilbagemelding").
fn contains_phrase(text: &str, phrase: &str) -> bool {
    let mut start = 0;
    while let Some(found) = text[start..].find(phrase) {
        let begin = start + found;
        let end = begin + phrase.len();
        let before_ok = text[..begin]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        // Allow inflections after the phrase ("afmeldt", "unsubscribed", "avregistrere").
        if before_ok && !negated(&text[..begin]) {
            return true;
        }
        start = end;
    }
    false
}

/// True when the words just before a phrase negate it ("don't unsubscribe").
fn negated(before: &str) -> bool {
    let before = before.trim_end().trim_end_matches(['\'', '"', '«', '“']);
    NEGATIONS.iter().any(|n| {
        before.ends_with(n)
            && before[..before.len() - n.len()]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opt_out_phrases_need_a_word_start() {
        assert!(is_opt_out("", "Vennligst avregistrer meg."));
        assert!(is_opt_out("Unsubscribe", ""));
        assert!(is_opt_out("", "Please take me off your list"));
        assert!(!is_opt_out("", "Tak for tilbagemeldingen, vi ses."));
        assert!(!is_opt_out("", "Thanks, let's talk Thursday."));
        assert!(!is_opt_out(
            "",
            "Please don't unsubscribe me, I am interested."
        ));
        assert!(
            is_opt_out("", "Ikke kontakt meg igjen."),
            "a phrase that starts with a negation"
        );
    }

    #[test]
    fn failure_subjects() {
        assert!(has_failure_subject("Undeliverable: Tilbud på rammeavtale"));
        assert!(has_failure_subject(
            "Delivery Status Notification (Failure)"
        ));
        assert!(!has_failure_subject("Re: Tilbud"));
    }
}
