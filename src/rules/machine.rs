//! The one state machine of a conversation. Every change of state — from mail, from the
//! cadence, from the command line — is a [`Transition`] applied here, so a rule such as
//! "the step after the last one is closing" is written once.

use chrono::{DateTime, Utc};

use super::{event, Effect, EventKind, Link, Suppressed};
use crate::config::OnDismiss;
use crate::model::{Conversation, Departure, Heard, Message, State};

/// The stop reason of a conversation whose draft the seller deleted.
pub const DISMISSED: &str = "dismissed";

/// Something that happens to a conversation.
#[derive(Debug, Clone)]
pub enum Transition<'a> {
    /// The seller wrote in the conversation (a touch from Sent with these prospects).
    Touch {
        message: &'a Message,
        prospects: Vec<String>,
        steps_total: u32,
    },
    /// A person answered, at `at` (when the server received it).
    Reply {
        who: String,
        link: Link,
        /// The reply's Message-ID when it is in the thread: only a touch that answers it
        /// starts the cadence again.
        message_id: Option<String>,
        at: DateTime<Utc>,
        /// What the reply says beyond being one: a deferral, whether it asks something.
        heard: Heard,
    },
    AutoReply {
        who: String,
        return_date: Option<chrono::NaiveDate>,
    },
    OptOut {
        who: String,
        link: Link,
    },
    /// Delivery to `failed` failed; `ends` when no prospect is left to write to.
    Bounce {
        failed: Vec<String>,
        ends: bool,
    },
    /// A reply or an auto-reply says the person has left (SPEC 15): never followed up again;
    /// the addresses the text names are the seller's to consider.
    Departed {
        who: String,
        departure: Departure,
        at: DateTime<Utc>,
        /// Other prospects are left on the conversation: it goes on with them, and the
        /// history notes who left.
        others_left: bool,
    },
    /// `nudge done`: the seller marks the conversation won or finished.
    Done,
    /// nudge put a follow-up into Drafts.
    Drafted {
        step: u32,
        description: String,
        language: String,
    },
    /// The seller's sent copy of the draft of `step` showed up after the draft had been read
    /// as dismissed (a slow client, or a send while a pass ran): the touch counts as that step
    /// and the dismissal is undone.
    DismissalRevised {
        message: &'a Message,
        prospects: Vec<String>,
        step: u32,
        steps_total: u32,
    },
    /// The seller deleted nudge's draft of `step`.
    Dismissed {
        step: u32,
        on_dismiss: OnDismiss,
        steps_total: u32,
        now: DateTime<Utc>,
    },
    /// No answer after the close-the-loop message.
    LetGo,
    /// Stopped, with the reason kept on the conversation and the words for the history.
    Stop {
        reason: String,
        detail: String,
    },
    /// `nudge resume`: the wait for the next step starts again from `now`.
    Resume {
        steps_total: u32,
        now: DateTime<Utc>,
    },
    /// Its thread turned out to be the thread of conversation `into`, which goes on.
    Merged {
        into: i64,
    },
    /// A colleague of the seller's team wrote to the same organisation lately: the due
    /// follow-up waits until `until` (a business day), so that two sellers do not follow up
    /// with one company in the same week.
    Overlap {
        colleague: String,
        organisation: String,
        touched: chrono::NaiveDate,
        until: chrono::NaiveDate,
    },
    /// A prospect the waiting draft may address went on the suppression list (a colleague's
    /// opt-out): the draft is withdrawn and made again, without them, as the cadence says.
    Redraft {
        detail: String,
    },
    /// `nudge snooze`: nothing is due before `until`.
    Snooze {
        until: DateTime<Utc>,
        label: String,
    },
}

/// A conversation after a transition, and what the history says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub next: Conversation,
    pub kind: EventKind,
    pub detail: String,
    /// The step the event belongs to (a reply: the step after which it came).
    pub step: Option<u32>,
    /// The conversation does not change: only the history records it.
    pub note_only: bool,
}

impl Outcome {
    /// The effect to write, with the event at `at`.
    pub fn into_effect(self, at: DateTime<Utc>) -> Effect {
        let mut e = event(at, self.kind, self.detail);
        e.step = self.step;
        if self.note_only {
            Effect::Note(self.next.id, e)
        } else {
            Effect::Update(self.next, e)
        }
    }
}

/// The seller's message becomes the last touch: the wait counts from it, and whoever it was
/// sent to besides is followed up too.
fn record_touch(next: &mut Conversation, message: &Message, prospects: Vec<String>) {
    next.last_touch_at = message.date;
    next.last_touch_message = Some(message.id);
    next.wait_from = None;
    for p in prospects {
        if !next.prospects.contains(&p) {
            next.prospects.push(p);
        }
    }
}

/// The state for an open conversation at `step`: past the last follow-up it is closing.
pub fn waiting_or_closing(step: u32, steps_total: u32) -> State {
    if step >= steps_total {
        State::Closing
    } else {
        State::Waiting
    }
}

/// Applies a transition. Pure; never fails: a transition that does not apply to the state
/// gives a note for the history and leaves the conversation as it is.
pub fn apply(c: &Conversation, transition: Transition<'_>) -> Outcome {
    let mut next = c.clone();
    let mut note_only = false;
    let mut step = Some(c.step);
    let (kind, detail) = match transition {
        Transition::Touch {
            message,
            prospects,
            steps_total,
        } => {
            let answers_reply = match &c.last_reply_message_id {
                Some(reply) => message.names(reply),
                None => c.last_inbound_at.is_none_or(|i| message.date > i),
            };
            if c.state == State::Replied && !answers_reply {
                // Sent before the reply arrived, or not in answer to it: the prospect is
                // still waiting on the seller.
                note_only = true;
                (
                    EventKind::Touch,
                    "the seller's message crossed the prospect's reply: still waiting on the seller"
                        .to_string(),
                )
            } else {
                record_touch(&mut next, message, prospects);
                let detail = match c.state {
                    State::Replied | State::LetGo | State::Deferred | State::Done => {
                        // The conversation goes on and the seller is waiting once more.
                        next.state = State::Waiting;
                        next.step = 0;
                        next.replied_after_step = None;
                        next.last_reply_message_id = None;
                        next.not_before = None;
                        next.next_due = None;
                        next.heard = Heard::default();
                        next.stop_reason = None;
                        format!(
                            "the seller wrote again after it was {}: following up from the start",
                            c.state
                        )
                    }
                    State::Drafted if c.heard.deferral.is_some() => {
                        // The check-back the prospect asked for: the cadence goes on after it.
                        next.step = c.step + 1;
                        next.state = waiting_or_closing(next.step, steps_total);
                        next.heard = Heard::default();
                        "the seller sent the check-back the prospect asked for".to_string()
                    }
                    State::Drafted => {
                        next.step = c.step + 1;
                        next.state = waiting_or_closing(next.step, steps_total);
                        if next.step >= steps_total {
                            "the seller sent the close-the-loop message".to_string()
                        } else {
                            format!("the seller sent follow-up {}", next.step)
                        }
                    }
                    State::Waiting | State::Closing | State::Snoozed => {
                        "the seller wrote again by hand: the wait starts over".to_string()
                    }
                    State::Stopped | State::Bounced | State::OptedOut | State::Departed => {
                        "the seller wrote again".to_string()
                    }
                };
                step = Some(next.step);
                (EventKind::Touch, detail)
            }
        }
        Transition::Reply {
            who,
            link,
            message_id,
            at,
            heard,
        } => {
            let link = link.describe();
            next.last_inbound_at = Some(next.last_inbound_at.map_or(at, |i| i.max(at)));
            // A deferral to a day still ahead: the conversation waits for it (SPEC 15).
            let deferred_to = heard
                .deferral
                .as_ref()
                .and_then(|d| d.from)
                .filter(|from| *from > at.date_naive());
            let understood = heard
                .deferral
                .as_ref()
                .map(|d| match deferred_to {
                    Some(from) => format!(
                        "; asked to hear back from {from} (\u{201c}{}\u{201d})",
                        d.phrase
                    ),
                    None => format!("; said not now (\u{201c}{}\u{201d})", d.phrase),
                })
                .unwrap_or_default();
            let defer = |next: &mut Conversation| {
                if deferred_to.is_some() {
                    // The check-back opens a fresh cadence.
                    next.state = State::Deferred;
                    next.step = 0;
                    next.not_before = None;
                    next.wait_from = None;
                }
            };
            match c.state {
                State::Deferred => {
                    // The prospect wrote again before the day they named.
                    next.state = State::Replied;
                    next.heard = heard;
                    if message_id.is_some() {
                        next.last_reply_message_id = message_id;
                    }
                    defer(&mut next);
                    step = c.replied_after_step;
                    (
                        EventKind::WroteAgain,
                        format!("{who} wrote again{understood}"),
                    )
                }
                s if s.is_open() || s == State::LetGo => {
                    let came_back = matches!(s, State::Closing | State::LetGo);
                    next.state = State::Replied;
                    next.replied_after_step = Some(c.step);
                    next.last_reply_message_id = message_id;
                    next.heard = heard;
                    defer(&mut next);
                    (
                        EventKind::Reply,
                        format!(
                            "{who} replied {link}{}{understood}",
                            if came_back {
                                "; came back after close"
                            } else {
                                ""
                            }
                        ),
                    )
                }
                State::Replied => {
                    if message_id.is_some() {
                        next.last_reply_message_id = message_id;
                    }
                    next.heard = heard;
                    defer(&mut next);
                    step = c.replied_after_step;
                    (
                        EventKind::WroteAgain,
                        format!("{who} wrote again{understood}"),
                    )
                }
                // Stopped, bounced, opted out, departed or done: the reply is recorded (the
                // seller should answer it), the state stays.
                other => (
                    EventKind::Reply,
                    format!("{who} replied {link} (the conversation is {other})"),
                ),
            }
        }
        Transition::Departed {
            who,
            departure,
            at,
            others_left,
        } => {
            let instead = if departure.replacements.is_empty() {
                String::new()
            } else {
                format!(
                    "; the text names {} to contact instead",
                    departure.replacements.join(", ")
                )
            };
            let goes_on = if others_left {
                "; follow-ups go on with the others"
            } else {
                ""
            };
            let detail = format!(
                "{who}: has left (\u{201c}{}\u{201d}){goes_on}{instead}",
                departure.phrase
            );
            if others_left {
                note_only = true;
                step = None;
            } else if matches!(
                c.state,
                State::Bounced | State::OptedOut | State::Departed | State::Done
            ) {
                note_only = true;
            } else {
                next.last_inbound_at = Some(next.last_inbound_at.map_or(at, |i| i.max(at)));
                next.state = State::Departed;
                next.stop_reason = Some("departed".into());
                next.heard = Heard {
                    departure: Some(departure),
                    ..Heard::default()
                };
            }
            (EventKind::Departed, detail)
        }
        Transition::Done => {
            if c.state == State::Done {
                note_only = true;
            }
            next.state = State::Done;
            next.stop_reason = Some("done".into());
            (
                EventKind::Done,
                "marked done by the seller (nudge done): not followed up again until the \
                 seller writes again"
                    .to_string(),
            )
        }
        Transition::AutoReply { who, return_date } => match return_date {
            Some(date) => {
                next.not_before = Some(next.not_before.map_or(date, |d| d.max(date)));
                (
                    EventKind::AutoReply,
                    format!("automatic reply from {who}: back {date}; nothing is due before then"),
                )
            }
            None => (
                EventKind::AutoReply,
                format!("automatic reply from {who}, no return date: schedule unchanged"),
            ),
        },
        Transition::OptOut { who, link } => {
            if c.state == State::OptedOut {
                note_only = true;
            }
            next.state = State::OptedOut;
            next.stop_reason = Some("opted out".into());
            (
                EventKind::OptOut,
                format!("{who} asked not to be contacted ({})", link.describe()),
            )
        }
        Transition::Bounce { failed, ends } => {
            let failed = failed.join(", ");
            if ends && !matches!(c.state, State::Bounced | State::OptedOut) {
                next.state = State::Bounced;
                next.stop_reason = Some("bounced".into());
                (EventKind::Bounce, format!("delivery to {failed} failed"))
            } else {
                note_only = true;
                let rest = if ends {
                    String::new()
                } else {
                    "; follow-ups go on with the others".to_string()
                };
                (
                    EventKind::Noted,
                    format!("delivery to {failed} failed{rest}"),
                )
            }
        }
        Transition::Drafted {
            step: drafted,
            description,
            language,
        } => {
            step = Some(drafted);
            if !c.state.is_open() || c.state == State::Drafted {
                note_only = true;
            } else {
                next.state = State::Drafted;
                next.language = Some(language);
            }
            (EventKind::Drafted, description)
        }
        Transition::Dismissed {
            step: dismissed,
            on_dismiss,
            steps_total,
            now,
        } => {
            step = Some(dismissed);
            match on_dismiss {
                OnDismiss::Stop => {
                    next.state = State::Stopped;
                    next.stop_reason = Some(DISMISSED.into());
                    (
                        EventKind::Dismissed,
                        format!("the seller deleted follow-up {dismissed}: stopped"),
                    )
                }
                OnDismiss::Skip => {
                    next.heard.deferral = None;
                    next.step = dismissed;
                    next.state = waiting_or_closing(dismissed, steps_total);
                    next.wait_from = Some(now);
                    (
                        EventKind::Dismissed,
                        format!(
                            "the seller deleted follow-up {dismissed}: skipped to the next step"
                        ),
                    )
                }
            }
        }
        Transition::DismissalRevised {
            message,
            prospects,
            step: sent,
            steps_total,
        } => {
            record_touch(&mut next, message, prospects);
            next.step = c.step.max(sent);
            if c.state != State::Snoozed {
                next.state = waiting_or_closing(next.step, steps_total);
            }
            next.heard.deferral = None;
            if c.state == State::Stopped {
                next.stop_reason = None;
            }
            step = Some(next.step);
            let what = if sent >= steps_total {
                "the close-the-loop message".to_string()
            } else {
                format!("follow-up {sent}")
            };
            (
                EventKind::Touch,
                format!(
                    "the seller sent {what} after all (its copy reached Sent after the draft \
                     had left Drafts): the dismissal is revised"
                ),
            )
        }
        Transition::LetGo => {
            next.state = State::LetGo;
            (
                EventKind::LetGo,
                "no reply after the close-the-loop message: let go".to_string(),
            )
        }
        Transition::Overlap {
            colleague,
            organisation,
            touched,
            until,
        } => {
            // `not_before` holds back until the first business day after it: the day before.
            let before = until.pred_opt().unwrap_or(until);
            next.not_before = Some(next.not_before.map_or(before, |d| d.max(before)));
            (
                EventKind::Noted,
                format!(
                    "{colleague} of your team wrote to {organisation} on {touched}: the \
                     follow-up waits until {until}"
                ),
            )
        }
        Transition::Stop { reason, detail } => {
            next.state = State::Stopped;
            next.stop_reason = Some(reason);
            (EventKind::Stopped, detail)
        }
        Transition::Merged { into } => {
            next.state = State::Stopped;
            next.stop_reason = Some(format!("merged into conversation {into}"));
            (
                EventKind::Merged,
                format!("the thread turned out to be conversation {into}'s"),
            )
        }
        Transition::Resume { steps_total, now } => {
            next.state = waiting_or_closing(c.step, steps_total);
            next.stop_reason = None;
            next.snoozed_until = None;
            next.wait_from = Some(now);
            // A deferral the seller overrides: the cadence goes on now.
            next.heard.deferral = None;
            (
                EventKind::Resumed,
                "resumed by the seller (nudge resume)".to_string(),
            )
        }
        Transition::Redraft { detail } => {
            if c.state == State::Drafted {
                next.state = State::Waiting;
            } else {
                note_only = true;
            }
            (EventKind::Noted, detail)
        }
        Transition::Snooze { until, label } => {
            next.state = State::Snoozed;
            next.snoozed_until = Some(until);
            // The seller's date replaces the one the prospect named.
            next.heard.deferral = None;
            (
                EventKind::Snoozed,
                format!("snoozed until {label} (nudge snooze)"),
            )
        }
    };
    if note_only {
        next = c.clone();
    }
    if !next.state.is_open() || next.state == State::Drafted {
        // Nothing is due while a draft waits or after the conversation ended.
        next.next_due = None;
    }
    Outcome {
        next,
        kind,
        detail,
        step,
        note_only,
    }
}

/// What a bounce does (SPEC 4): it ends only the recipient that failed. A failed address
/// that is not a prospect of the conversation (a colleague on Cc, a CRM drop box) changes
/// nothing; when the report names nobody, the prospect it must mean is the only one, or the
/// ones its text names.
pub fn bounce(c: &Conversation, message: &Message, suppressed: &dyn Suppressed) -> Vec<Effect> {
    let at = message.arrived;
    let failed: Vec<String> = match &message.bounced_recipient {
        Some(address) => {
            let address = address.to_ascii_lowercase();
            if !c.prospects.contains(&address) {
                let note = super::event(
                    at,
                    EventKind::Noted,
                    format!(
                        "delivery to {address} failed; not a prospect of this conversation: nothing changed"
                    ),
                );
                return vec![Effect::Note(c.id, note)];
            }
            vec![address]
        }
        None if c.prospects.len() == 1 => c.prospects.clone(),
        None => {
            let text = message.snippet.to_ascii_lowercase();
            let named: Vec<String> = c
                .prospects
                .iter()
                .filter(|p| text.contains(p.as_str()))
                .cloned()
                .collect();
            if named.is_empty() {
                let note = super::event(
                    at,
                    EventKind::Noted,
                    "a delivery failure that names no recipient of this conversation: nothing changed",
                );
                return vec![Effect::Note(c.id, note)];
            }
            named
        }
    };
    let ends = c
        .prospects
        .iter()
        .all(|p| failed.contains(p) || suppressed.is_suppressed(p));
    let mut effects = vec![apply(
        c,
        Transition::Bounce {
            failed: failed.clone(),
            ends,
        },
    )
    .into_effect(at)];
    effects.extend(failed.into_iter().map(|address| Effect::Suppress {
        address,
        reason: "bounced".into(),
    }));
    effects
}
