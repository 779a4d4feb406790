//! The seller's words: conversations, their states, and the history of what happened.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

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
}

impl State {
    pub const ALL: [State; 9] = [
        State::Waiting,
        State::Drafted,
        State::Closing,
        State::Replied,
        State::LetGo,
        State::Bounced,
        State::OptedOut,
        State::Stopped,
        State::Snoozed,
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
        }
    }

    /// True while nudge is still waiting on the prospect (a reply can end it).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            State::Waiting | State::Drafted | State::Closing | State::Snoozed
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
        }
    }
}

/// One entry of a conversation's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub at: DateTime<Utc>,
    /// What happened: `tracked`, `touch`, `reply`, `auto_reply`, `bounce`, `opt_out`, …
    pub kind: String,
    /// Details in plain words.
    pub detail: String,
}
