//! Which conversations are tracked (SPEC 3) and what an inbound message does to one (SPEC 4).
//! Pure decisions over stored messages and conversations; the engine gathers the facts and
//! writes the effects.

use chrono::{DateTime, Utc};

use crate::config::{Account, TrackMode, Tracking};
use crate::mail::address::{domain, is_freemail, is_robot, matches_pattern, same_organisation};
use crate::model::{Conversation, Event, State};
use crate::store::{Effect, StoredMessage};

/// The seller's identity and tracking settings, for the decisions below.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    pub account: &'a Account,
    pub tracking: &'a Tracking,
}

/// How an inbound message is tied to a conversation (SPEC 4, in order of strength).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// In the thread, by In-Reply-To / References / X-GM-THRID.
    Thread,
    /// A bounce whose returned message belongs to the conversation.
    Returned,
    /// From a prospect's address, in another thread (the client broke the thread).
    SameAddress,
    /// From the prospect's organisation (`stop_on_same_domain`).
    SameOrganisation,
}

impl Link {
    fn describe(self) -> &'static str {
        match self {
            Link::Thread => "in the thread",
            Link::Returned => "returning the seller's message",
            Link::SameAddress => "from the prospect, outside the thread",
            Link::SameOrganisation => "from the prospect's organisation",
        }
    }
}

/// What a seller's message means for tracking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TouchOutcome {
    /// Nothing to do, and why (for the debug log).
    Ignore(&'static str),
    /// Start following a new conversation.
    Track(Box<Conversation>),
}

impl Policy<'_> {
    /// True for the seller's own addresses and colleagues in the seller's domains.
    pub fn is_own_side(&self, address: &str) -> bool {
        let address = address.to_ascii_lowercase();
        if self.account.is_seller(&address) {
            return true;
        }
        let d = domain(&address);
        self.account
            .own_domains
            .iter()
            .any(|own| d == *own || d.ends_with(&format!(".{own}")))
    }

    /// The recipients of a seller's message nudge may follow up with: external, not robots,
    /// not ignored by pattern, not suppressed.
    pub fn prospects(
        &self,
        message: &StoredMessage,
        suppressed: &dyn Fn(&str) -> bool,
    ) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for recipient in message.recipients() {
            let a = &recipient.address;
            if self.is_own_side(a)
                || is_robot(a)
                || self.tracking.ignore.iter().any(|p| matches_pattern(p, a))
                || suppressed(a)
                || out.contains(a)
            {
                continue;
            }
            out.push(a.clone());
        }
        out
    }

    /// Decides whether a seller's message starts a tracked conversation (none exists yet).
    /// `thread_automated` tells whether the thread holds list or automated inbound mail.
    pub fn on_new_touch(
        &self,
        message: &StoredMessage,
        prospects: Vec<String>,
        thread_automated: bool,
        now: DateTime<Utc>,
    ) -> TouchOutcome {
        if message.automated {
            return TouchOutcome::Ignore("automated message (Auto-Submitted or summary)");
        }
        if prospects.is_empty() {
            return TouchOutcome::Ignore("no external recipient to follow up");
        }
        if thread_automated {
            return TouchOutcome::Ignore("mailing list or automated thread");
        }
        if message.date < now - chrono::Duration::days(i64::from(self.tracking.lookback_days)) {
            return TouchOutcome::Ignore("older than lookback_days");
        }
        if self.tracking.mode == TrackMode::Flagged && !message.is_flagged() {
            return TouchOutcome::Ignore("not flagged (tracking mode flagged)");
        }
        TouchOutcome::Track(Box::new(Conversation::new(
            message.thread_id,
            &message.subject,
            prospects,
            message.date,
            Some(message.id),
        )))
    }

    /// The seller wrote again in a tracked conversation. A touch that replaces a pending
    /// draft counts as that step; one written by hand while no draft waits restarts the wait
    /// for the current step. Returns `None` when the message is not newer than the last touch.
    pub fn on_later_touch(
        &self,
        conversation: &Conversation,
        message: &StoredMessage,
        prospects: Vec<String>,
        steps_total: u32,
    ) -> Option<(Conversation, Event)> {
        if message.automated || message.date <= conversation.last_touch_at {
            return None;
        }
        let mut next = conversation.clone();
        next.last_touch_at = message.date;
        next.last_touch_message = Some(message.id);
        next.wait_from = None;
        for p in prospects {
            if !next.prospects.contains(&p) {
                next.prospects.push(p);
            }
        }
        let detail = match conversation.state {
            State::Replied | State::LetGo => {
                // The conversation goes on and the seller is waiting once more.
                next.state = State::Waiting;
                next.step = 0;
                next.replied_after_step = None;
                next.not_before = None;
                next.next_due = None;
                format!(
                    "the seller wrote again after it was {}: following up from the start",
                    conversation.state
                )
            }
            State::Drafted => {
                next.step = conversation.step + 1;
                next.state = if next.step >= steps_total {
                    State::Closing
                } else {
                    State::Waiting
                };
                if next.step >= steps_total {
                    "the seller sent the close-the-loop message".to_string()
                } else {
                    format!("the seller sent follow-up {}", next.step)
                }
            }
            State::Waiting | State::Closing | State::Snoozed => {
                "the seller wrote again by hand: the wait starts over".to_string()
            }
            _ => "the seller wrote again".to_string(),
        };
        Some((next, event(message.date, "touch", detail)))
    }

    /// Which open conversations an inbound message from `from` could concern besides its own
    /// thread: the same address, or (outside free mail) the same organisation.
    pub fn link_by_sender(&self, conversation: &Conversation, from: &str) -> Option<Link> {
        let from = from.to_ascii_lowercase();
        if conversation.prospects.contains(&from) {
            return Some(Link::SameAddress);
        }
        if self.tracking.stop_on_same_domain
            && !is_freemail(&domain(&from))
            && conversation
                .prospects
                .iter()
                .any(|p| same_organisation(p, &from))
        {
            return Some(Link::SameOrganisation);
        }
        None
    }
}

/// What an inbound message does to a conversation (SPEC 4). `None` when it does nothing:
/// dated before the last touch, or the conversation is no longer open.
pub fn on_inbound(
    conversation: &Conversation,
    message: &StoredMessage,
    link: Link,
) -> Option<Vec<Effect>> {
    if message.date <= conversation.last_touch_at {
        return None;
    }
    let class = message.class.as_deref().unwrap_or("reply");
    let who = message
        .from_name
        .clone()
        .unwrap_or_else(|| message.from_addr.clone());
    let mut next = conversation.clone();
    next.last_inbound_at = Some(message.date);
    let open = conversation.state.is_open();
    match class {
        "bounce" if open => {
            next.state = State::Bounced;
            next.stop_reason = Some("bounced".into());
            let failed = message
                .bounced_recipient
                .clone()
                .filter(|r| conversation.prospects.contains(r));
            let suppressed: Vec<String> = match failed {
                Some(address) => vec![address],
                None => conversation.prospects.clone(),
            };
            let mut effects = vec![Effect::Update(
                next,
                event(
                    message.date,
                    "bounce",
                    format!("delivery to {} failed", suppressed.join(", ")),
                ),
            )];
            effects.extend(suppressed.into_iter().map(|address| Effect::Suppress {
                address,
                reason: "bounced".into(),
            }));
            Some(effects)
        }
        "auto_reply" if open => {
            let detail = match message.return_date {
                Some(date) => {
                    next.not_before = Some(next.not_before.map_or(date, |d| d.max(date)));
                    format!("automatic reply from {who}: back {date}; nothing is due before then")
                }
                None => format!("automatic reply from {who}, no return date: schedule unchanged"),
            };
            Some(vec![Effect::Update(
                next,
                event(message.date, "auto_reply", detail),
            )])
        }
        "opt_out" if open || conversation.state == State::Replied => {
            next.state = State::OptedOut;
            next.stop_reason = Some("opted out".into());
            Some(vec![
                Effect::Update(
                    next,
                    event(
                        message.date,
                        "opt_out",
                        format!("{who} asked not to be contacted ({})", link.describe()),
                    ),
                ),
                Effect::Suppress {
                    address: message.from_addr.clone(),
                    reason: "opted_out".into(),
                },
            ])
        }
        "reply" if open => {
            let after_close = conversation.state == State::Closing;
            next.state = State::Replied;
            next.replied_after_step = Some(conversation.step);
            next.next_due = None;
            let detail = format!(
                "{who} replied {}{}",
                link.describe(),
                if after_close {
                    "; came back after close"
                } else {
                    ""
                }
            );
            Some(vec![Effect::Update(
                next,
                event(message.date, "reply", detail),
            )])
        }
        "reply" if conversation.state == State::LetGo => {
            next.state = State::Replied;
            next.replied_after_step = Some(conversation.step);
            let detail = format!("{who} replied {}; came back after close", link.describe());
            Some(vec![Effect::Update(
                next,
                event(message.date, "reply", detail),
            )])
        }
        "reply" if conversation.state == State::Replied => Some(vec![Effect::Update(
            next,
            event(message.date, "wrote_again", format!("{who} wrote again")),
        )]),
        _ => None,
    }
}

/// An event at `at`.
pub fn event(at: DateTime<Utc>, kind: &str, detail: impl Into<String>) -> Event {
    Event {
        at,
        kind: kind.to_string(),
        detail: detail.into(),
    }
}
