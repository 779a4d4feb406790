//! A mail client for tests: the seller's (or the prospect's server's) side of the mailbox,
//! over real IMAP. It appends mail as a client or an MTA would, reads folders back, deletes.

use std::time::Duration;

use futures::TryStreamExt;

use super::tls::{imaps_login, ImapTls};
use super::Dovecot;

/// Bound for each IMAP command of the simulated client.
const STEP: Duration = Duration::from_secs(20);

async fn step<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(STEP, fut)
        .await
        .unwrap_or_else(|_| panic!("mail client timed out: {what}"))
}

/// A logged-in IMAP session acting as the user's mail client.
pub struct MailClient {
    session: async_imap::Session<ImapTls>,
}

/// A message as read back from a folder.
#[derive(Debug, Clone)]
pub struct FolderMessage {
    pub uid: u32,
    pub flags: Vec<String>,
    pub raw: Vec<u8>,
}

impl FolderMessage {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    /// The decoded text part, as a mail client shows it (None when there is none).
    pub fn body_text(&self) -> Option<String> {
        mail_parser::MessageParser::default()
            .parse(&self.raw)
            .and_then(|m| m.body_text(0).map(|t| t.into_owned()))
    }

    /// The value of a header (first occurrence, unfolded), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        header_value(&self.text(), name)
    }
}

/// The value of a header of a raw message (first occurrence, unfolded; LF or CRLF), if present.
pub fn header_value(raw: &str, name: &str) -> Option<String> {
    let raw = raw.replace("\r\n", "\n");
    let head = raw.split("\n\n").next().unwrap_or(&raw);
    let mut value: Option<String> = None;
    for line in head.lines() {
        if let Some(v) = value.as_mut() {
            if line.starts_with([' ', '\t']) {
                v.push(' ');
                v.push_str(line.trim());
                continue;
            }
            break;
        }
        if let Some((n, v)) = line.split_once(':') {
            if n.eq_ignore_ascii_case(name) {
                value = Some(v.trim().to_string());
            }
        }
    }
    value
}

impl MailClient {
    pub async fn connect(dovecot: &Dovecot, user: &str, password: &str) -> MailClient {
        MailClient {
            session: imaps_login(dovecot.imaps_port(), dovecot.ca(), user, password).await,
        }
    }

    /// APPENDs a raw message (CRLF line endings are ensured) with flags like `\Seen`. The
    /// message's own Date header becomes its INTERNALDATE, as when a server delivers it at once
    /// (Dovecot keeps the current time instead of one in the future).
    pub async fn append(&mut self, folder: &str, raw: &str, flags: &[&str]) {
        let internal_date = internal_date_of(raw);
        self.append_with(folder, raw, flags, internal_date.as_deref())
            .await;
    }

    /// [`MailClient::append`] with an INTERNALDATE of its own, such as
    /// `"18-Nov-2026 11:00:00 +0100"`: the time the server says it received the message,
    /// whatever its Date header claims.
    pub async fn append_at(
        &mut self,
        folder: &str,
        raw: &str,
        flags: &[&str],
        internal_date: &str,
    ) {
        self.append_with(folder, raw, flags, Some(internal_date))
            .await;
    }

    async fn append_with(
        &mut self,
        folder: &str,
        raw: &str,
        flags: &[&str],
        internal_date: Option<&str>,
    ) {
        let raw = crlf(raw);
        let flags = if flags.is_empty() {
            None
        } else {
            Some(format!("({})", flags.join(" ")))
        };
        let internal_date = internal_date.map(|d| format!("\"{}\"", d.trim_matches('"')));
        step(
            "APPEND",
            self.session.append(
                folder,
                flags.as_deref(),
                internal_date.as_deref(),
                raw.as_bytes(),
            ),
        )
        .await
        .unwrap_or_else(|e| panic!("APPEND to {folder}: {e}"));
    }

    /// Every message in a folder with flags and full text.
    pub async fn messages(&mut self, folder: &str) -> Vec<FolderMessage> {
        step("SELECT", self.session.select(folder))
            .await
            .unwrap_or_else(|e| panic!("SELECT {folder}: {e}"));
        let fetched: Vec<_> = step("FETCH", async {
            self.session
                .uid_fetch("1:*", "(UID FLAGS BODY.PEEK[])")
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await
        .unwrap_or_default();
        fetched
            .into_iter()
            .filter_map(|f| {
                Some(FolderMessage {
                    uid: f.uid?,
                    flags: f.flags().map(|flag| format!("{flag:?}")).collect(),
                    raw: f.body().map(<[u8]>::to_vec).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Deletes the message with this UID the way a careful client does (UID EXPUNGE).
    pub async fn delete(&mut self, folder: &str, uid: u32) {
        step("SELECT", self.session.select(folder))
            .await
            .unwrap_or_else(|e| panic!("SELECT {folder}: {e}"));
        step("STORE", async {
            self.session
                .uid_store(uid.to_string(), "+FLAGS (\\Deleted)")
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await
        .unwrap_or_else(|e| panic!("STORE \\Deleted: {e}"));
        step("UID EXPUNGE", async {
            self.session
                .uid_expunge(uid.to_string())
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await
        .unwrap_or_else(|e| panic!("UID EXPUNGE: {e}"));
    }

    /// Adds a flag (like `\\Flagged`) to the message with this UID.
    pub async fn add_flag(&mut self, folder: &str, uid: u32, flag: &str) {
        step("SELECT", self.session.select(folder))
            .await
            .unwrap_or_else(|e| panic!("SELECT {folder}: {e}"));
        step("STORE", async {
            self.session
                .uid_store(uid.to_string(), format!("+FLAGS ({flag})"))
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await
        .unwrap_or_else(|e| panic!("STORE {flag}: {e}"));
    }

    /// Sends a draft the way a mail client does: a fresh Message-ID and Date, X- headers
    /// dropped, the copy put in Sent, the draft removed from Drafts. Returns the new id.
    pub async fn send_draft(
        &mut self,
        drafts: &str,
        sent: &str,
        draft: &FolderMessage,
        date: &str,
    ) -> String {
        let new_id = format!("sent.{}@client.example", draft.uid);
        self.send_draft_as(drafts, sent, draft, date, &new_id).await;
        new_id
    }

    /// [`MailClient::send_draft`], with the Message-ID the client gives the sent copy.
    pub async fn send_draft_as(
        &mut self,
        drafts: &str,
        sent: &str,
        draft: &FolderMessage,
        date: &str,
        message_id: &str,
    ) {
        let raw = rewrite_headers(&draft.text(), message_id, Some(date));
        self.append(sent, &raw, &["\\Seen"]).await;
        self.delete(drafts, draft.uid).await;
    }

    /// Edits a draft the way Thunderbird does: `addition` written at the top of its text, saved
    /// as a replacement with a new Message-ID, the old one deleted.
    pub async fn edit_draft(
        &mut self,
        drafts: &str,
        draft: &FolderMessage,
        addition: &str,
    ) -> String {
        let text = draft.body_text().unwrap_or_default();
        self.save_edited_draft(drafts, draft, &format!("{addition}\n\n{text}"))
            .await
    }

    /// Replaces a draft's text the way a client saves an edited draft: a replacement with a new
    /// Message-ID and the new text (decoded, re-encoded as the client likes), the old one deleted.
    pub async fn save_edited_draft(
        &mut self,
        drafts: &str,
        draft: &FolderMessage,
        text: &str,
    ) -> String {
        let new_id = format!("edited.{}@client.example", draft.uid);
        let raw = with_new_text(&draft.text(), &new_id, text);
        self.append(drafts, &raw, &["\\Draft", "\\Seen"]).await;
        self.delete(drafts, draft.uid).await;
        new_id
    }

    /// Edits a draft the way NeoMutt does when the seller recalls a postponed draft from the
    /// IMAP Drafts folder, edits it and postpones it again: the edited copy keeps the draft's
    /// Message-ID (and its threading headers) under a new UID, the old copy is deleted.
    /// Returns the kept Message-ID (without brackets).
    pub async fn postpone_keeping_id(
        &mut self,
        drafts: &str,
        draft: &FolderMessage,
        text: &str,
    ) -> String {
        let id = draft
            .header("Message-ID")
            .expect("a draft has a Message-ID")
            .trim_matches(['<', '>'])
            .to_string();
        let raw = with_new_text(&draft.text(), &id, text);
        self.append(drafts, &raw, &["\\Draft", "\\Seen"]).await;
        self.delete(drafts, draft.uid).await;
        id
    }

    /// Deletes and recreates a folder: its UIDVALIDITY changes.
    /// Creates a folder (an Archive, a customer folder).
    pub async fn create(&mut self, folder: &str) {
        step("CREATE", self.session.create(folder))
            .await
            .unwrap_or_else(|e| panic!("CREATE {folder}: {e}"));
    }

    pub async fn recreate(&mut self, folder: &str) {
        step("SELECT INBOX", self.session.select("INBOX"))
            .await
            .expect("SELECT INBOX");
        step("DELETE", self.session.delete(folder))
            .await
            .unwrap_or_else(|e| panic!("DELETE {folder}: {e}"));
        step("CREATE", self.session.create(folder))
            .await
            .unwrap_or_else(|e| panic!("CREATE {folder}: {e}"));
    }

    pub async fn logout(mut self) {
        let _ = step("LOGOUT", self.session.logout()).await;
    }
}

/// A message's Date header as an IMAP INTERNALDATE (`"17-Nov-2026 14:30:00 +0100"`, without
/// the quotes); None when it has no Date header that parses.
pub fn internal_date_of(raw: &str) -> Option<String> {
    let parsed = chrono::DateTime::parse_from_rfc2822(&header_value(raw, "Date")?).ok()?;
    Some(parsed.format("%d-%b-%Y %H:%M:%S %z").to_string())
}

/// Line endings as on the wire.
pub fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// A plain-text message; `extra` holds additional header lines ("Name: value", one a line).
pub struct Message<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub message_id: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub date: &'a str,
    pub body: &'a str,
    pub extra: &'a str,
}

/// Opener number `i` from the seller to `to`, rendered: subject "Tilbud {i}", Message-ID
/// `<opener{i}@fjordsalg.no>`.
pub fn opener(i: usize, to: &str, date: &str, body: &str) -> String {
    let subject = format!("Tilbud {i}");
    let id = format!("opener{i}@fjordsalg.no");
    Message::new(
        "Kari Nordmann <kari@fjordsalg.no>",
        to,
        &subject,
        &id,
        None,
        date,
        body,
    )
    .render()
}

impl<'a> Message<'a> {
    /// A plain-text message without extra headers, answering `parent` when given.
    pub fn new(
        from: &'a str,
        to: &'a str,
        subject: &'a str,
        id: &'a str,
        parent: Option<&'a str>,
        date: &'a str,
        body: &'a str,
    ) -> Message<'a> {
        Message {
            from,
            to,
            subject,
            message_id: id,
            in_reply_to: parent,
            date,
            body,
            extra: "",
        }
    }
}

impl Message<'_> {
    pub fn render(&self) -> String {
        let mut out = format!(
            "From: {}\nTo: {}\nSubject: {}\nMessage-ID: <{}>\nDate: {}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n",
            self.from, self.to, self.subject, self.message_id, self.date
        );
        if let Some(parent) = self.in_reply_to {
            out.push_str(&format!(
                "In-Reply-To: <{parent}>\nReferences: <{parent}>\n"
            ));
        }
        for line in self.extra.lines().filter(|l| !l.trim().is_empty()) {
            out.push_str(line.trim());
            out.push('\n');
        }
        out.push('\n');
        out.push_str(self.body);
        out.push('\n');
        out
    }
}

/// A copy of a raw message with a new Message-ID and optionally a new Date; `X-` headers are
/// dropped, as clients do.
pub fn rewrite_headers(raw: &str, message_id: &str, date: Option<&str>) -> String {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let mut out = headers_without(head, |name| {
        name.starts_with("x-") || name == "message-id" || (date.is_some() && name == "date")
    });
    out.push_str(&format!("Message-ID: <{message_id}>\n"));
    if let Some(date) = date {
        out.push_str(&format!("Date: {date}\n"));
    }
    out.push('\n');
    out.push_str(body);
    out
}

/// A message with the same headers but a new Message-ID and a new plain-text body, the way a
/// client saves a draft the user edited: its own encoding, `X-` headers dropped.
pub fn with_new_text(raw: &str, message_id: &str, text: &str) -> String {
    let raw = raw.replace("\r\n", "\n");
    let head = raw
        .split_once("\n\n")
        .map_or(raw.as_str(), |(head, _)| head);
    let mut out = headers_without(head, |name| {
        name.starts_with("x-")
            || name.starts_with("content-")
            || name == "mime-version"
            || name == "message-id"
    });
    out.push_str(&format!(
        "Message-ID: <{message_id}>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n{text}\n"
    ));
    out
}

/// The header lines of `head` (LF line ends) without the fields whose lowercased name
/// `drop` selects, continuation lines going with their field.
fn headers_without(head: &str, drop: impl Fn(&str) -> bool) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in head.lines() {
        if !line.starts_with([' ', '\t']) {
            let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
            skipping = drop(&name);
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
