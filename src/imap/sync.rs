//! The IMAP side of syncing a folder: EXAMINE (read-only, so nothing is ever marked read),
//! UID SEARCH, and UID FETCH of headers or of the first part of whole messages, always with
//! BODY.PEEK. Responses are read raw so every untagged answer is drained before the next
//! command.

use async_imap::imap_proto::{
    AttributeValue, MailboxDatum, MessageSection, Response, SectionPath, Status,
};
use chrono::{DateTime, Utc};

use super::{bounded, imap_error, Connection};
use crate::error::{Error, Result};

/// Header fields nudge reads, besides the thread and recipient fields; everything else stays
/// on the server.
pub const HEADER_FIELDS: &str = "MESSAGE-ID FROM SUBJECT DATE \
    AUTO-SUBMITTED X-AUTOREPLY X-AUTORESPOND PRECEDENCE X-AUTO-RESPONSE-SUPPRESS \
    X-MS-EXCHANGE-INBOX-RULES-LOOP LIST-ID LIST-UNSUBSCRIBE CONTENT-TYPE X-NUDGE-SUMMARY \
    X-MICROSOFT-ORIGINAL-MESSAGE-ID ORGANIZATION";

/// The thread fields, which strangers and long threads fill with thousands of ids. They are
/// fetched on their own, so that however long they are, the fields after them in the message
/// (Gmail writes Subject and From after References) are still read.
pub const THREAD_FIELDS: &str = "IN-REPLY-TO REFERENCES";

/// The recipient fields, fetched on their own for the same reason: a reply-all to a list of
/// thousands writes them before From.
pub const RECIPIENT_FIELDS: &str = "TO CC";

/// At most this much of one message's header fields, of its thread fields and of its
/// recipient fields is fetched: a stranger's multi-MB header cannot stall a sync or fill
/// memory (SPEC 13). The fields nudge reads fit many times over.
pub const HEADER_FIELD_BYTES: u32 = 32 * 1024;

/// The FETCH of flags, INTERNALDATE, the header fields, the thread fields and the recipient
/// fields nudge reads, at most [`HEADER_FIELD_BYTES`] of each per message.
fn header_query(uid_set: &str, gmail: &str) -> String {
    format!(
        "UID FETCH {uid_set} (UID FLAGS INTERNALDATE{gmail} \
         BODY.PEEK[HEADER.FIELDS ({HEADER_FIELDS})]<0.{HEADER_FIELD_BYTES}> \
         BODY.PEEK[HEADER.FIELDS ({THREAD_FIELDS})]<0.{HEADER_FIELD_BYTES}> \
         BODY.PEEK[HEADER.FIELDS ({RECIPIENT_FIELDS})]<0.{HEADER_FIELD_BYTES}>)"
    )
}

/// At most this much of a message's header fields is read in the first, single-section
/// FETCH of headers: every field nudge reads, in one section, as the message orders them.
/// A message whose fields reach it is asked again with [`header_query`], each kind of field
/// bounded on its own.
pub const ALL_FIELDS_BYTES: u32 = 16 * 1024;

/// The FETCH of flags, INTERNALDATE and every header field nudge reads in one section, at
/// most [`ALL_FIELDS_BYTES`] per message: one section for the server to cut and send, and
/// for nudge to read, where ordinary mail needs no more.
fn single_header_query(uid_set: &str, gmail: &str) -> String {
    format!(
        "UID FETCH {uid_set} (UID FLAGS INTERNALDATE{gmail} \
         BODY.PEEK[HEADER.FIELDS ({HEADER_FIELDS} {THREAD_FIELDS} {RECIPIENT_FIELDS})]<0.{ALL_FIELDS_BYTES}>)"
    )
}

/// How much of a message's text is fetched when its text is needed.
pub const PARTIAL_MESSAGE_BYTES: u32 = 64 * 1024;

/// The FETCH of a message's text: its header without the thread and recipient fields and
/// the relays' Received lines, the thread fields, the recipient fields (each at most
/// [`HEADER_FIELD_BYTES`]) and the text (at most [`PARTIAL_MESSAGE_BYTES`]), each bounded on
/// its own so that a huge header never hides the sender or the text.
fn message_query(uid_set: &str) -> String {
    format!(
        "UID FETCH {uid_set} (UID FLAGS \
         BODY.PEEK[HEADER.FIELDS.NOT ({THREAD_FIELDS} {RECIPIENT_FIELDS} RECEIVED)]<0.{HEADER_FIELD_BYTES}> \
         BODY.PEEK[HEADER.FIELDS ({THREAD_FIELDS})]<0.{HEADER_FIELD_BYTES}> \
         BODY.PEEK[HEADER.FIELDS ({RECIPIENT_FIELDS})]<0.{HEADER_FIELD_BYTES}> \
         BODY.PEEK[TEXT]<0.{PARTIAL_MESSAGE_BYTES}>)"
    )
}

/// What EXAMINE tells about a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderStatus {
    pub uidvalidity: u32,
    pub uid_next: Option<u32>,
    pub exists: u32,
    pub highest_modseq: Option<u64>,
}

/// One message's answer to a FETCH.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    pub uid: u32,
    pub flags: Vec<String>,
    pub internal_date: Option<DateTime<Utc>>,
    /// The header fields, or the first part of the whole message.
    pub data: Vec<u8>,
    /// Gmail's thread id (X-GM-EXT-1).
    pub gm_thrid: Option<u64>,
    /// The length of the longest header section of the answer, to tell a section cut at
    /// its bound.
    pub header_bytes: usize,
}

impl Connection {
    /// The folder's state as the EXAMINE that opened it told, when it is still the one open:
    /// what a pass reads next in the folder it just synced needs no second EXAMINE (on a
    /// large folder with new mail, Dovecot takes a quarter of a second for one).
    pub fn examined(&self, folder: &str) -> Option<FolderStatus> {
        self.examined
            .as_ref()
            .filter(|(open, _)| open == folder)
            .map(|(_, status)| *status)
    }

    /// Opens a folder read-only and reads its state.
    pub async fn examine(&mut self, folder: &str) -> Result<FolderStatus> {
        self.examined = None;
        let timeout = self.timeout;
        let session = &mut self.session;
        let mailbox = bounded(timeout, format!("EXAMINE {folder}"), async {
            session.examine(folder).await.map_err(|e| {
                // Deleted since LIST showed it (the seller reorganising): a folder that is
                // gone, not a broken connection.
                let text = e.to_string();
                if is_nonexistent(&text) {
                    Error::FolderNotFound {
                        role: "watched",
                        reason: format!("{folder} is gone from the server ({text})"),
                    }
                } else {
                    imap_error(&format!("EXAMINE {folder}"), e)
                }
            })
        })
        .await?;
        let uidvalidity = mailbox.uid_validity.ok_or_else(|| {
            imap_error(
                &format!("EXAMINE {folder}"),
                "the server sent no UIDVALIDITY",
            )
        })?;
        let mut uid_next = mailbox.uid_next;
        if uid_next.is_none() {
            // Some servers leave UIDNEXT out of SELECT: ask with STATUS.
            let session = &mut self.session;
            uid_next = bounded(timeout, format!("STATUS {folder}"), async {
                session
                    .status(folder, "(UIDNEXT)")
                    .await
                    .map(|m| m.uid_next)
                    .map_err(|e| imap_error(&format!("STATUS {folder}"), e))
            })
            .await?;
        }
        self.drain_unsolicited();
        let status = FolderStatus {
            uidvalidity,
            uid_next,
            exists: mailbox.exists,
            highest_modseq: mailbox.highest_modseq,
        };
        self.examined = Some((folder.to_string(), status));
        Ok(status)
    }

    /// `UID SEARCH <criteria>` in the selected folder, sorted.
    pub async fn uid_search(&mut self, criteria: &str) -> Result<Vec<u32>> {
        let mut uids = Vec::new();
        self.raw_command(&format!("UID SEARCH {criteria}"), |response| {
            if let Response::MailboxData(MailboxDatum::Search(found)) = response {
                uids.extend(found.iter().copied());
            }
        })
        .await?;
        uids.sort_unstable();
        uids.dedup();
        Ok(uids)
    }

    /// Fetches flags, INTERNALDATE and the header fields nudge reads for `uid_set`.
    ///
    /// One section first; the messages whose fields fill it (a stranger's thousands of
    /// References or recipients, which could push From or Subject past the bound) are asked
    /// again with each kind of field bounded apart (SPEC 13).
    pub async fn fetch_headers(&mut self, uid_set: &str) -> Result<Vec<Fetched>> {
        let gmail = if self.has_capability("X-GM-EXT-1") {
            " X-GM-THRID"
        } else {
            ""
        };
        let mut fetched = self.fetch(&single_header_query(uid_set, gmail)).await?;
        let full: Vec<u32> = fetched
            .iter()
            .filter(|f| f.header_bytes >= ALL_FIELDS_BYTES as usize)
            .map(|f| f.uid)
            .collect();
        if !full.is_empty() {
            let again = self
                .fetch(&header_query(&self::uid_set(&full), gmail))
                .await?;
            for item in again {
                if let Some(slot) = fetched.iter_mut().find(|f| f.uid == item.uid) {
                    *slot = item;
                }
            }
        }
        self.header_fetches += fetched.len() as u64;
        Ok(fetched)
    }

    /// Fetches each message in `uid_set` for its text, bounded (see [`message_query`]).
    pub async fn fetch_messages(&mut self, uid_set: &str) -> Result<Vec<Fetched>> {
        let fetched = self.fetch(&message_query(uid_set)).await?;
        self.body_fetches += fetched.len() as u64;
        Ok(fetched)
    }

    /// Flags of `uid_set`, without any message data.
    pub async fn fetch_flags(&mut self, uid_set: &str) -> Result<Vec<Fetched>> {
        self.fetch(&format!("UID FETCH {uid_set} (UID FLAGS)"))
            .await
    }

    /// How many message headers this connection has fetched (for reports and tests).
    pub fn header_fetches(&self) -> u64 {
        self.header_fetches
    }

    /// How many message texts this connection has fetched.
    pub fn body_fetches(&self) -> u64 {
        self.body_fetches
    }

    pub(crate) async fn fetch(&mut self, query: &str) -> Result<Vec<Fetched>> {
        let mut out: Vec<Fetched> = Vec::new();
        self.raw_command(query, |response| {
            if let Response::Fetch(_, attributes) = response {
                let mut fetched = Fetched::default();
                let mut sections = Sections::default();
                for attribute in attributes {
                    match attribute {
                        AttributeValue::Uid(uid) => fetched.uid = *uid,
                        AttributeValue::Flags(flags) => {
                            // \Recent belongs to the session that saw the message first
                            // (RFC 3501 2.3.2), not to the message: it is not kept.
                            fetched.flags = flags
                                .iter()
                                .filter(|f| !f.eq_ignore_ascii_case("\\Recent"))
                                .map(|f| f.to_string())
                                .collect();
                        }
                        AttributeValue::InternalDate(date) => {
                            fetched.internal_date =
                                DateTime::parse_from_str(date, "%d-%b-%Y %H:%M:%S %z")
                                    .ok()
                                    .map(|d| d.with_timezone(&Utc));
                        }
                        AttributeValue::BodySection {
                            section: Some(SectionPath::Full(MessageSection::Header)),
                            data: Some(data),
                            ..
                        } => {
                            fetched.header_bytes = fetched.header_bytes.max(data.len());
                            sections.header.push(data.to_vec());
                        }
                        AttributeValue::BodySection {
                            section: Some(SectionPath::Full(MessageSection::Text)),
                            data: Some(data),
                            ..
                        } => sections.text = Some(data.to_vec()),
                        AttributeValue::BodySection {
                            data: Some(data), ..
                        }
                        | AttributeValue::Rfc822(Some(data))
                        | AttributeValue::Rfc822Header(Some(data)) => {
                            sections.whole = Some(data.to_vec());
                        }
                        AttributeValue::GmailThrId(id) => fetched.gm_thrid = Some(*id),
                        _ => {}
                    }
                }
                fetched.data = sections.joined();
                // A FETCH without UID is an unsolicited flag update: not ours.
                if fetched.uid != 0 {
                    out.push(fetched);
                }
            }
        })
        .await?;
        Ok(out)
    }

    /// Sends a command and hands every untagged response to `on_untagged` until the tagged
    /// answer, which must be OK. Bounded by the connection's timeout.
    pub(crate) async fn raw_command(
        &mut self,
        command: &str,
        mut on_untagged: impl FnMut(&Response<'_>),
    ) -> Result<()> {
        let timeout = self.timeout;
        let context = command.split(" (").next().unwrap_or(command).to_string();
        let session = &mut self.session;
        let result = bounded(timeout, context.clone(), async {
            let id = session
                .run_command(command)
                .await
                .map_err(|e| imap_error(&context, e))?;
            loop {
                let response = session
                    .read_response()
                    .await
                    .map_err(|e| imap_error(&context, e))?
                    .ok_or_else(|| imap_error(&context, "the server closed the connection"))?;
                match response.parsed() {
                    Response::Done {
                        tag,
                        status,
                        outcome,
                        ..
                    } if *tag == id => {
                        return match status {
                            Status::Ok => Ok(()),
                            _ => Err(imap_error(
                                &context,
                                outcome.information.as_deref().unwrap_or("refused"),
                            )),
                        };
                    }
                    other => on_untagged(other),
                }
            }
        })
        .await;
        self.drain_unsolicited();
        result
    }

    /// Empties async-imap's bounded channel of unsolicited responses (it drops the excess).
    pub(crate) fn drain_unsolicited(&mut self) {
        while self.session.unsolicited_responses.try_recv().is_ok() {}
    }
}

/// True for a server's answer that the mailbox does not exist: the RFC 5530 response code,
/// or the words servers use without it.
fn is_nonexistent(answer: &str) -> bool {
    let answer = answer.to_ascii_lowercase();
    [
        "[nonexistent]",
        "doesn't exist",
        "does not exist",
        "unknown mailbox",
        "no such mailbox",
    ]
    .iter()
    .any(|words| answer.contains(words))
}

/// The body sections one message's FETCH answered with.
#[derive(Default)]
struct Sections {
    /// Header sections (`HEADER`, `HEADER.FIELDS`, `HEADER.FIELDS.NOT`), in answer order.
    header: Vec<Vec<u8>>,
    /// The `TEXT` section.
    text: Option<Vec<u8>>,
    /// The whole message, or a part of it (`BODY[]`, `RFC822`).
    whole: Option<Vec<u8>>,
}

impl Sections {
    /// One message as the parser reads it: the whole message as fetched, or the header
    /// sections one after another (each may be cut short), a blank line, and the text.
    fn joined(self) -> Vec<u8> {
        if let Some(whole) = self.whole {
            return whole;
        }
        let mut out = Vec::new();
        for mut header in self.header {
            while header.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                header.pop();
            }
            if !header.is_empty() {
                out.extend_from_slice(&header);
                out.extend_from_slice(b"\r\n");
            }
        }
        out.extend_from_slice(b"\r\n");
        if let Some(text) = self.text {
            out.extend_from_slice(&text);
        }
        out
    }
}

/// UIDs as a compact IMAP set: `1:5,9,12:14`.
pub fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end + 1 {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fetches_are_bounded() {
        let query = header_query("1:5", "");
        assert!(
            query.contains(&format!(
                "BODY.PEEK[HEADER.FIELDS ({HEADER_FIELDS})]<0.{HEADER_FIELD_BYTES}> "
            )),
            "{query}"
        );
        assert!(
            query.contains(&format!(
                "BODY.PEEK[HEADER.FIELDS ({THREAD_FIELDS})]<0.{HEADER_FIELD_BYTES}> "
            )),
            "{query}"
        );
        assert!(
            query.ends_with(&format!(
                "BODY.PEEK[HEADER.FIELDS ({RECIPIENT_FIELDS})]<0.{HEADER_FIELD_BYTES}>)"
            )),
            "{query}"
        );
    }

    /// The first ask is one section holding every field nudge reads, bounded; the bounded
    /// three-section ask is what a message that fills it is asked again with.
    #[test]
    fn headers_are_first_asked_in_one_bounded_section() {
        let query = single_header_query("1:500", "");
        assert_eq!(query.matches("BODY.PEEK[").count(), 1, "{query}");
        let fields = query
            .split_once("HEADER.FIELDS (")
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(fields, _)| fields.to_string())
            .unwrap_or_default();
        for field in
            format!("{HEADER_FIELDS} {THREAD_FIELDS} {RECIPIENT_FIELDS}").split_whitespace()
        {
            assert!(
                fields.split_whitespace().any(|f| f == field),
                "{field}: {query}"
            );
        }
        assert!(
            query.ends_with(&format!("]<0.{ALL_FIELDS_BYTES}>)")),
            "{query}"
        );
        const { assert!(ALL_FIELDS_BYTES <= HEADER_FIELD_BYTES) };
    }

    /// The thread and recipient fields are fetched on their own: tens of thousands of ids or
    /// addresses cannot push the fields nudge reads past the bound.
    #[test]
    fn thread_and_recipient_fields_are_fetched_apart_from_the_others() {
        for field in format!("{THREAD_FIELDS} {RECIPIENT_FIELDS}").split_whitespace() {
            assert!(
                !HEADER_FIELDS.split_whitespace().any(|f| f == field),
                "{field}"
            );
        }
        let query = message_query("7");
        let header = |section: &str| format!("BODY.PEEK[{section}]<0.{HEADER_FIELD_BYTES}>");
        for section in [
            format!("HEADER.FIELDS.NOT ({THREAD_FIELDS} {RECIPIENT_FIELDS} RECEIVED)"),
            format!("HEADER.FIELDS ({THREAD_FIELDS})"),
            format!("HEADER.FIELDS ({RECIPIENT_FIELDS})"),
        ] {
            assert!(query.contains(&header(&section)), "{query}");
        }
        assert!(
            query.ends_with(&format!("BODY.PEEK[TEXT]<0.{PARTIAL_MESSAGE_BYTES}>)")),
            "{query}"
        );
    }

    /// Header sections, each perhaps cut short, are read one after another, then the text.
    #[test]
    fn sections_are_joined_into_one_message() {
        let sections = Sections {
            header: vec![
                b"From: a@b.example\r\nSubject: Hei\r\n\r\n".to_vec(),
                b"References: <a@b> <c@".to_vec(),
            ],
            text: Some(b"Takk.\r\n".to_vec()),
            whole: None,
        };
        assert_eq!(
            sections.joined(),
            b"From: a@b.example\r\nSubject: Hei\r\nReferences: <a@b> <c@\r\n\r\nTakk.\r\n"
        );
        let whole = Sections {
            whole: Some(b"From: a@b\r\n\r\nx".to_vec()),
            ..Sections::default()
        };
        assert_eq!(whole.joined(), b"From: a@b\r\n\r\nx");
    }

    #[test]
    fn a_missing_mailbox_is_told_from_other_refusals() {
        assert!(is_nonexistent(
            "No Response: [NONEXISTENT] Mailbox doesn't exist: Utkast"
        ));
        assert!(is_nonexistent("NO Mailbox does not exist"));
        assert!(is_nonexistent("NO Unknown Mailbox: Drafts (Failure)"));
        assert!(!is_nonexistent("NO [SERVERBUG] Internal error occurred"));
        assert!(!is_nonexistent("BAD Command line too long"));
    }

    #[test]
    fn compact_uid_sets() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(uid_set(&[4]), "4");
        assert_eq!(uid_set(&[]), "");
    }
}
