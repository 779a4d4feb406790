//! What an inbound message means for a conversation (SPEC 4), decided in this order:
//! bounce → automated notice → auto-reply (with a return date) → opt-out → human reply.
//! Each decision comes with the reason, in one line, so a seller can see why.
//! Pure functions over [`Mail`]; nothing here does I/O.

use std::fmt;

use chrono::NaiveDate;

use super::address::{is_robot, local_part};
use super::intent::{asks_something, find_deferral, find_departure, Deferral, Departure};
use super::parse::{Mail, RecipientStatus, Report};
use super::quote::new_text;
use super::return_date::find_return_date;

/// The kinds of inbound message. Their names (stored, shown, printed as JSON) are serde's:
/// `bounce`, `auto_reply`, `opt_out`, `reply`, `automated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageClass {
    /// Delivery failed: the conversation ends as bounced and the address is suppressed.
    Bounce,
    /// Out of office or another autoresponder: not a reply; may move the schedule.
    AutoReply,
    /// The person asks not to be contacted again.
    OptOut,
    /// A person answered.
    Reply,
    /// Machine mail that is none of the above: a delay notice, a read receipt, a feedback
    /// report, list mail.
    Automated,
}

impl fmt::Display for MessageClass {
    /// The name the store keeps (see `store::mapping`): written in one place only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The meaning of one inbound message, with what decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    pub class: MessageClass,
    /// For bounces: the Message-ID of the returned original, to find the conversation.
    pub returned_message_id: Option<String>,
    /// For bounces: the address that failed, when a delivery-status part names it.
    pub failed_recipient: Option<String>,
    /// For auto-replies: the end of the absence, when the text names one.
    pub return_date: Option<NaiveDate>,
    /// One line in plain words: the header, phrase or part that decided.
    pub reason: String,
    /// For human replies: the prospect asks to be contacted later ("after the summer").
    pub deferral: Option<Deferral>,
    /// For replies and auto-replies: the person has left, with whom to contact instead.
    pub departure: Option<Departure>,
    /// For human replies: the reply asks the seller something (a question or a request).
    pub asks: bool,
}

impl Classification {
    fn new(class: MessageClass, reason: impl Into<String>) -> Classification {
        Classification {
            class,
            returned_message_id: None,
            failed_recipient: None,
            return_date: None,
            reason: reason.into(),
            deferral: None,
            departure: None,
            asks: false,
        }
    }
}

/// Classifies an inbound message. `received` stands in for a missing or invalid Date when
/// judging return dates.
pub fn classify(mail: &Mail, received: NaiveDate) -> Classification {
    if let Some(found) = delivery_report(mail) {
        return found;
    }
    if mail.signals.nudge_summary {
        return Classification::new(
            MessageClass::Automated,
            "X-Nudge-Summary: nudge's own weekly summary",
        );
    }
    let list = list_signal(mail);
    let sender = mail.from.as_ref().map(|f| f.address.as_str()).unwrap_or("");
    if let Some(reason) = auto_reply_signal(mail, list.is_some()) {
        let sent = mail.date.map(|d| d.date_naive()).unwrap_or(received);
        let body = new_text(&mail.body);
        let text = format!("{}\n{}", mail.subject, body);
        return Classification {
            return_date: find_return_date(&text, sent),
            departure: find_departure(&body, sender),
            ..Classification::new(MessageClass::AutoReply, reason)
        };
    }
    if let Some(reason) = list {
        return Classification::new(MessageClass::Automated, reason);
    }
    if let Some(from) = mail.from.as_ref().filter(|f| is_robot(&f.address)) {
        return Classification::new(
            MessageClass::Automated,
            format!("sender {} is a role or robot address", from.address),
        );
    }
    let body = new_text(&mail.body);
    if let Some(phrase) = opt_out_phrase(&body) {
        return Classification::new(
            MessageClass::OptOut,
            format!("opt-out phrase \"{phrase}\" in the new text"),
        );
    }
    // What the person's own words say: a deferral is judged from the day they wrote, as a
    // return date is. A reply read long after it was written (a first sync of old mail) asks
    // nothing of the seller any more, and a deferral whose day has passed when it is read
    // is none: it is not read at all when no deferral can reach that far.
    let sent = mail.date.map(|d| d.date_naive()).unwrap_or(received);
    let fresh = sent >= received - chrono::Duration::days(FRESH_DAYS);
    Classification {
        deferral: fresh
            .then(|| find_deferral(&body, sent))
            .flatten()
            .filter(|d| d.from.is_none_or(|from| from > received)),
        departure: find_departure(&body, sender),
        asks: fresh && asks_something(&body),
        ..Classification::new(
            MessageClass::Reply,
            "no automatic signal: a person wrote it",
        )
    }
}

/// How old a reply may be, from the day it is read, for what it asks and when it asks to be
/// contacted again to matter: a deferral names a day at most this far ahead, and "waiting on
/// you" looks back at most a year.
const FRESH_DAYS: i64 = super::intent::MAX_DEFERRAL_DAYS;

/// Mailing-list and bulk mail: never a reply, never an opt-out.
fn list_signal(mail: &Mail) -> Option<String> {
    let s = &mail.signals;
    if s.list {
        return Some("List-Id or List-Unsubscribe header: list or bulk mail".into());
    }
    s.precedence
        .as_deref()
        .filter(|p| matches!(*p, "bulk" | "list" | "junk"))
        .map(|p| format!("Precedence: {p}"))
}

/// The header or subject that makes this an auto-reply. List mail needs a real auto-reply
/// signal: `Auto-Submitted: auto-generated` is what every newsletter robot writes.
fn auto_reply_signal(mail: &Mail, list: bool) -> Option<String> {
    let s = &mail.signals;
    if let Some(value) = s.auto_submitted.as_deref() {
        let replied = matches!(value, "auto-replied" | "vacation");
        if value != "no" && (replied || !list) {
            return Some(format!("Auto-Submitted: {value}"));
        }
    }
    if s.x_autoreply {
        return Some("X-Autoreply header".into());
    }
    if s.x_autorespond {
        return Some("X-Autorespond header".into());
    }
    if s.precedence.as_deref() == Some("auto_reply") {
        return Some("Precedence: auto_reply".into());
    }
    if s.exchange_suppress && s.exchange_rules_loop {
        return Some(
            "Exchange out-of-office headers (X-Auto-Response-Suppress with X-MS-Exchange-Inbox-Rules-Loop)"
                .into(),
        );
    }
    auto_reply_subject(&mail.subject).map(|prefix| {
        format!(
            "subject starts with \"{}\"",
            original_prefix(&mail.subject, prefix)
        )
    })
}

/// The part of `subject` that matched the lower-case `prefix`, in the subject's own case.
fn original_prefix(subject: &str, prefix: &str) -> String {
    let subject = subject.trim_start();
    let wanted = prefix.trim_end_matches(':').chars().count();
    subject.chars().take(wanted).collect()
}

/// Bounces and other delivery, disposition and feedback reports.
fn delivery_report(mail: &Mail) -> Option<Classification> {
    // Without the returned part, a report that answers the original names it in its headers.
    let returned = mail
        .returned_message_id
        .clone()
        .or_else(|| mail.in_reply_to.first().cloned())
        .or_else(|| mail.references.last().cloned());
    let bounce = |failed_recipient: Option<String>, reason: String| Classification {
        returned_message_id: returned.clone(),
        failed_recipient,
        ..Classification::new(MessageClass::Bounce, reason)
    };
    let automated = |reason: String| Some(Classification::new(MessageClass::Automated, reason));
    if let Some(report) = &mail.report {
        if report.feedback {
            return automated(
                "message/feedback-report part or complaint headers: an abuse or feedback report"
                    .into(),
            );
        }
        if report.delivery_status {
            if let Some(reason) = failure_reason(&report.recipients) {
                return Some(bounce(failed_recipient(report), reason));
            }
            if let Some(action) = report.recipients.iter().find_map(|r| r.action.as_deref()) {
                return automated(format!(
                    "message/delivery-status part with Action: {action}, not a failure"
                ));
            }
            // An empty report: the words of the mail system decide, as for non-standard ones.
        }
        if report.disposition {
            return automated("message/disposition-notification part: a read receipt".into());
        }
    }
    if mail.body.lines().any(|l| {
        l.trim_start_matches(|c: char| c == '>' || c.is_whitespace())
            .get(..14)
            .is_some_and(|name| name.eq_ignore_ascii_case("feedback-type:"))
    }) {
        return automated("Feedback-Type field in the text: an abuse or feedback report".into());
    }
    match mail.signals.report_type.as_deref() {
        Some("feedback-report") => {
            return automated(
                "multipart/report with report-type=feedback-report: an abuse or feedback report"
                    .into(),
            )
        }
        Some("disposition-notification") => {
            return automated(
                "multipart/report with report-type=disposition-notification: a read receipt".into(),
            )
        }
        _ => {}
    }
    non_standard_bounce(mail).map(|(class, reason)| match class {
        MessageClass::Bounce => bounce(None, reason),
        other => Classification::new(other, reason),
    })
}

/// True when a recipient block reports a failure: `Action: failed`, `Action: expired`
/// (delivery given up), or no Action at all and a 5.x.x Status.
fn is_failure(r: &RecipientStatus) -> bool {
    match r.action.as_deref() {
        Some(action) => matches!(action, "failed" | "expired"),
        None => r.status.as_deref().is_some_and(|s| s.starts_with('5')),
    }
}

/// Why the recipient blocks make a bounce, or `None` when none failed.
fn failure_reason(recipients: &[RecipientStatus]) -> Option<String> {
    let failed = recipients.iter().find(|r| is_failure(r))?;
    Some(match (failed.action.as_deref(), failed.status.as_deref()) {
        (Some(action), _) => format!("message/delivery-status part with Action: {action}"),
        (None, status) => format!(
            "message/delivery-status part with Status: {} and no Action",
            status.unwrap_or_default()
        ),
    })
}

/// The recipient that failed: of the failed recipients the report names (and those of a
/// report it returns, for a double bounce), the first with the most severe Status.
fn failed_recipient(report: &Report) -> Option<String> {
    let severity = |r: &RecipientStatus| -> [u32; 3] {
        let mut out = [0; 3];
        let status = r.status.as_deref().unwrap_or_default();
        for (slot, piece) in out.iter_mut().zip(status.split('.')) {
            *slot = piece.parse().unwrap_or(0);
        }
        out
    };
    let mut best: Option<&RecipientStatus> = None;
    for r in report
        .recipients
        .iter()
        .chain(report.returned_recipients.iter())
        .filter(|r| is_failure(r))
    {
        if best.is_none_or(|b| severity(r) > severity(b)) {
            best = Some(r);
        }
    }
    best.and_then(|r| r.address.clone())
}

/// Who wrote a message, when it was a mail system or another machine returning mail: the
/// words for the reason, and whether it is a mail system proper (mailer-daemon, postmaster,
/// the null sender), which writes little else than returned mail.
fn mail_system_writer(mail: &Mail) -> Option<(String, bool)> {
    let s = &mail.signals;
    if let Some(from) = &mail.from {
        if is_mail_system(&from.address) || from.name.as_deref().is_some_and(is_mail_system_name) {
            return Some((format!("mail system {}", from.address), true));
        }
        if s.list_software && is_list_manager(&from.address) {
            return Some((format!("list manager {}", from.address), false));
        }
        if s.returns_message && is_robot(&from.address) {
            return Some((format!("{} returning a message", from.address), false));
        }
        return None;
    }
    // No usable address: a bare `MAILER-DAEMON`, or the null sender `<>`.
    let header = s.from_header.trim();
    if header.is_empty() || header == "<>" {
        return (s.returns_message || s.content_type == "multipart/report")
            .then(|| ("the null sender".to_string(), true));
    }
    (is_mail_system(header) || is_mail_system_name(header))
        .then(|| (format!("mail system {header}"), true))
}

/// Delivery-status fields in the text: a report without its own part, or a forwarded one.
/// The first `Action:` value, when a `Status:` or `Final-Recipient:` line comes with it.
fn text_report_action(body: &str) -> Option<String> {
    let mut action = None;
    let mut recipient_fields = false;
    for line in body.lines() {
        let line = line.trim_start_matches(|c: char| c == '>' || c.is_whitespace());
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim_end().to_ascii_lowercase();
        let value = value.trim().to_ascii_lowercase();
        match name.as_str() {
            "action" if action.is_none() => {
                let word = value.split([' ', '(', ';']).next().unwrap_or_default();
                if matches!(
                    word,
                    "failed" | "expired" | "delayed" | "delivered" | "relayed" | "expanded"
                ) {
                    action = Some(word.to_string());
                }
            }
            "status" | "final-recipient" | "original-recipient" => recipient_fields = true,
            _ => {}
        }
    }
    action.filter(|_| recipient_fields)
}

/// A bounce or notice without a usable delivery-status part, judged by who wrote it and
/// what it says. A failure subject counts only at the start of the subject, and only with a
/// mail-system writer or failure words: "Re: Undeliverable: …" is a person's.
fn non_standard_bounce(mail: &Mail) -> Option<(MessageClass, String)> {
    let text_action = text_report_action(&mail.body);
    let by_mail_system = mail_system_writer(mail);
    let mail_system = by_mail_system.as_ref().is_some_and(|(_, strong)| *strong);
    let writer = by_mail_system.map(|(who, _)| who).or_else(|| {
        if text_action.is_some() {
            Some("delivery-status fields in the text".to_string())
        } else if mail.signals.content_type == "multipart/report" {
            Some("a multipart/report".to_string())
        } else {
            None
        }
    });
    let subject = failure_subject(&mail.subject).map(|p| original_prefix(&mail.subject, p));
    let text = mail.body.to_lowercase();
    let failure = find_word(&text, FAILURE_WORDS);
    let Some(writer) = writer else {
        // A person's message: a failure subject with failure words in the text is a
        // bounce forwarded or pasted; the subject alone is not.
        return match (subject, failure) {
            (Some(subject), Some(word)) => Some((
                MessageClass::Bounce,
                format!("subject starts with \"{subject}\" and the text says \"{word}\""),
            )),
            _ => None,
        };
    };
    let bounce = |what: String| Some((MessageClass::Bounce, format!("{what} (from {writer})")));
    let automated =
        |what: String| Some((MessageClass::Automated, format!("{what} (from {writer})")));
    match text_action.as_deref() {
        Some(action @ ("failed" | "expired")) => {
            return bounce(format!("Action: {action} in the text"));
        }
        Some(action) => return automated(format!("Action: {action} in the text, not a failure")),
        None => {}
    }
    if let Some(word) = find_word(&text, FINAL_WORDS) {
        return bounce(format!("final failure words \"{word}\""));
    }
    let lower_subject = mail.subject.trim_start().to_lowercase();
    if lower_subject.starts_with("warning") || lower_subject.contains("delay") {
        return automated(format!("delay notice \"{}\"", mail.subject.trim()));
    }
    if let Some(word) = find_word(&text, DELAY_WORDS) {
        return automated(format!("delay words \"{word}\""));
    }
    if let Some(subject) = subject {
        return bounce(format!("subject starts with \"{subject}\""));
    }
    if let Some(word) = failure {
        return bounce(format!("failure words \"{word}\""));
    }
    if let Some(word) = find_word(&text, DELIVERED_WORDS) {
        return automated(format!("delivery notice \"{word}\""));
    }
    if mail_system {
        // Mail systems write to a sender for little else than returned mail; a notice in
        // words not listed here is most likely one.
        return bounce("a notice with no delay or delivery words".to_string());
    }
    automated("a notice without failure words".to_string())
}

/// The first of `words` in `text`.
fn find_word(text: &str, words: &[&'static str]) -> Option<&'static str> {
    words.iter().copied().find(|w| text.contains(w))
}

const FAILURE_SUBJECTS: &[&str] = &[
    "undeliverable",
    "undelivered",
    "non-deliverable",
    "nondeliverable",
    "non delivery",
    "non-delivery",
    "delivery status notification (failure)",
    "mail delivery failed",
    "mail delivery failure",
    "message delivery failure",
    "delivery failure",
    "delivery failed",
    "permanent delivery failure",
    "failure notice",
    "failure delivery",
    "failed delivery",
    "delivery notification: delivery has failed",
    "returned mail",
    "mail failed",
    "mail failure",
    "mail could not be delivered",
    "message could not be delivered",
    "message not delivered",
    "mail not delivered",
    "there was an error sending your mail",
    "mail system error",
    "non remis",
    "non recapitabile",
    "unzustellbar",
    "nicht zustellbar",
    "kan ikke leveres",
    "kunne ikke leveres",
    "ikke levert",
    "kunde inte levereras",
    "olevererbart",
    "ej levererat",
    "kunne ikke afleveres",
    "kan ikke afleveres",
    "onbestelbaar",
];

/// Words only a final failure uses: they win over delay words in the same notice.
const FINAL_WORDS: &[&str] = &[
    "not going to try again",
    "will not be retried",
    "won't be retried",
    "gave up",
    "giving up",
    "given up",
    "permanent fatal error",
    "permanent error",
    "permanent failure",
    "permanently",
    "deleted from queue",
    "removed from the queue",
];

/// Words of a delivery failure, written by a mail system.
const FAILURE_WORDS: &[&str] = &[
    "could not be delivered",
    "couldn't be delivered",
    "cannot be delivered",
    "can't be delivered",
    "can not be delivered",
    "could not deliver",
    "couldn't deliver",
    "unable to deliver",
    "not able to deliver",
    "wasn't able to deliver",
    "failed to deliver",
    "could not be sent",
    "was not delivered",
    "wasn't delivered",
    "were not delivered",
    "delivery has failed",
    "delivery failed",
    "delivery failure",
    "delivery to the following recipient",
    "did not reach the following recipient",
    "did not reach",
    "trouble delivering",
    "error sending",
    "fatal error",
    "permanent",
    "undeliverable",
    "undelivered",
    "returned to sender",
    "returning message to sender",
    "returning to sender",
    "user unknown",
    "unknown user",
    "no such user",
    "no such recipient",
    "no such mailbox",
    "no such address",
    "unknown recipient",
    "recipient unknown",
    "invalid recipient",
    "recipient not found",
    "address not found",
    "recipient name is not recognized",
    "not listed in",
    "mailbox not found",
    "mailbox unavailable",
    "mailbox is full",
    "mailbox full",
    "over quota",
    "quota exceeded",
    "does not exist",
    "doesn't exist",
    "account is disabled",
    "account has been disabled",
    "address rejected",
    "recipient rejected",
    "rejected",
    "refused",
    "host unknown",
    "unknown host",
    "host not found",
    "no valid recipients",
    "failed addresses",
    "failed recipient",
    "in the queue too long",
    "was aborted",
    "could not find a gateway",
    "mail loop",
    "loop detected",
    "loop alert",
    "duplicated message-id",
    "hop count exceeded",
    "too many hops",
    "not a member",
    "are not member",
    "too large",
    "size limit",
    "malformed",
    "550 ",
    "551 ",
    "552 ",
    "553 ",
    "554 ",
    "5.1.1",
    "kunne ikke leveres",
    "kunde inte levereras",
    "kunne ikke afleveres",
    "unzustellbar",
    "nicht zugestellt",
    "non recapitabile",
    "n'a pas pu être remis",
    "送信できませんでした",
    "配信できませんでした",
    "届きませんでした",
];

/// Words of a notice that mail was delivered or passed on.
const DELIVERED_WORDS: &[&str] = &[
    "successfully delivered",
    "delivered successfully",
    "delivery was successful",
    "delivery succeeded",
    "was delivered",
    "has been delivered",
    "have been delivered",
    "was relayed",
    "has been relayed",
];

/// Words of a delay notice: the mail system is still trying.
const DELAY_WORDS: &[&str] = &[
    "warning only",
    "do not need to resend",
    "no need to resend",
    "will be retried",
    "will retry",
    "will continue trying",
    "will keep trying",
    "keep trying",
    "still trying",
    "still being retried",
    "not yet been delivered",
    "has been delayed",
    "delivery delayed",
    "delivery is delayed",
    "transient non-fatal",
];

/// True when a message may be a bounce, judged from its sender and subject alone (to decide
/// whether its text is worth fetching). A sender without an address (`<>`, a bare
/// `MAILER-DAEMON`) may be one too.
pub fn may_be_bounce(from: &str, subject: &str) -> bool {
    !from.contains('@') || is_mail_system(from) || has_failure_subject(subject)
}

/// Senders of delivery reports: mailer-daemon, postmaster (also `post_master`), Exchange's
/// system mailbox.
pub fn is_mail_system(address: &str) -> bool {
    let local = local_part(address);
    let compact: String = local
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    compact.contains("mailerdaemon")
        || compact == "postmaster"
        || compact.starts_with("microsoftexchange")
        || compact == "mailmaster"
}

/// Display names mail systems sign their notices with.
fn is_mail_system_name(name: &str) -> bool {
    let name = name.to_lowercase();
    [
        "mail delivery",
        "mailer-daemon",
        "mailer daemon",
        "postmaster",
        "mail administrator",
        "mail system",
        "delivery status",
    ]
    .iter()
    .any(|n| name.contains(n))
}

/// Administrative addresses of mailing-list software: `list-admin@`, `owner-list@`, …
fn is_list_manager(address: &str) -> bool {
    let local = local_part(address);
    ["-admin", "-owner", "-request", "-bounces"]
        .iter()
        .any(|s| local.ends_with(s))
        || local.starts_with("owner-")
}

/// True for subjects mail systems put on bounces ("Undeliverable: …"), at the start only.
pub fn has_failure_subject(subject: &str) -> bool {
    failure_subject(subject).is_some()
}

fn failure_subject(subject: &str) -> Option<&'static str> {
    let lower = subject.trim_start().to_lowercase();
    FAILURE_SUBJECTS
        .iter()
        .copied()
        .find(|s| lower.starts_with(s))
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
    "abwesend",
    "automatische antwort",
    "automatische abwesenheitsnotiz",
    "automatische rückantwort",
    "außer haus",
    "nicht im büro",
    "réponse automatique",
    "absence du bureau",
    "respuesta automática",
    "risposta automatica",
    "automatisch antwoord",
    "afwezig",
    "automaattinen vastaus",
    "automaattivastaus",
    "poissa",
    "lomalla",
    "lomavastaus",
];

fn auto_reply_subject(subject: &str) -> Option<&'static str> {
    let lower = subject.trim_start().to_lowercase();
    AUTO_REPLY_SUBJECTS
        .iter()
        .copied()
        .find(|p| lower.starts_with(p))
}

/// Ways people ask not to be contacted, in en, nb, sv, da, de and fi.
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
    "keine weiteren nachrichten",
    "keine weitere kontaktaufnahme",
    "von weiteren kontaktaufnahmen",
    "nicht weiter kontaktieren",
    "schreiben sie mir nicht mehr",
    "schreiben sie uns nicht mehr",
    "löschen sie meine",
    "löschen sie unsere",
    "keine weiteren zusendungen",
    "widerspreche der verarbeitung",
    "widerspreche der nutzung",
    "widerspreche der verwendung",
    // Finnish: imperatives in the plural (polite) and singular, and "I/we do not want"
    // ("älkää lähettäkö laskua vielä" is about an invoice: the phrases name more messages)
    "älkää lähettäkö enää",
    "älkää lähettäkö meille enää",
    "älkää lähettäkö minulle enää",
    "älkää lähettäkö lisää",
    "älä lähetä enää",
    "älä lähetä minulle enää",
    "älkää ottako enää yhteyttä",
    "älkää ottako yhteyttä",
    "älä ota enää yhteyttä",
    "älä ota yhteyttä",
    "poistakaa minut",
    "poistakaa meidät",
    "poistakaa osoitteeni",
    "poista minut",
    "poista meidät",
    "poista osoitteeni",
    "en halua enää viestejä",
    "en halua enää sähköposteja",
    "en halua enää yhteydenottoja",
    "emme halua enää viestejä",
    "emme halua enää yhteydenottoja",
    "en halua vastaanottaa",
    "emme halua vastaanottaa",
    "ei enää viestejä",
    "lopettakaa viestien",
    "lopeta viestien",
    "en toivo yhteydenottoja",
    "emme toivo yhteydenottoja",
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
    // Finnish negates with a verb: "älä poista minua", "älkää poistako".
    "älä",
    "älkää",
];

/// The phrase with which the new text (quotes already stripped) asks not to be contacted
/// again. The subject is never read: "Re: Unsubscribe from the newsletter?" is a question.
pub fn opt_out_phrase(new_text: &str) -> Option<&'static str> {
    // A phrase wrapped over two lines by the mail client is still one phrase.
    let text = new_text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    // Every phrase is looked for in one pass over the text; the first phrase of the list
    // found at a word start and not negated is the one named.
    static SEARCH: std::sync::LazyLock<aho_corasick::AhoCorasick> =
        std::sync::LazyLock::new(|| {
            aho_corasick::AhoCorasick::new(OPT_OUT_PHRASES).expect("the opt-out phrases are few")
        });
    SEARCH
        .find_overlapping_iter(&text)
        .filter(|found| at_word_start(&text, found.start()))
        .map(|found| found.pattern().as_usize())
        .min()
        .map(|phrase| OPT_OUT_PHRASES[phrase])
}

/// A phrase found at `begin` in `text` counts at a word start, and when the words just
/// before it do not negate it ("afmeld" must not match inside "tilbagemelding"; "don't
/// unsubscribe" asks for the opposite). Inflections after it count: "afmeldt",
/// "unsubscribed", "avregistrere".
fn at_word_start(text: &str, begin: usize) -> bool {
    let before = &text[..begin];
    before
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_alphanumeric())
        && !negated(before)
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
    use crate::mail::parse::parse;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 18).unwrap()
    }

    /// A message from `from` with `headers` (each ending in a line break) and `body`.
    fn mail(from: &str, subject: &str, headers: &str, body: &str) -> Mail {
        let raw = format!(
            "From: {from}\r\nTo: Kari <kari@fjordsalg.no>\r\nSubject: {subject}\r\n\
             Message-ID: <m1@example.no>\r\nIn-Reply-To: <a1@fjordsalg.no>\r\n\
             Date: Wed, 18 Nov 2026 09:00:00 +0100\r\n{headers}\r\n{body}"
        );
        parse(raw.as_bytes()).expect("parses")
    }

    fn class_of(m: &Mail) -> MessageClass {
        classify(m, day()).class
    }

    #[test]
    fn class_names_are_serde_names() {
        for class in [
            MessageClass::Bounce,
            MessageClass::AutoReply,
            MessageClass::OptOut,
            MessageClass::Reply,
            MessageClass::Automated,
        ] {
            let json = serde_json::to_string(&class).unwrap();
            assert_eq!(json, format!("\"{class}\""));
            assert_eq!(serde_json::from_str::<MessageClass>(&json).unwrap(), class);
        }
        assert_eq!(MessageClass::AutoReply.to_string(), "auto_reply");
    }

    #[test]
    fn opt_out_phrases_need_a_word_start() {
        assert_eq!(
            opt_out_phrase("Vennligst avregistrer meg."),
            Some("avregistrer")
        );
        assert!(opt_out_phrase("Please take me off your list").is_some());
        assert_eq!(opt_out_phrase("Tak for tilbagemeldingen, vi ses."), None);
        assert_eq!(opt_out_phrase("Thanks, let's talk Thursday."), None);
        assert_eq!(
            opt_out_phrase("Ei kiitos. Älä ota enää\r\nyhteyttä tästä asiasta."),
            Some("älä ota enää yhteyttä"),
            "wrapped by the mail client"
        );
        assert_eq!(
            opt_out_phrase("Please don't unsubscribe me, I am interested."),
            None
        );
        assert!(
            opt_out_phrase("Ikke kontakt meg igjen.").is_some(),
            "a phrase that starts with a negation"
        );
    }

    /// (subject, extra headers, text, class, return date) from a Finnish or German prospect.
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        MessageClass,
        Option<(i32, u32, u32)>,
    );

    fn check_cases(from: &str, cases: &[Case]) {
        let mut wrong = Vec::new();
        for (subject, headers, text, class, back) in cases {
            let found = classify(&mail(from, subject, headers, text), day());
            let back = back.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d));
            if found.class != *class || found.return_date != back {
                wrong.push(format!(
                    "{subject:?} / {text:?}: {:?} {:?} ({}), expected {class:?} {back:?}",
                    found.class, found.return_date, found.reason
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn finnish_auto_replies_opt_outs_and_replies() {
        use MessageClass::{AutoReply, OptOut, Reply};
        check_cases(
            "Mikko Virtanen <mikko.virtanen@saimaanvesi.fi>",
            &[
                // Outlook's rule-based replies carry no header: the subject decides.
                (
                    "Automaattinen vastaus: Tarjous",
                    "",
                    "Olen lomalla ja palaan toimistolle 3.12.",
                    AutoReply,
                    Some((2026, 12, 3)),
                ),
                (
                    "Poissa toimistolta: Re: Tarjous",
                    "",
                    "Olen poissa toimistolta, takaisin maanantaina 7.12.",
                    AutoReply,
                    Some((2026, 12, 7)),
                ),
                (
                    "Lomalla",
                    "Auto-Submitted: auto-replied\r\n",
                    "Palaan 3. joulukuuta. Kiireellisissä asioissa ota yhteyttä Annaan.",
                    AutoReply,
                    Some((2026, 12, 3)),
                ),
                (
                    "Re: Tarjous",
                    "X-Autoreply: yes\r\n",
                    "Olen tavoitettavissa 30.11.2026 alkaen.",
                    AutoReply,
                    Some((2026, 11, 30)),
                ),
                (
                    "Automaattivastaus",
                    "",
                    "Olen koulutuksessa, vastaan viesteihin viiveellä.",
                    AutoReply,
                    None,
                ),
                (
                    "Re: Tarjous",
                    "",
                    "Ei kiitos, älä ota enää yhteyttä.",
                    OptOut,
                    None,
                ),
                (
                    "Re: Tarjous",
                    "",
                    "Poistakaa minut listaltanne.",
                    OptOut,
                    None,
                ),
                (
                    "Re: Tarjous",
                    "",
                    "En halua enää viestejä teiltä, kiitos.",
                    OptOut,
                    None,
                ),
                (
                    "Re: Tarjous",
                    "",
                    "Älkää lähettäkö enää tarjouksia tähän osoitteeseen.",
                    OptOut,
                    None,
                ),
                // Negatives: a person answering, an invoice, a question about a holiday.
                (
                    "Re: Tarjous",
                    "",
                    "Kiitos tarjouksesta. Palataan asiaan ensi viikolla, sopiiko torstai?",
                    Reply,
                    None,
                ),
                (
                    "Re: Tarjous",
                    "",
                    "Älkää lähettäkö laskua ennen toimitusta, muuten kaikki hyvin.",
                    Reply,
                    None,
                ),
                (
                    "Re: Lomalla joulukuussa?",
                    "",
                    "Olen lomalla 3.12. asti, palaan asiaan sen jälkeen.",
                    Reply,
                    None,
                ),
                (
                    "Re: Tarjous",
                    "",
                    "Älä poista minut jakelusta, haluan kuulla uutiset jatkossakin.",
                    Reply,
                    None,
                ),
            ],
        );
    }

    #[test]
    fn german_auto_replies_opt_outs_and_replies() {
        use MessageClass::{AutoReply, OptOut, Reply};
        check_cases(
            "Klaus Weber <k.weber@bergbau-gmbh.de>",
            &[
                (
                    "Abwesend: Angebot",
                    "",
                    "Ich bin bis einschließlich 27.11. nicht im Büro.",
                    AutoReply,
                    Some((2026, 11, 27)),
                ),
                (
                    "Automatische Rückantwort: Angebot",
                    "",
                    "Ab Montag, 30. November bin ich wieder erreichbar.",
                    AutoReply,
                    Some((2026, 11, 30)),
                ),
                (
                    "Außer Haus",
                    "Auto-Submitted: auto-replied\r\n",
                    "Ich bin am 3. Dezember zurück.",
                    AutoReply,
                    Some((2026, 12, 3)),
                ),
                (
                    "Re: Angebot",
                    "X-Autoreply: yes\r\n",
                    "Ich bin vom 23.11. bis zum 4.12.2026 im Urlaub.",
                    AutoReply,
                    Some((2026, 12, 4)),
                ),
                (
                    "Nicht im Büro: Angebot",
                    "",
                    "Am 3.12. bin ich wieder da.",
                    AutoReply,
                    Some((2026, 12, 3)),
                ),
                (
                    "Re: Angebot",
                    "",
                    "Bitte löschen Sie meine Daten aus Ihrem System.",
                    OptOut,
                    None,
                ),
                (
                    "Re: Angebot",
                    "",
                    "Ich widerspreche der Verwendung meiner Daten zu Werbezwecken.",
                    OptOut,
                    None,
                ),
                (
                    "Re: Angebot",
                    "",
                    "Bitte schreiben Sie mir nicht mehr.",
                    OptOut,
                    None,
                ),
                (
                    "Re: Angebot",
                    "",
                    "Bitte sehen Sie von weiteren Kontaktaufnahmen ab.",
                    OptOut,
                    None,
                ),
                // Negatives.
                (
                    "Re: Angebot",
                    "",
                    "Bitte nicht abmelden, ich habe weiterhin Interesse.",
                    Reply,
                    None,
                ),
                (
                    "Re: Angebot",
                    "",
                    "Danke, ich bin ab dem 3. Dezember wieder im Büro, dann sprechen wir.",
                    Reply,
                    None,
                ),
                (
                    "Re: Abwesenheit im Dezember",
                    "",
                    "Ich widerspreche der Annahme, dass wir im Dezember nicht bestellen.",
                    Reply,
                    None,
                ),
            ],
        );
    }

    #[test]
    fn opt_out_is_read_in_the_new_text_only_never_in_the_subject_or_quotes() {
        let subject_only = mail(
            "Ingrid <ingrid@fjordkraft.no>",
            "Re: Unsubscribe from the newsletter?",
            "",
            "Yes, send me the offer.\r\n",
        );
        assert_eq!(class_of(&subject_only), MessageClass::Reply);
        let quoted = mail(
            "Ingrid <ingrid@fjordkraft.no>",
            "Re: Tilbud",
            "",
            "Sounds good, call me.\r\n\r\nOn Tue, Kari wrote:\r\n> Reply \"remove me\" if you want no more mail.\r\n",
        );
        assert_eq!(class_of(&quoted), MessageClass::Reply);
        let asked = mail(
            "Ingrid <ingrid@fjordkraft.no>",
            "Re: Tilbud",
            "",
            "Please remove me from your list.\r\n",
        );
        let found = classify(&asked, day());
        assert_eq!(found.class, MessageClass::OptOut);
        assert_eq!(found.reason, "opt-out phrase \"remove me\" in the new text");
    }

    #[test]
    fn failure_subjects_count_at_the_start_only() {
        assert!(has_failure_subject("Undeliverable: Tilbud på rammeavtale"));
        assert!(has_failure_subject(
            "Delivery Status Notification (Failure)"
        ));
        assert!(!has_failure_subject("Re: Tilbud"));
        assert!(!has_failure_subject("Re: Undeliverable: Tilbud"));
        assert!(!has_failure_subject("Fwd: Undeliverable: Tilbud"));
    }

    #[test]
    fn a_person_answering_about_an_undeliverable_notice_is_a_reply() {
        for subject in ["Re: Undeliverable: Tilbud", "Fwd: Undeliverable: Tilbud"] {
            let m = mail(
                "Ingrid <ingrid@fjordkraft.no>",
                subject,
                "",
                "Our old address could not be delivered to, use this one.\r\n",
            );
            let found = classify(&m, day());
            assert_eq!(
                found.class,
                MessageClass::Reply,
                "{subject}: {}",
                found.reason
            );
        }
        // The same subject alone, from a person, with no failure words: still a person.
        let m = mail(
            "Ingrid <ingrid@fjordkraft.no>",
            "Undeliverable: Tilbud",
            "",
            "Hei, fikk du svaret mitt?\r\n",
        );
        assert_eq!(class_of(&m), MessageClass::Reply);
        // From a mail system it is a bounce.
        let m = mail(
            "postmaster@fjordkraft.no",
            "Undeliverable: Tilbud",
            "",
            "Your message to ingrid@fjordkraft.no couldn't be delivered.\r\n",
        );
        let found = classify(&m, day());
        assert_eq!(found.class, MessageClass::Bounce);
        assert_eq!(found.failed_recipient, None, "no machine-readable report");
    }

    #[test]
    fn list_and_bulk_mail_is_automated_even_with_opt_out_words() {
        for header in [
            "List-Id: <news.fjordkraft.no>\r\n",
            "List-Unsubscribe: <mailto:leave@fjordkraft.no>\r\n",
            "Precedence: bulk\r\n",
            "Precedence: list\r\n",
            "Precedence: junk\r\n",
            "List-Id: <news.fjordkraft.no>\r\nAuto-Submitted: auto-generated\r\n",
        ] {
            let m = mail(
                "Ingrid <ingrid@fjordkraft.no>",
                "Re: Tilbud",
                header,
                "Click here to unsubscribe.\r\n",
            );
            let found = classify(&m, day());
            assert_eq!(
                found.class,
                MessageClass::Automated,
                "{header:?}: {}",
                found.reason
            );
        }
    }

    #[test]
    fn list_mail_with_a_real_auto_reply_signal_is_an_auto_reply() {
        for (header, subject) in [
            ("List-Id: <x.example>\r\nAuto-Submitted: auto-replied\r\n", "Re: Tilbud"),
            ("Precedence: bulk\r\nX-Autoreply: yes\r\n", "Re: Tilbud"),
            (
                "List-Id: <x.example>\r\nX-Auto-Response-Suppress: All\r\nX-MS-Exchange-Inbox-Rules-Loop: ingrid@fjordkraft.no\r\n",
                "Re: Tilbud",
            ),
            ("Precedence: list\r\n", "Automatic reply: Tilbud"),
            ("Precedence: auto_reply\r\n", "Re: Tilbud"),
        ] {
            let m = mail(
                "Ingrid <ingrid@fjordkraft.no>",
                subject,
                header,
                "I am away until 3 December.\r\n",
            );
            let found = classify(&m, day());
            assert_eq!(found.class, MessageClass::AutoReply, "{header:?}: {}", found.reason);
            assert_eq!(found.return_date, NaiveDate::from_ymd_opt(2026, 12, 3));
        }
    }

    #[test]
    fn reasons_name_what_decided() {
        let m = mail(
            "Ingrid <ingrid@fjordkraft.no>",
            "Automatic reply: Tilbud",
            "",
            "Away.\r\n",
        );
        assert_eq!(
            classify(&m, day()).reason,
            "subject starts with \"Automatic reply\""
        );
        let m = mail(
            "Ingrid <ingrid@fjordkraft.no>",
            "Re: Tilbud",
            "Auto-Submitted: auto-replied\r\n",
            "Away.\r\n",
        );
        assert_eq!(classify(&m, day()).reason, "Auto-Submitted: auto-replied");
        let m = mail(
            "Ingrid <ingrid@fjordkraft.no>",
            "Re: Tilbud",
            "",
            "Ja takk!\r\n",
        );
        assert_eq!(
            classify(&m, day()).reason,
            "no automatic signal: a person wrote it"
        );
    }

    const DSN: &str = "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
        --b\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n\
        --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.no\r\n\r\nFIELDS\
        --b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <a1@fjordsalg.no>\r\n\r\n--b--\r\n";

    fn dsn(fields: &str) -> Classification {
        let raw = format!(
            "From: Mail Delivery System <MAILER-DAEMON@mx.example.no>\r\nTo: kari@fjordsalg.no\r\nSubject: Report\r\n{}",
            DSN.replace("FIELDS", fields)
        );
        classify(&parse(raw.as_bytes()).expect("parses"), day())
    }

    #[test]
    fn delivery_status_parts_are_read_recipient_by_recipient() {
        let found = dsn(
            "Final-Recipient: rfc822; <Ola@Example.no>\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n",
        );
        assert_eq!(found.class, MessageClass::Bounce);
        assert_eq!(found.failed_recipient.as_deref(), Some("ola@example.no"));
        assert_eq!(
            found.returned_message_id.as_deref(),
            Some("a1@fjordsalg.no")
        );
        assert_eq!(
            found.reason,
            "message/delivery-status part with Action: failed"
        );

        let found = dsn("Final-Recipient: RFC822;ola@example.no\r\nAction: failed\r\n\r\n");
        assert_eq!(found.failed_recipient.as_deref(), Some("ola@example.no"));

        // Several recipients: the first that failed, not the first listed.
        let found = dsn(
            "Final-Recipient: rfc822; ok@example.no\r\nAction: delivered\r\nStatus: 2.0.0\r\n\r\n\
             Final-Recipient: rfc822; gone@example.no\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n",
        );
        assert_eq!(found.failed_recipient.as_deref(), Some("gone@example.no"));

        let found = dsn(
            "Final-Recipient: rfc822; late@example.no\r\nAction: expired\r\nStatus: 4.4.7\r\n\r\n",
        );
        assert_eq!(
            found.class,
            MessageClass::Bounce,
            "expired: delivery was given up"
        );
        assert_eq!(found.failed_recipient.as_deref(), Some("late@example.no"));

        let found = dsn(
            "Final-Recipient: rfc822; slow@example.no\r\nAction: delayed\r\nStatus: 4.4.1\r\n\r\n",
        );
        assert_eq!(found.class, MessageClass::Automated, "{}", found.reason);
    }

    #[test]
    fn feedback_reports_are_automated() {
        let raw = "From: abuse@isp.example\r\nTo: kari@fjordsalg.no\r\nSubject: Re: Tilbud\r\n\
            MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\r\n\r\n\
            --b\r\nContent-Type: text/plain\r\n\r\nThis is an abuse report. Please remove me.\r\n\
            --b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nVersion: 1\r\n\r\n\
            --b\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <a1@fjordsalg.no>\r\nSubject: Tilbud\r\n\r\nHei\r\n--b--\r\n";
        let found = classify(&parse(raw.as_bytes()).unwrap(), day());
        assert_eq!(found.class, MessageClass::Automated, "{}", found.reason);
    }

    #[test]
    fn exchange_did_not_reach_notices_are_bounces() {
        let m = mail(
            "Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@fjordkraft.no>",
            "Undeliverable: Tilbud",
            "",
            "Your message did not reach some or all of the intended recipients.\r\n",
        );
        assert_eq!(class_of(&m), MessageClass::Bounce);
    }

    #[test]
    fn a_mail_system_notice_is_a_bounce_whatever_its_subject_says() {
        // A carrier's gateway answers as post_master@, in the thread, with "Re:".
        let m = mail(
            "post_master@sms.example.net",
            "Re:Tilbud",
            "",
            "Error: Invalid user address\r\n550 - Requested action not taken: no such user here\r\n",
        );
        let found = classify(&m, day());
        assert_eq!(found.class, MessageClass::Bounce, "{}", found.reason);
        assert_eq!(
            found.returned_message_id.as_deref(),
            Some("a1@fjordsalg.no")
        );
        // A bare MAILER-DAEMON with no address at all.
        let m = mail(
            "MAILER-DAEMON",
            "There was an error sending your mail",
            "Auto-Submitted: auto-replied\r\n",
            "The following recipients returned permanent errors: ola@example.no.\r\n",
        );
        assert_eq!(class_of(&m), MessageClass::Bounce);
    }

    #[test]
    fn delay_and_delivery_notices_are_automated() {
        let m = mail(
            "MAILER-DAEMON@mx.example.no (Mail Delivery System)",
            "Delayed Mail (still being retried)",
            "",
            "THIS IS A WARNING ONLY. Your message could not be delivered for more than 4 hours.\r\n",
        );
        let found = classify(&m, day());
        assert_eq!(found.class, MessageClass::Automated, "{}", found.reason);
        let m = mail(
            "Mail Delivery System <mailer-daemon@mx.example.no>",
            "Notice",
            "",
            "Reporting-MTA: dns; mx.example.no\r\n\r\nFinal-Recipient: rfc822; ola@example.no\r\nAction: delayed\r\nStatus: 4.4.1\r\n",
        );
        let found = classify(&m, day());
        assert_eq!(found.class, MessageClass::Automated, "{}", found.reason);
    }

    #[test]
    fn a_forwarded_report_in_the_text_is_a_bounce() {
        let m = mail(
            "Ingrid <ingrid@fjordkraft.no>",
            "Fwd: Returned mail: see transcript for details",
            "",
            "See below.\r\n\r\n> Final-Recipient: RFC822; ola@example.no\r\n> Action: failed\r\n> Status: 5.1.1\r\n",
        );
        let found = classify(&m, day());
        assert_eq!(found.class, MessageClass::Bounce, "{}", found.reason);
        assert_eq!(found.failed_recipient, None, "only a report part names it");
    }

    #[test]
    fn microsoft_complaint_reports_are_automated() {
        let raw = "From: staff@hotmail.example\r\nTo: kari@fjordsalg.no\r\nSubject: complaint about message\r\n\
            MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
            --b\r\nContent-Type: text/plain\r\n\r\nPlease stop.\r\n\
            --b\r\nContent-Type: message/rfc822\r\n\r\nX-HmXmrOriginalRecipient: <ola@hotmail.example>\r\n\
            Message-ID: <a1@fjordsalg.no>\r\nSubject: Tilbud\r\n\r\nHei\r\n--b--\r\n";
        let found = classify(&parse(raw.as_bytes()).unwrap(), day());
        assert_eq!(found.class, MessageClass::Automated, "{}", found.reason);
    }

    #[test]
    fn a_double_bounce_names_the_recipient_of_the_returned_report() {
        let inner = "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.no>\r\nSubject: Returned mail\r\n\
            MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"i\"\r\n\r\n\
            --i\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.no\r\n\r\n\
            Final-Recipient: rfc822; ola@example.no\r\nAction: failed\r\nStatus: 5.3.5\r\n\r\n--i--\r\n";
        let raw = format!(
            "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.no>\r\nTo: postmaster@mx.example.no\r\n\
             Subject: Postmaster notify\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"o\"\r\n\r\n\
             --o\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.no\r\n\r\n\
             Final-Recipient: rfc822; spammer@example.com\r\nAction: failed\r\nStatus: 5.0.0\r\n\r\n\
             --o\r\nContent-Type: message/rfc822\r\n\r\n{inner}--o--\r\n"
        );
        let found = classify(&parse(raw.as_bytes()).unwrap(), day());
        assert_eq!(found.class, MessageClass::Bounce);
        assert_eq!(found.failed_recipient.as_deref(), Some("ola@example.no"));
    }

    #[test]
    fn a_report_after_an_indented_boundary_is_only_text() {
        let raw = "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.no>\r\nTo: kari@fjordsalg.no\r\n\
            Subject: Returned mail: User unknown\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
            --b\r\nContent-Type: text/plain\r\n\r\nThe following addresses had delivery problems.\r\n\r\n\
            \x20--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.no\r\n\r\n\
            Final-Recipient: rfc822; ola@example.no\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b--\r\n";
        let found = classify(&parse(raw.as_bytes()).unwrap(), day());
        assert_eq!(found.class, MessageClass::Bounce, "{}", found.reason);
        assert_eq!(found.failed_recipient, None, "{}", found.reason);
    }

    #[test]
    fn an_auto_submitted_comment_is_not_part_of_the_keyword() {
        let m = mail(
            "Mette <mette@dansktransport.dk>",
            "Ferie",
            "Auto-Submitted: auto-replied (zimbra; vacation)\r\nPrecedence: bulk\r\n",
            "Jeg er tilbage mandag.\r\n",
        );
        let found = classify(&m, day());
        assert_eq!(found.class, MessageClass::AutoReply, "{}", found.reason);
        assert_eq!(found.reason, "Auto-Submitted: auto-replied");
    }

    #[test]
    fn nothing_panics_on_mangled_input() {
        let samples: [&[u8]; 3] = [
            DSN.as_bytes(),
            "From: a@b\r\nSubject: Æøå\r\n\r\nMessage-ID: Рекомендуем\r\nMessage-ID:<\r\n".as_bytes(),
            b"Content-Type: multipart/report; boundary=x\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: ;\r\n Action:\r\n",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for sample in samples {
            for cut in 0..=sample.len() {
                if let Some(m) = parse(&sample[..cut]) {
                    let _ = classify(&m, day());
                }
            }
            for _ in 0..200 {
                let mut bytes = sample.to_vec();
                for _ in 0..8 {
                    let at = (next() as usize) % bytes.len();
                    bytes[at] = next() as u8;
                }
                if let Some(m) = parse(&bytes) {
                    let _ = classify(&m, day());
                }
            }
        }
    }
}
