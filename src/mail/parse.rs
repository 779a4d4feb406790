//! From raw message bytes to [`Mail`], the few facts nudge needs. Only this file knows
//! mail-parser. Never panics; a message without headers gives `None`.

use std::collections::HashSet;

use chrono::{DateTime, TimeZone, Utc};
use mail_parser::{MessageParser, MimeHeaders, PartType};

/// Upper bound on the body text kept for classification and quoting.
const MAX_BODY_CHARS: usize = 16 * 1024;
/// Upper bound on a display name: no person's name is longer, and a stranger's name of
/// thousands of characters would fill every log line, history entry and summary naming them.
pub const MAX_NAME_CHARS: usize = 200;
/// Upper bound on the `Organization:` header kept: a company's name, not a stranger's essay.
pub const MAX_ORGANIZATION_CHARS: usize = 200;

/// A person in a header: lower-case address and, if given, a display name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mailbox {
    pub address: String,
    pub name: Option<String>,
}

/// Header signals of automatic mail (RFC 3834 and the vendors' own).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signals {
    /// `Auto-Submitted`, lower-case, without parameters.
    pub auto_submitted: Option<String>,
    pub x_autoreply: bool,
    pub x_autorespond: bool,
    /// `Precedence`, lower-case.
    pub precedence: Option<String>,
    /// Exchange: `X-Auto-Response-Suppress` (alone it is on ordinary Outlook mail too).
    pub exchange_suppress: bool,
    /// Exchange: `X-MS-Exchange-Inbox-Rules-Loop` (with the above: an out-of-office).
    pub exchange_rules_loop: bool,
    /// `List-Id` or `List-Unsubscribe`.
    pub list: bool,
    /// `X-Nudge-Summary`: nudge's own weekly summary.
    pub nudge_summary: bool,
    /// The top-level content type, lower-case, like `multipart/report`.
    pub content_type: String,
    /// The `report-type` parameter of a multipart/report.
    pub report_type: Option<String>,
    /// The From header as written, on one line: mail systems sign as a bare `MAILER-DAEMON`
    /// or `<>`, which gives no address.
    pub from_header: String,
    /// Headers of mailing-list software (X-MLServer, X-Mailman-Version, List-Subscribe, …):
    /// with an administrative sender, a notice of the list manager.
    pub list_software: bool,
    /// A returned message is attached (message/rfc822, or only its headers).
    pub returns_message: bool,
}

/// What a delivery-status, disposition or feedback report says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// True for message/delivery-status and message/global-delivery-status parts.
    pub delivery_status: bool,
    /// True for message/disposition-notification (read receipts).
    pub disposition: bool,
    /// True for message/feedback-report (abuse and spam complaints, RFC 5965).
    pub feedback: bool,
    /// The recipient blocks of the delivery-status parts, in order.
    pub recipients: Vec<RecipientStatus>,
    /// The recipient blocks of delivery-status parts inside returned messages: a report
    /// about a returned report (a double bounce) names the first failure there.
    pub returned_recipients: Vec<RecipientStatus>,
}

/// One recipient block of a delivery-status part (RFC 3464 2.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecipientStatus {
    /// The address of `Final-Recipient` (else `Original-Recipient`), lower-case.
    pub address: Option<String>,
    /// `Action`, lower-case: failed, delayed, delivered, relayed, expanded (or a vendor's word).
    pub action: Option<String>,
    /// `Status`, like 5.1.1.
    pub status: Option<String>,
}

/// One message as nudge sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mail {
    /// Message-ID without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    /// References, oldest first, without the message's own id.
    pub references: Vec<String>,
    /// Exchange keeps the client's original id here when it rewrites Message-ID.
    pub original_message_id: Option<String>,
    pub from: Option<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// Decoded subject on one line.
    pub subject: String,
    /// The Date header; `None` when missing or invalid.
    pub date: Option<DateTime<Utc>>,
    pub signals: Signals,
    /// The text body (HTML turned into text when there is no text part), bounded.
    pub body: String,
    pub report: Option<Report>,
    /// For bounces: the Message-ID of the returned original, found in the report's parts.
    pub returned_message_id: Option<String>,
    /// The `Organization:` header, decoded, on one line without control characters, trimmed
    /// and bounded; `None` when missing or empty. What the sender's company calls itself.
    pub organization: Option<String>,
}

impl Mail {
    /// Every id that ties this message into a thread: its own, the Exchange original,
    /// In-Reply-To and References.
    pub fn thread_ids(&self) -> Vec<String> {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut ids: Vec<String> = Vec::new();
        let in_reply_to = trim_middle(&self.in_reply_to, MAX_IN_REPLY_TO);
        let references = trim_middle(&self.references, MAX_REFERENCES);
        for id in self
            .message_id
            .iter()
            .chain(self.original_message_id.iter())
            .chain(in_reply_to.iter())
            .chain(references.iter())
        {
            if seen.insert(id.as_str()) {
                ids.push(id.clone());
            }
        }
        ids
    }

    /// All To and Cc addresses.
    pub fn recipients(&self) -> impl Iterator<Item = &Mailbox> {
        self.to.iter().chain(self.cc.iter())
    }
}

/// At most this many ids tie one message into a thread (its own, the Exchange original,
/// In-Reply-To and References): a stranger's References may hold tens of thousands.
pub const MAX_THREAD_IDS: usize = 100;
/// In-Reply-To names the parent (rarely more than one).
const MAX_IN_REPLY_TO: usize = 2;
/// References kept: the first (the thread's root) and the last ones (the nearest parents).
const MAX_REFERENCES: usize = MAX_THREAD_IDS - 2 - MAX_IN_REPLY_TO;

/// `ids` without repeats, trimmed to at most `keep` by dropping ids from the middle: the
/// first one and the last `keep - 1` stay, as RFC 5322 (3.6.4) suggests for References.
pub fn trim_middle(ids: &[String], keep: usize) -> Vec<String> {
    let mut seen: HashSet<&str> = HashSet::new();
    let unique: Vec<&String> = ids.iter().filter(|id| seen.insert(id.as_str())).collect();
    if unique.len() <= keep || keep == 0 {
        return unique.into_iter().take(keep).cloned().collect();
    }
    let tail = unique.len() - (keep - 1);
    std::iter::once(unique[0])
        .chain(unique[tail..].iter().copied())
        .cloned()
        .collect()
}

/// Parses raw message bytes (LF or CRLF). `None` when there are no headers at all.
pub fn parse(raw: &[u8]) -> Option<Mail> {
    let message = MessageParser::default().parse(raw)?;
    if message.headers().is_empty() {
        return None;
    }
    let raw_header = |name: &'static str| message.header_raw(name).map(str::trim);
    let message_id = message
        .message_id()
        .map(normalize_id)
        .filter(|id| !id.is_empty())
        .or_else(|| raw_header("Message-ID").and_then(|v| ids(v).into_iter().next()));
    // Strangers write these: a message ties itself to at most MAX_THREAD_IDS ids.
    let in_reply_to = raw_header("In-Reply-To")
        .map(|v| trim_middle(&ids(v), MAX_IN_REPLY_TO))
        .unwrap_or_default();
    let mut references = raw_header("References")
        .map(|v| trim_middle(&ids(v), MAX_REFERENCES))
        .unwrap_or_default();
    // A message listing itself would loop the thread.
    if let Some(own) = &message_id {
        references.retain(|r| r != own);
    }
    let original_message_id =
        raw_header("X-Microsoft-Original-Message-ID").and_then(|v| ids(v).into_iter().next());

    let mailboxes = |address: Option<&mail_parser::Address<'_>>| -> Vec<Mailbox> {
        address
            .map(|a| {
                a.iter()
                    .filter_map(|addr| {
                        let address = addr.address()?.trim().to_ascii_lowercase();
                        // A control character makes no address (RFC 5322 3.4.1): a NUL would
                        // reach the suppression list or a draft's recipients.
                        if !address.contains('@') || address.chars().any(char::is_control) {
                            return None;
                        }
                        Some(Mailbox {
                            address,
                            name: addr
                                .name()
                                .map(|n| cut(&one_line(n), MAX_NAME_CHARS))
                                .filter(|n| !n.is_empty()),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let from = mailboxes(message.from()).into_iter().next();
    let to = mailboxes(message.to());
    let cc = mailboxes(message.cc());
    let subject = message.subject().map(one_line).unwrap_or_default();
    // mail-parser keeps Organization raw: its encoded words are decoded here.
    let organization = raw_header("Organization")
        .map(|raw| {
            let line = format!("{raw}\r\n");
            let value =
                mail_parser::parsers::MessageStream::new(line.as_bytes()).parse_unstructured();
            cut(
                &one_line(value.as_text().unwrap_or(raw)),
                MAX_ORGANIZATION_CHARS,
            )
        })
        .filter(|value| !value.is_empty());
    let date = message
        .date()
        .filter(|d| d.is_valid())
        .and_then(|d| Utc.timestamp_opt(d.to_timestamp(), 0).single());

    let content_type = message
        .root_part()
        .content_type()
        .map(|ct| {
            let sub = ct.subtype().unwrap_or("");
            (
                format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
                ct.attribute("report-type").map(|r| r.to_ascii_lowercase()),
            )
        })
        .unwrap_or_else(|| ("text/plain".to_string(), None));
    // The keyword alone, without parameters or comments: "auto-replied (zimbra; vacation)".
    // A folded value goes on after a line break: the keyword ends at any white space.
    let lower = |v: Option<&str>| {
        v.map(|s| {
            s.trim()
                .split(|c: char| c == ';' || c == '(' || c.is_whitespace())
                .next()
                .unwrap_or("")
                .to_ascii_lowercase()
        })
    };
    let mut signals = Signals {
        auto_submitted: lower(raw_header("Auto-Submitted")),
        x_autoreply: raw_header("X-Autoreply").is_some_and(|v| !v.eq_ignore_ascii_case("no")),
        x_autorespond: raw_header("X-Autorespond").is_some(),
        precedence: lower(raw_header("Precedence")),
        exchange_suppress: raw_header("X-Auto-Response-Suppress").is_some(),
        exchange_rules_loop: raw_header("X-MS-Exchange-Inbox-Rules-Loop").is_some(),
        list: raw_header("List-Id").is_some() || raw_header("List-Unsubscribe").is_some(),
        nudge_summary: raw_header("X-Nudge-Summary").is_some(),
        content_type: content_type.0,
        report_type: content_type.1,
        from_header: raw_header("From").map(one_line).unwrap_or_default(),
        list_software: [
            "X-MLServer",
            "X-ML-Name",
            "X-Mailman-Version",
            "List-Subscribe",
            "List-Help",
            "List-Post",
            "List-Owner",
        ]
        .iter()
        .any(|name| raw_header(name).is_some()),
        returns_message: false,
    };

    let body = bounded(&body_text(&message));

    let mut report: Option<Report> = None;
    // Complaint reports that are not RFC 5965: Microsoft's (JMRP) and AOL's.
    let complaint = |m: &mail_parser::Message<'_>| {
        m.header_raw("X-HmXmrOriginalRecipient").is_some()
            || m.header_raw("X-Loop")
                .is_some_and(|v| v.to_ascii_lowercase().contains("scomp"))
    };
    if complaint(&message) {
        report.get_or_insert_with(Report::default).feedback = true;
    }
    let mut returned_message_id = None;
    for part in message.parts.iter().skip(1) {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let kind = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("")).to_ascii_lowercase();
        if is_report_part(&kind) && !starts_after_boundary_line(raw, part) {
            // An indented boundary is no boundary (RFC 2046 5.1.1): the report is text.
            continue;
        }
        match (kind.as_str(), &part.body) {
            ("message/delivery-status" | "message/global-delivery-status", _) => {
                let text = String::from_utf8_lossy(part.contents());
                let r = report.get_or_insert_with(Report::default);
                r.delivery_status = true;
                r.recipients.extend(read_report_fields(&text));
            }
            ("message/disposition-notification" | "message/global-disposition-notification", _) => {
                report.get_or_insert_with(Report::default).disposition = true;
            }
            ("message/feedback-report", _) => {
                report.get_or_insert_with(Report::default).feedback = true;
            }
            (_, PartType::Message(nested)) => {
                signals.returns_message = true;
                if complaint(nested) {
                    report.get_or_insert_with(Report::default).feedback = true;
                }
                if returned_message_id.is_none() {
                    returned_message_id = nested
                        .message_id()
                        .map(normalize_id)
                        .filter(|id| !id.is_empty());
                }
                let mut inner = Vec::new();
                nested_recipients(nested, 1, &mut inner);
                if !inner.is_empty() {
                    report
                        .get_or_insert_with(Report::default)
                        .returned_recipients
                        .extend(inner);
                }
            }
            ("text/rfc822-headers" | "message/global-headers" | "message/rfc822-headers", _) => {
                signals.returns_message = true;
                if returned_message_id.is_none() {
                    let text = String::from_utf8_lossy(part.contents());
                    returned_message_id = message_id_line(&text);
                }
            }
            _ => {}
        }
    }
    if returned_message_id.is_none() && looks_like_bounce_source(&from, &subject, &signals) {
        // Non-standard bounces quote the original's headers in the text.
        let text = String::from_utf8_lossy(raw);
        let header_end = find_header_end(&text);
        returned_message_id = message_id_line(&text[header_end..]);
    }

    Some(Mail {
        message_id,
        in_reply_to,
        references,
        original_message_id,
        from,
        to,
        cc,
        subject,
        date,
        signals,
        body,
        report,
        returned_message_id,
        organization,
    })
}

/// The text of the message: its first text/plain part; for HTML-only mail, the HTML up to
/// the first quote marker (Outlook's reply header, Gmail's quote, a blockquote) as text.
fn body_text(message: &mail_parser::Message<'_>) -> String {
    let plain = message
        .text_part(0)
        .filter(|part| matches!(part.body, PartType::Text(_)));
    if plain.is_some() {
        return message
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default();
    }
    match message.body_html(0) {
        Some(html) => mail_parser::decoders::html::html_to_text(cut_html_quote(&html)),
        None => message
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default(),
    }
}

/// HTML before the first quoted part, by the markers mail clients put there.
fn cut_html_quote(html: &str) -> &str {
    const MARKERS: [&str; 9] = [
        "id=\"divrplyfwdmsg\"",
        "id=\"appendonsend\"",
        "class=\"gmail_quote",
        "class=\"moz-cite-prefix\"",
        "id=\"yahoo_quoted",
        "class=\"outlookmessageheader\"",
        "<blockquote",
        "<hr",
        "id=\"mail-editor-reference-message-container\"",
    ];
    let lower = html.to_ascii_lowercase();
    let cut = MARKERS
        .iter()
        .filter_map(|m| lower.find(m))
        .min()
        .map(|at| lower[..at].rfind('<').unwrap_or(at))
        .unwrap_or(html.len());
    // `lower` has the same byte offsets as `html`: ASCII lower-casing keeps lengths.
    &html[..cut]
}

/// Quick test for messages that may be bounces, to avoid scanning every body.
fn looks_like_bounce_source(from: &Option<Mailbox>, subject: &str, signals: &Signals) -> bool {
    signals.content_type == "multipart/report"
        || from
            .as_ref()
            .is_some_and(|f| super::classify::may_be_bounce(&f.address, subject))
        || super::classify::has_failure_subject(subject)
}

fn find_header_end(text: &str) -> usize {
    text.find("\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| text.find("\n\n").map(|i| i + 2))
        .unwrap_or(text.len())
}

fn is_report_part(kind: &str) -> bool {
    matches!(
        kind,
        "message/delivery-status"
            | "message/global-delivery-status"
            | "message/disposition-notification"
            | "message/global-disposition-notification"
            | "message/feedback-report"
    )
}

/// True when the boundary line before `part` starts its line, as RFC 2046 requires. The
/// parser also accepts a boundary in the middle of a line, where a strict reader sees text.
fn starts_after_boundary_line(raw: &[u8], part: &mail_parser::MessagePart<'_>) -> bool {
    let Some(before) = usize::try_from(part.offset_header)
        .ok()
        .and_then(|at| raw.get(..at))
    else {
        return true;
    };
    let before = before.strip_suffix(b"\n").unwrap_or(before);
    let before = before.strip_suffix(b"\r").unwrap_or(before);
    let line = match before.iter().rposition(|&b| b == b'\n') {
        Some(at) => &before[at + 1..],
        None => before,
    };
    line.starts_with(b"--")
}

/// Recipient blocks of delivery-status parts inside a returned message and the messages it
/// returns in turn, to a small depth.
fn nested_recipients(
    message: &mail_parser::Message<'_>,
    depth: usize,
    out: &mut Vec<RecipientStatus>,
) {
    if depth > 3 {
        return;
    }
    for part in message.parts.iter().skip(1) {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let kind = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("")).to_ascii_lowercase();
        match &part.body {
            PartType::Message(nested) => nested_recipients(nested, depth + 1, out),
            _ if matches!(
                kind.as_str(),
                "message/delivery-status" | "message/global-delivery-status"
            ) && starts_after_boundary_line(message.raw_message(), part) =>
            {
                out.extend(read_report_fields(&String::from_utf8_lossy(
                    part.contents(),
                )));
            }
            _ => {}
        }
    }
}

/// The first `Message-ID: <…>` header line in `text`. Compared by bytes that split at a
/// colon, never by slicing at a fixed offset: the text is anybody's, in any script.
fn message_id_line(text: &str) -> Option<String> {
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((name, value)) = line.trim_start().split_once(':') else {
            continue;
        };
        if !name.eq_ignore_ascii_case("message-id") {
            continue;
        }
        let mut value = value.to_string();
        // The id may be folded onto the next line.
        if !value.contains('>') {
            if let Some(next) = lines.peek() {
                value.push_str(next.trim());
            }
        }
        if let Some(id) = ids(&value).into_iter().next() {
            return Some(id);
        }
    }
    None
}

/// Reads the recipient blocks of a delivery-status part (RFC 3464 2.1): blocks of fields
/// separated by empty lines, the first for the message, then one per recipient. Each block
/// is read as a header block: folded lines are unfolded, the first occurrence of a field
/// counts, and a line that is no field ends the block's fields.
fn read_report_fields(text: &str) -> Vec<RecipientStatus> {
    let mut out = Vec::new();
    let mut block: Vec<(String, String)> = Vec::new();
    let mut broken = false;
    let mut finish = |block: &mut Vec<(String, String)>| {
        let field = |name: &str| {
            block
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.trim().to_string())
        };
        let recipient = RecipientStatus {
            address: field("final-recipient")
                .and_then(|v| recipient_address(&v))
                .or_else(|| field("original-recipient").and_then(|v| recipient_address(&v))),
            action: field("action")
                .and_then(|v| {
                    v.split([' ', '\t', '(', ';'])
                        .next()
                        .map(str::to_ascii_lowercase)
                })
                .filter(|a| !a.is_empty()),
            status: field("status").and_then(|v| v.split_whitespace().next().map(str::to_string)),
        };
        if recipient != RecipientStatus::default() {
            out.push(recipient);
        }
        block.clear();
    };
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            finish(&mut block);
            broken = false;
            continue;
        }
        if broken {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = block.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        match line.split_once(':') {
            Some((name, value))
                if !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                block.push((name.to_ascii_lowercase(), value.trim().to_string()));
            }
            _ => broken = true,
        }
    }
    finish(&mut block);
    out
}

/// The address in a `Final-Recipient` value: `rfc822; <addr>`, `RFC822;addr`, or a bare
/// address; `None` when it names no mail address.
fn recipient_address(value: &str) -> Option<String> {
    let address = value.split_once(';').map(|(_, a)| a).unwrap_or(value);
    address
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|token| token.trim_matches(|c: char| matches!(c, '<' | '>' | '"' | '\'' | '(' | ')')))
        .find(|token| {
            token
                .rsplit_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        })
        .map(str::to_ascii_lowercase)
}

/// Message-IDs in a header value: every `<…>`, else bare tokens with an '@'
/// (Outlook separates References with commas; some clients drop the brackets).
pub fn ids(value: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut push = |id: String| {
        if !id.is_empty() && seen.insert(id.clone()) {
            out.push(id);
        }
    };
    if value.contains('<') {
        for piece in value.split('<').skip(1) {
            if let Some((id, _)) = piece.split_once('>') {
                push(normalize_id(id));
            }
        }
    } else {
        for token in value.split(|c: char| c.is_whitespace() || c == ',') {
            if token.contains('@') {
                push(normalize_id(token));
            }
        }
    }
    out
}

/// A Message-ID without brackets, white space and control characters (RFC 5322 3.6.4 has
/// none in an id: a NUL or an escape in a stranger's id would reach the References of a draft).
pub fn normalize_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect()
}

/// A header value on one line: CR, LF and other controls become spaces, runs are folded.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn bounded(text: &str) -> String {
    cut(text, MAX_BODY_CHARS)
}

/// At most the first `max` characters of `text`.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((index, _)) => text[..index].to_string(),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stranger's From name of 5,000 characters is kept to a name's length; the address is
    /// kept whole.
    #[test]
    fn a_display_name_of_thousands_of_characters_is_cut() {
        let raw = format!(
            "From: {} <per@stranger.example>\r\nTo: kari@fjordsalg.no\r\nSubject: Hei\r\n\r\nHei.\r\n",
            "Æ".repeat(5000)
        );
        let from = parse(raw.as_bytes())
            .and_then(|m| m.from)
            .expect("a sender");
        assert_eq!(from.address, "per@stranger.example");
        assert_eq!(from.name, Some("Æ".repeat(MAX_NAME_CHARS)));
    }

    #[test]
    fn the_organization_header_is_decoded_on_one_bounded_line() {
        let organization = |header: &str| {
            let raw = format!("From: ingrid@fjordkraft.no\r\n{header}Subject: Hei\r\n\r\nHei.\r\n");
            parse(raw.as_bytes()).and_then(|m| m.organization)
        };
        assert_eq!(
            organization("Organization: Fjordkraft AS\r\n").as_deref(),
            Some("Fjordkraft AS")
        );
        assert_eq!(
            organization("Organization: =?utf-8?Q?Troms=C3=B8_Sj=C3=B8mat_AS?=\r\n").as_deref(),
            Some("Tromsø Sjømat AS"),
            "encoded words are decoded"
        );
        assert_eq!(
            organization("Organization:   Fjordkraft\r\n\tNett\x01 AS  \r\n").as_deref(),
            Some("Fjordkraft Nett AS"),
            "folded, control characters gone, trimmed"
        );
        assert_eq!(organization("Organization:   \r\n"), None);
        assert_eq!(organization(""), None);
        let long = organization(&format!("Organization: {}\r\n", "Å".repeat(5000))).unwrap();
        assert_eq!(long, "Å".repeat(MAX_ORGANIZATION_CHARS));
    }

    #[test]
    fn ids_in_every_shape() {
        assert_eq!(ids("<a@x> <b@y>"), vec!["a@x", "b@y"]);
        assert_eq!(ids("<a@x>,<b@y>"), vec!["a@x", "b@y"]);
        assert_eq!(ids("a@x, b@y"), vec!["a@x", "b@y"]);
        assert_eq!(ids("<a@x>\r\n\t<a@x>"), vec!["a@x"]);
        assert_eq!(ids("garbage"), Vec::<String>::new());
    }

    #[test]
    fn control_characters_are_no_part_of_an_id() {
        assert_eq!(normalize_id("<a\u{1}b\0@x\u{7f}>"), "ab@x");
        assert!(parse(b"Message-ID:\0\n").is_some_and(|m| m.message_id.is_none()));
        let returned =
            b"From: MAILER-DAEMON@x.example\nContent-Type: multipart/report; boundary=b\n\n\
            --b\nContent-Type: message/rfc822\n\nMessage-ID: \x01\n\nhi\n--b--\n";
        assert_eq!(parse(returned).unwrap().returned_message_id, None);
    }

    #[test]
    fn an_address_with_a_control_character_is_no_address() {
        let mail = parse(b"From:<\0@>\nTo: a\x01@x.example, b@x.example\n\nhi\n").unwrap();
        assert_eq!(mail.from, None);
        let to: Vec<&str> = mail.to.iter().map(|m| m.address.as_str()).collect();
        assert_eq!(to, ["b@x.example"]);
    }

    #[test]
    fn a_folded_keyword_ends_at_the_line_break() {
        let mail =
            parse(b"Auto-Submitted: auto-replied\r\n (vacation)\r\nPrecedence: bulk\n x\n\nhi\n")
                .unwrap();
        assert_eq!(mail.signals.auto_submitted.as_deref(), Some("auto-replied"));
        assert_eq!(mail.signals.precedence.as_deref(), Some("bulk"));
    }

    #[test]
    fn a_multipart_the_parser_loses_track_of_is_read_on() {
        // mail-parser reaches its "Invalid part ID" debug assertion here (see Cargo.toml).
        let raw = b"Content-Type:multipart;boundary=ffff00000000000000ffff\n\n\
            --ffff00000000000000ffffContent-Type:message/rfc822\n\nr\n\
            Content-Type:message/rfc822\n\n\n--ffff00000000000000ffff--";
        let mail = parse(raw).expect("headers are there");
        assert_eq!(mail.signals.content_type, "multipart/");
    }

    #[test]
    fn header_values_cannot_carry_line_breaks() {
        assert_eq!(one_line("Tilbud\r\nBcc: evil@x"), "Tilbud Bcc: evil@x");
    }

    #[test]
    fn parses_a_simple_reply() {
        let raw = b"From: Ingrid Berg <Ingrid.Berg@fjordkraft.no>\r\nTo: kari@fjordsalg.no\r\nSubject: Re: Tilbud\r\nMessage-ID: <r1@fjordkraft.no>\r\nIn-Reply-To: <a1@fjordsalg.no>\r\nReferences: <a1@fjordsalg.no> <r1@fjordkraft.no>\r\nDate: Wed, 11 Nov 2026 09:00:00 +0100\r\n\r\nHei!\r\n";
        let mail = parse(raw).unwrap();
        assert_eq!(mail.message_id.as_deref(), Some("r1@fjordkraft.no"));
        assert_eq!(mail.from.unwrap().address, "ingrid.berg@fjordkraft.no");
        assert_eq!(mail.in_reply_to, vec!["a1@fjordsalg.no"]);
        assert_eq!(mail.references, vec!["a1@fjordsalg.no"], "own id dropped");
        assert_eq!(mail.date.unwrap().to_rfc3339(), "2026-11-11T08:00:00+00:00");
        assert_eq!(mail.body.trim(), "Hei!");
    }

    #[test]
    fn a_message_id_line_is_found_among_lines_in_any_script() {
        let text = "Рекомендуем Вам проверить корректность указания адресов.\n\
                    Message-ID:\n <r1@example.ru>\n";
        assert_eq!(message_id_line(text).as_deref(), Some("r1@example.ru"));
        assert_eq!(
            message_id_line("Ærlig talt: nei\nmessage-id: <x@y>"),
            Some("x@y".into())
        );
        assert_eq!(message_id_line("Æøåæøåæøåæøå"), None);
    }

    #[test]
    fn huge_references_keep_the_first_and_the_last_ids() {
        let refs: String = (0..35_000)
            .map(|n| format!("<r{n}@example.com> "))
            .collect();
        let raw = format!(
            "From: a@example.com\nMessage-ID: <own@example.com>\nIn-Reply-To: <r34999@example.com>\nReferences: {refs}\n\nhi\n"
        );
        let mail = parse(raw.as_bytes()).unwrap();
        assert_eq!(mail.references.len(), MAX_REFERENCES);
        assert_eq!(mail.references[0], "r0@example.com", "the root stays");
        assert_eq!(mail.references.last().unwrap(), "r34999@example.com");
        assert_eq!(
            mail.references[1],
            format!("r{}@example.com", 35_000 - (MAX_REFERENCES - 1))
        );
        let ids = mail.thread_ids();
        assert!(ids.len() <= MAX_THREAD_IDS, "{}", ids.len());
        assert_eq!(ids[0], "own@example.com");
        assert!(ids.contains(&"r0@example.com".to_string()));
        assert_eq!(
            ids.len(),
            1 + MAX_REFERENCES,
            "In-Reply-To repeats the last reference"
        );
    }

    #[test]
    fn trimming_drops_repeats_and_the_middle() {
        let ids: Vec<String> = ["a", "b", "a", "c", "d", "e", "c"]
            .map(String::from)
            .to_vec();
        assert_eq!(trim_middle(&ids, 10), ["a", "b", "c", "d", "e"]);
        assert_eq!(trim_middle(&ids, 3), ["a", "d", "e"]);
        assert_eq!(trim_middle(&ids, 1), ["a"]);
    }

    #[test]
    fn nothing_is_not_a_message() {
        assert!(parse(b"").is_none());
    }
}
