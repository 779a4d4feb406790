//! The seller's words: conversations, their states, and the history of what happened.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::mail::parse::Mailbox;
pub use crate::rules::{EventKind, MessageClass, Origin};

/// Where a conversation stands (SPEC 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// The seller wrote last; the next follow-up is not due yet.
    Waiting,
    /// A follow-up draft waits in Drafts for the seller.
    Drafted,
    /// The close-the-loop message was sent; the grace period runs.
    Closing,
    /// The prospect answered.
    Replied,
    /// No answer after the close-the-loop message: nudge let go.
    LetGo,
    /// The prospect's address bounced.
    Bounced,
    /// The prospect asked not to be contacted.
    OptedOut,
    /// The seller stopped it (CLI, or by deleting a draft).
    Stopped,
    /// The seller snoozed it until a date.
    Snoozed,
    /// The prospect asked to hear back later, at a time nudge understood: a check-back is
    /// drafted on the first business day of that period.
    Deferred,
    /// The prospect has left their company (a reply or an auto-reply said so): never followed
    /// up; the addresses the text named are suggested to the seller.
    Departed,
    /// The seller marked it won or finished (`nudge done`): never followed up again until the
    /// seller writes again.
    Done,
}

impl State {
    pub const ALL: [State; 12] = [
        State::Waiting,
        State::Drafted,
        State::Closing,
        State::Replied,
        State::LetGo,
        State::Bounced,
        State::OptedOut,
        State::Stopped,
        State::Snoozed,
        State::Deferred,
        State::Departed,
        State::Done,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Waiting => "waiting",
            State::Drafted => "drafted",
            State::Closing => "closing",
            State::Replied => "replied",
            State::LetGo => "let_go",
            State::Bounced => "bounced",
            State::OptedOut => "opted_out",
            State::Stopped => "stopped",
            State::Snoozed => "snoozed",
            State::Deferred => "deferred",
            State::Departed => "departed",
            State::Done => "done",
        }
    }

    /// True while nudge is still waiting on the prospect (a reply can end it).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            State::Waiting | State::Drafted | State::Closing | State::Snoozed | State::Deferred
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for State {
    type Err = String;

    fn from_str(s: &str) -> Result<State, String> {
        State::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| format!("unknown state {s:?}"))
    }
}

/// A conversation nudge follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conversation {
    pub id: i64,
    /// The thread it belongs to (store id).
    #[serde(skip)]
    pub thread_id: i64,
    pub subject: String,
    /// External addresses the seller wrote to, lower-case.
    pub prospects: Vec<String>,
    pub state: State,
    /// 0 after the opener; 1..n follow-ups sent.
    pub step: u32,
    pub first_touch_at: DateTime<Utc>,
    pub last_touch_at: DateTime<Utc>,
    /// The store id of the seller's latest message (the one a draft answers).
    #[serde(skip)]
    pub last_touch_message: Option<i64>,
    pub last_inbound_at: Option<DateTime<Utc>>,
    /// The step after which the prospect answered.
    pub replied_after_step: Option<u32>,
    pub next_due: Option<DateTime<Utc>>,
    /// An out-of-office return date: nothing is due before the business day after it.
    pub not_before: Option<NaiveDate>,
    /// After a skipped (dismissed) draft, the next wait counts from here.
    pub wait_from: Option<DateTime<Utc>>,
    pub snoozed_until: Option<DateTime<Utc>>,
    pub stop_reason: Option<String>,
    pub language: Option<String>,
    /// The Message-ID of the reply (in the thread) that ended the wait: only a touch that
    /// answers it starts the cadence again.
    #[serde(skip)]
    pub last_reply_message_id: Option<String>,
    /// What the prospect's latest reply said that nudge acts on: a deferral, a departure,
    /// whether it asks the seller something.
    pub heard: Heard,
    /// How many times the stored row changed: an update applies only to the version it read.
    #[serde(skip)]
    pub version: i64,
}

impl Conversation {
    /// A conversation just tracked: the seller's touch at `touched_at` waits for an answer.
    pub fn new(
        thread_id: i64,
        subject: &str,
        prospects: Vec<String>,
        touched_at: DateTime<Utc>,
        touch_message: Option<i64>,
    ) -> Conversation {
        Conversation {
            id: 0,
            thread_id,
            subject: subject.to_string(),
            prospects,
            state: State::Waiting,
            step: 0,
            first_touch_at: touched_at,
            last_touch_at: touched_at,
            last_touch_message: touch_message,
            last_inbound_at: None,
            replied_after_step: None,
            next_due: None,
            not_before: None,
            wait_from: None,
            snoozed_until: None,
            stop_reason: None,
            language: None,
            last_reply_message_id: None,
            heard: Heard::default(),
            version: 0,
        }
    }
}

/// What a reply says beyond its class (stored as JSON on messages and conversations).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Heard {
    /// "Not now, try us again after the summer".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferral: Option<Deferral>,
    /// "Ingrid no longer works here; please contact per@…".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departure: Option<Departure>,
    /// The reply asks the seller something or asks for an action.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub asks: bool,
}

impl Heard {
    /// Nothing heard: stored as NULL.
    pub fn is_empty(&self) -> bool {
        self.deferral.is_none() && self.departure.is_none() && !self.asks
    }

    /// The JSON the store keeps; `None` when nothing was heard.
    pub fn to_json(&self) -> Option<String> {
        (!self.is_empty()).then(|| serde_json::to_string(self).unwrap_or_default())
    }

    /// From the store's JSON; a value that does not read is nothing heard.
    pub fn from_json(json: Option<&str>) -> Heard {
        json.and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default()
    }
}

pub use crate::mail::intent::{Deferral, Departure};

/// One entry of a conversation's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub at: DateTime<Utc>,
    /// What happened.
    pub kind: EventKind,
    /// Details in plain words.
    pub detail: String,
    /// The cadence step it belongs to (a reply: the step after which it came), when known.
    pub step: Option<u32>,
}

/// A message as nudge stored it: header facts, what its text says, and where it was found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub id: i64,
    pub folder: String,
    /// The role of its folder: only Sent holds the seller's touches.
    pub origin: Origin,
    pub uid: u32,
    pub thread_id: i64,
    pub message_id: Option<String>,
    /// Its In-Reply-To; read back from the store, without the ids `references` names too
    /// (what it answers is the two together: [`Message::names`]).
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub from_addr: String,
    pub from_name: Option<String>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub subject: String,
    /// The Date header, else the INTERNALDATE.
    pub date: DateTime<Utc>,
    /// When the seller's server had it: the later of INTERNALDATE and Date.
    pub arrived: DateTime<Utc>,
    pub flags: Vec<String>,
    /// The From line names a seller identity (a claim: only Sent makes it the seller's).
    pub from_seller: bool,
    /// List mail, Auto-Submitted, or nudge's own summary: never a touch or a reply.
    pub automated: bool,
    /// What the message is, from its headers at sync time and its text once read.
    pub class: Option<MessageClass>,
    pub return_date: Option<NaiveDate>,
    pub bounced_message_id: Option<String>,
    pub bounced_recipient: Option<String>,
    /// The start of its new text.
    pub snippet: String,
    /// Its text was read (not only its headers).
    pub has_body: bool,
    /// What its text says beyond its class.
    pub heard: Heard,
    /// Its Organization header (mail from others only).
    pub organization: Option<String>,
}

/// True when IMAP flags include `\Flagged` (the only flag nudge reads: tracking mode
/// "flagged").
pub fn flagged(flags: &[String]) -> bool {
    flags.iter().any(|f| f.eq_ignore_ascii_case("\\Flagged"))
}

impl Message {
    /// To and Cc.
    pub fn recipients(&self) -> impl Iterator<Item = &Mailbox> {
        self.to.iter().chain(self.cc.iter())
    }

    pub fn is_flagged(&self) -> bool {
        flagged(&self.flags)
    }

    /// True when its In-Reply-To or References name `message_id`.
    pub fn names(&self, message_id: &str) -> bool {
        self.in_reply_to
            .iter()
            .chain(self.references.iter())
            .any(|id| id == message_id)
    }

    /// The sender's name, else address, for the history; a message without a sender (no
    /// From, or `From: <>`) still says who wrote it.
    pub fn who(&self) -> String {
        self.from_name
            .clone()
            .filter(|name| !name.trim().is_empty())
            .or_else(|| Some(self.from_addr.clone()).filter(|a| !a.trim().is_empty()))
            .unwrap_or_else(|| UNKNOWN_SENDER.to_string())
    }
}

/// How the history names the sender of a message without a From address.
pub const UNKNOWN_SENDER: &str = "a sender without an address";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_without_a_sender_is_named_in_the_history() {
        let mut message = Message::default();
        assert_eq!(message.who(), UNKNOWN_SENDER);
        message.from_addr = "per@havbruk.no".into();
        assert_eq!(message.who(), "per@havbruk.no");
        message.from_name = Some("Per Olsen".into());
        assert_eq!(message.who(), "Per Olsen");
    }
}
