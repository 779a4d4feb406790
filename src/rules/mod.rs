//! The conversation's rules, in one place and without I/O (SPEC 2–7).
//!
//! Sync, the daemon and the command line all decide through this module:
//! - [`Rules::role`] says what a stored message is to nudge: the seller's touch (only a message
//!   in the Sent folder, from a seller identity, to at least one prospect), an inbound message
//!   worth deciding on, or nothing;
//! - [`link::Index`] finds the conversations an inbound message concerns, and how;
//! - [`Rules::on_touch`] and [`Rules::on_inbound`] turn a message into [`Effect`]s;
//! - [`machine`] is the one state machine every change of a conversation goes through;
//! - [`recipients`] decides who a draft is addressed to.
//!
//! The store maps rows to these types and back; the engine gathers facts and writes effects.

pub mod link;
pub mod machine;
pub mod recipients;

use chrono::{DateTime, Utc};

use crate::config::{Account, TrackMode, Tracking};
use crate::mail::address::{domain, is_robot, matches_pattern};
pub use crate::mail::classify::MessageClass;
use crate::model::{Conversation, Event, Message, State};
pub use link::Link;
use machine::Transition;

/// What happened to a conversation, as its history records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// nudge started following the conversation.
    Tracked,
    /// The seller wrote in it (a touch).
    Touch,
    /// The prospect answered.
    Reply,
    /// The prospect wrote again after answering.
    WroteAgain,
    /// An out-of-office or other autoresponder.
    AutoReply,
    /// A delivery failure.
    Bounce,
    /// The prospect asked not to be contacted.
    OptOut,
    /// nudge put a follow-up into Drafts.
    Drafted,
    /// The seller deleted nudge's draft.
    Dismissed,
    /// No answer after the close-the-loop message.
    LetGo,
    /// Stopped: by the seller, or because nobody is left to follow up.
    Stopped,
    Resumed,
    Snoozed,
    /// Two threads turned out to be one.
    Merged,
    /// The prospect has left their company.
    Departed,
    /// The seller marked the conversation done.
    Done,
    /// Something worth keeping in the history that changes nothing.
    Noted,
}

/// The folder a message was found in, by its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Origin {
    Inbox,
    Sent,
    Drafts,
    Trash,
    /// Another folder searched before drafting (Archive, All Mail, a customer folder): its
    /// mail counts like INBOX mail.
    Archive,
    /// Any other folder (or one whose role is not known).
    #[default]
    Other,
}

/// A change decided by the rules, written together with others in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Start following a conversation (its `id` is ignored and assigned by the store).
    Track(Conversation, Event),
    /// Save a conversation's new fields, with what happened.
    Update(Conversation, Event),
    /// Record what happened without changing the conversation.
    Note(i64, Event),
    /// Put an address on the suppression list.
    Suppress { address: String, reason: String },
    /// The seller's sent copy of the draft of `step` showed up after the draft was read as
    /// dismissed: the draft's record says sent.
    DraftSent { conversation_id: i64, step: u32 },
}

/// What a stored message is to nudge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The seller wrote to these prospects (external, not robots, not ignored).
    Touch(Vec<String>),
    /// Mail from someone else that may move a conversation.
    Inbound(MessageClass),
    /// Nothing to decide, and why (for the debug log).
    Ignore(&'static str),
}

/// The outcome of [`Rules::decide`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Write these effects (with the message marked processed).
    Effects(Vec<Effect>),
    /// Nothing changes, and why (for the debug log).
    Nothing(&'static str),
}

impl Decision {
    /// The effects to write (none for [`Decision::Nothing`]).
    pub fn effects(self) -> Vec<Effect> {
        match self {
            Decision::Effects(effects) => effects,
            Decision::Nothing(_) => Vec::new(),
        }
    }
}

/// The seller's identity, tracking settings and cadence length: everything the rules read
/// from the configuration, and when nudge first started on its store.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub account: &'a Account,
    pub tracking: &'a Tracking,
    /// How many follow-ups the cadence has (the last is close-the-loop).
    pub steps_total: u32,
    /// When nudge first started on this store (the store's `first_started_at`; the pass's
    /// `now` until the first pass is done). `lookback_days` counts back from here, so it
    /// bounds only what the first start picks up: after weeks with nudge not running, what
    /// the seller wrote meanwhile is still tracked.
    pub first_started_at: DateTime<Utc>,
}

/// Addresses and domains on the suppression list.
pub trait Suppressed {
    fn is_suppressed(&self, address: &str) -> bool;
}

impl Suppressed for std::collections::HashSet<String> {
    fn is_suppressed(&self, address: &str) -> bool {
        let address = address.to_ascii_lowercase();
        self.contains(&address) || self.contains(&domain(&address))
    }
}

impl<F: Fn(&str) -> bool> Suppressed for F {
    fn is_suppressed(&self, address: &str) -> bool {
        self(address)
    }
}

/// What a conversation does when entries joined the suppression list (a team's list
/// included: a colleague's opt-out binds every seller). `newly` are the entries added, `why`
/// says which, for the history.
/// - Every prospect suppressed: it ends, and a draft waiting for the seller is withdrawn.
/// - A draft waits and one of its prospects is among the new entries: the draft is
///   withdrawn and made again, without them.
///
/// `None` otherwise, and for a conversation that ended already.
pub fn heed_suppression(
    conversation: &Conversation,
    suppressed: &dyn Suppressed,
    newly: &dyn Suppressed,
    why: &str,
) -> Option<machine::Transition<'static>> {
    if !conversation.state.is_open() || conversation.prospects.is_empty() {
        return None;
    }
    if conversation
        .prospects
        .iter()
        .all(|p| suppressed.is_suppressed(p))
    {
        return Some(machine::Transition::Stop {
            reason: "suppressed".into(),
            detail: format!("every prospect is on the suppression list ({why}): stopped"),
        });
    }
    let named = conversation
        .prospects
        .iter()
        .any(|p| newly.is_suppressed(p));
    (conversation.state == State::Drafted && named).then(|| machine::Transition::Redraft {
        detail: format!(
            "a prospect went on the suppression list ({why}): the waiting draft is withdrawn \
             and made again without them"
        ),
    })
}

/// A colleague's latest message to an organisation (from their Sent), as the team's store
/// has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColleagueTouch {
    pub colleague: String,
    pub organisation: String,
    pub at: DateTime<Utc>,
}

/// The team's overlap rule: a follow-up due at `now` waits until `overlap_days` business days
/// have passed since the latest touch a colleague made of one of its organisations. Returns
/// the transition that holds it until then, or `None` when no colleague's touch is that
/// recent (or `overlap_days` is 0). Pure: the touches and the calendar are given.
pub fn overlap_wait(
    touches: &[ColleagueTouch],
    overlap_days: u32,
    calendar: &crate::cadence::Calendar,
    now: DateTime<Utc>,
) -> Option<machine::Transition<'static>> {
    if overlap_days == 0 {
        return None;
    }
    let today = calendar.local_date(now);
    touches
        .iter()
        .map(|t| {
            let touched = calendar.local_date(t.at);
            (
                t,
                touched,
                calendar.add_business_days(touched, overlap_days),
            )
        })
        .filter(|(_, _, until)| *until > today)
        .max_by_key(|(t, _, until)| (*until, t.at))
        .map(|(t, touched, until)| machine::Transition::Overlap {
            colleague: t.colleague.clone(),
            organisation: t.organisation.clone(),
            touched,
            until,
        })
}

/// What the rules read of a conversation's last touch: its Message-ID and the ids it
/// answers. Only these, so that a pass can keep the last touches of many conversations at
/// hand in little memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LastTouch {
    pub message_id: Option<Box<str>>,
    /// Its In-Reply-To and References.
    pub names: Box<[Box<str>]>,
}

impl LastTouch {
    pub fn of(message: &Message) -> LastTouch {
        LastTouch {
            message_id: message.message_id.as_deref().map(Box::from),
            names: message
                .in_reply_to
                .iter()
                .chain(message.references.iter())
                .map(|id| Box::from(id.as_str()))
                .collect(),
        }
    }

    /// It answers (names) `message_id`.
    pub fn names(&self, message_id: &str) -> bool {
        self.names.iter().any(|id| &**id == message_id)
    }
}

/// What the store knows that a decision needs besides the message: gathered by the engine
/// (see [`Rules::facts_needed`]), so that the decision itself stays pure.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The message's thread holds list or automated inbound mail.
    pub thread_automated: bool,
    /// The thread of the message a bounce returns, when it was ever seen.
    pub returned_thread: Option<i64>,
    /// The last touch of each concerned conversation, by conversation id.
    pub last_touches: std::collections::HashMap<i64, LastTouch>,
    /// Conversations whose latest draft was read as dismissed, by conversation id.
    pub dismissed_drafts: std::collections::HashMap<i64, DismissedDraft>,
    /// The inbound message carries as its own the Message-ID of a message the seller sent,
    /// and names no other: the seller's message coming back, or a forgery of it.
    pub echoes_seller_message: bool,
}

/// A draft of nudge's that left Drafts with no sent copy in sight: read as dismissed, until a
/// sent copy made after it shows up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DismissedDraft {
    /// Its follow-up step.
    pub step: u32,
    /// When nudge made it.
    pub made_at: DateTime<Utc>,
}

/// Which facts a decision on a message needs from the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needed {
    /// Look whether the thread holds automated mail.
    pub thread_automated: bool,
    /// Find the thread of this returned Message-ID.
    pub returned_message_id: Option<String>,
    /// Find whether this conversation's latest draft was dismissed (a touch may revise it).
    pub dismissed_draft_of: Option<i64>,
    /// Find whether the seller sent a message with this Message-ID: the inbound message
    /// carries it as its own and is in a followed thread by nothing else.
    pub seller_message_id: Option<String>,
}

/// An event at `at`.
pub fn event(at: DateTime<Utc>, kind: EventKind, detail: impl Into<String>) -> Event {
    Event {
        at,
        kind,
        detail: detail.into(),
        step: None,
    }
}

impl Rules<'_> {
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

    /// True for an address nudge may follow up with: external, not a robot, not ignored.
    /// (The suppression list is asked separately: it changes while nudge runs.)
    pub fn is_prospect(&self, address: &str) -> bool {
        !address.is_empty()
            && !self.is_own_side(address)
            && !is_robot(address)
            && !self
                .tracking
                .ignore
                .iter()
                .any(|p| matches_pattern(p, address))
    }

    /// The prospects among a message's To and Cc, in order, each once.
    pub fn prospects(&self, message: &Message) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for recipient in message.recipients() {
            let a = recipient.address.to_ascii_lowercase();
            if self.is_prospect(&a) && !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }

    /// What a stored message is to nudge (SPEC 2, 4). Only the Sent folder holds the seller's
    /// touches: anyone can write a seller's address into a From line.
    pub fn role(&self, message: &Message) -> Role {
        match message.origin {
            Origin::Drafts => return Role::Ignore("drafts are the cadence's business"),
            Origin::Trash | Origin::Other => return Role::Ignore("not in INBOX or Sent"),
            Origin::Inbox | Origin::Sent | Origin::Archive => {}
        }
        if message.from_seller {
            if message.origin != Origin::Sent {
                return Role::Ignore("claims a seller identity outside the Sent folder");
            }
            if message.automated {
                return Role::Ignore("automated message (Auto-Submitted or summary)");
            }
            let prospects = self.prospects(message);
            if prospects.is_empty() {
                return Role::Ignore("to colleagues only: not a touch");
            }
            return Role::Touch(prospects);
        }
        if message.origin == Origin::Sent {
            return Role::Ignore("in Sent but not from a seller identity");
        }
        let Some(class) = message.class else {
            return Role::Ignore("not classified");
        };
        // Colleagues never answer for a prospect, but the seller's own mail system reports
        // bounces.
        if self.is_own_side(&message.from_addr) && class != MessageClass::Bounce {
            return Role::Ignore("from the seller's side");
        }
        Role::Inbound(class)
    }

    /// What the store must tell before [`Rules::decide`] can decide on `message`.
    pub fn facts_needed(&self, index: &link::Index, message: &Message) -> Needed {
        match self.role(message) {
            Role::Touch(_) => {
                let conversation = index.of_thread(message.thread_id);
                Needed {
                    thread_automated: conversation.is_none(),
                    returned_message_id: None,
                    dismissed_draft_of: conversation.map(|c| c.id),
                    seller_message_id: None,
                }
            }
            Role::Inbound(class) => Needed {
                returned_message_id: message
                    .bounced_message_id
                    .clone()
                    .filter(|_| class == MessageClass::Bounce),
                seller_message_id: message
                    .message_id
                    .clone()
                    .filter(|_| index.of_thread(message.thread_id).is_some())
                    .filter(|_| names_only_itself(message)),
                ..Needed::default()
            },
            Role::Ignore(_) => Needed::default(),
        }
    }

    /// The conversations (by id) whose last touch a decision on `message` reads.
    pub fn touches_needed(
        &self,
        index: &link::Index,
        message: &Message,
        facts: &Facts,
    ) -> Vec<i64> {
        match self.role(message) {
            Role::Inbound(class) => self
                .concerned(index, message, class, facts)
                .into_iter()
                .map(|(id, _)| id)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The conversations an inbound message concerns, each with its strongest link. A
    /// message that is in a thread only because it carries the Message-ID of the seller's
    /// own message is not in that thread: it answers nothing (SPEC 4, rule 1), and anyone
    /// can copy a Message-ID (SPEC 13).
    fn concerned(
        &self,
        index: &link::Index,
        message: &Message,
        class: MessageClass,
        facts: &Facts,
    ) -> Vec<(i64, Link)> {
        index.concerned(
            self,
            message,
            class,
            facts.returned_thread,
            !facts.echoes_seller_message,
        )
    }

    /// What one message does to the conversations: the one decision sync, the daemon and the
    /// fixture corpus share. Pure: the index, the facts and the suppression list are given.
    pub fn decide(
        &self,
        index: &link::Index,
        message: &Message,
        facts: &Facts,
        suppressed: &dyn Suppressed,
        now: DateTime<Utc>,
    ) -> Decision {
        match self.role(message) {
            Role::Ignore(reason) => Decision::Nothing(reason),
            Role::Touch(prospects) => {
                let conversation = index.of_thread(message.thread_id);
                match self.on_touch(conversation, message, prospects, facts, suppressed, now) {
                    Ok(effects) => Decision::Effects(effects),
                    Err(reason) => Decision::Nothing(reason),
                }
            }
            Role::Inbound(class) => {
                let mut effects = Vec::new();
                for (id, link) in self.concerned(index, message, class, facts) {
                    if let Some(conversation) = index.get(id) {
                        effects.extend(self.on_inbound(
                            conversation,
                            message,
                            class,
                            link,
                            facts.last_touches.get(&id),
                            suppressed,
                        ));
                    }
                }
                if effects.is_empty() {
                    Decision::Nothing("concerns no conversation it can change")
                } else {
                    Decision::Effects(effects)
                }
            }
        }
    }

    /// What a touch does: starts following a conversation, or moves the one of its thread.
    /// `thread_automated` tells whether the thread holds list or automated inbound mail;
    /// `dismissed` is the conversation's latest draft when it was read as dismissed.
    pub fn on_touch(
        &self,
        conversation: Option<&Conversation>,
        message: &Message,
        prospects: Vec<String>,
        facts: &Facts,
        suppressed: &dyn Suppressed,
        now: DateTime<Utc>,
    ) -> Result<Vec<Effect>, &'static str> {
        let thread_automated = facts.thread_automated;
        let dismissed = conversation.and_then(|c| facts.dismissed_drafts.get(&c.id));
        let prospects: Vec<String> = prospects
            .into_iter()
            .filter(|p| !suppressed.is_suppressed(p))
            .collect();
        let Some(conversation) = conversation else {
            if prospects.is_empty() {
                return Err("every prospect is suppressed");
            }
            if thread_automated {
                return Err("mailing list or automated thread");
            }
            let lookback = chrono::Duration::days(i64::from(self.tracking.lookback_days));
            // A clock set back before the first start counts from the clock.
            if message.date < self.first_started_at.min(now) - lookback {
                return Err("older than lookback_days at first start");
            }
            if self.tracking.mode == TrackMode::Flagged && !message.is_flagged() {
                return Err("not flagged (tracking mode flagged)");
            }
            let c = Conversation::new(
                message.thread_id,
                &message.subject,
                prospects,
                message.date,
                Some(message.id),
            );
            let mut e = event(
                message.date,
                EventKind::Tracked,
                format!("the seller wrote to {}", c.prospects.join(", ")),
            );
            e.step = Some(0);
            return Ok(vec![Effect::Track(c, e)]);
        };
        if Some(message.id) == conversation.last_touch_message
            || message.date <= conversation.last_touch_at
        {
            return Err("not newer than the last touch");
        }
        if let Some(draft) = dismissed.filter(|d| revises_dismissal(conversation, message, d)) {
            // The draft was sent after all: its copy reached Sent after the draft had left
            // Drafts (a slow client, or a send while a pass ran).
            let outcome = machine::apply(
                conversation,
                Transition::DismissalRevised {
                    message,
                    prospects,
                    step: draft.step,
                    steps_total: self.steps_total,
                },
            );
            return Ok(vec![
                outcome.into_effect(message.date),
                Effect::DraftSent {
                    conversation_id: conversation.id,
                    step: draft.step,
                },
            ]);
        }
        let outcome = machine::apply(
            conversation,
            Transition::Touch {
                message,
                prospects,
                steps_total: self.steps_total,
            },
        );
        Ok(vec![outcome.into_effect(message.date)])
    }

    /// What an inbound message does to a conversation it is linked to (SPEC 4). `last_touch` is
    /// the seller's latest message of the conversation, when the store still has it.
    pub fn on_inbound(
        &self,
        conversation: &Conversation,
        message: &Message,
        class: MessageClass,
        link: Link,
        last_touch: Option<&LastTouch>,
        suppressed: &dyn Suppressed,
    ) -> Vec<Effect> {
        let at = message.arrived;
        match class {
            MessageClass::Automated => Vec::new(),
            // A bounce links only through the message it returns, and it is honoured
            // whenever it comes: the address failed.
            MessageClass::Bounce => {
                if !matches!(link, Link::Thread | Link::Returned) {
                    return Vec::new();
                }
                machine::bounce(conversation, message, suppressed)
            }
            // Consent is the prospect's: honoured in every state, whenever it comes. Only an
            // address is suppressed: a message without a sender suppresses nobody.
            MessageClass::OptOut => {
                let outcome = machine::apply(
                    conversation,
                    Transition::OptOut {
                        who: message.who(),
                        link,
                    },
                );
                let mut effects = vec![outcome.into_effect(at)];
                if message.from_addr.contains('@') {
                    effects.push(Effect::Suppress {
                        address: message.from_addr.clone(),
                        reason: "opted_out".into(),
                    });
                }
                effects
            }
            MessageClass::AutoReply | MessageClass::Reply => {
                if !is_after_last_touch(conversation, message, link, last_touch) {
                    return Vec::new();
                }
                if let Some(departure) = message
                    .heard
                    .departure
                    .clone()
                    .filter(|_| matches!(link, Link::Thread | Link::SameAddress))
                {
                    return self.on_departure(conversation, message, class, departure, suppressed);
                }
                let transition = if class == MessageClass::AutoReply {
                    if !conversation.state.is_open() {
                        return Vec::new();
                    }
                    Transition::AutoReply {
                        who: message.who(),
                        return_date: message.return_date,
                    }
                } else {
                    Transition::Reply {
                        who: message.who(),
                        link,
                        message_id: message.message_id.clone().filter(|_| link == Link::Thread),
                        at,
                        heard: message.heard.clone(),
                    }
                };
                vec![machine::apply(conversation, transition).into_effect(at)]
            }
        }
    }
}

impl Rules<'_> {
    /// What a reply or auto-reply saying the person has left does (SPEC 15). The sender's
    /// address, when it is a prospect's, is never written to again; when other prospects
    /// are left the cadence goes on with them, otherwise the conversation ends as departed.
    /// The addresses the text names are only suggested: nudge never writes to them.
    fn on_departure(
        &self,
        conversation: &Conversation,
        message: &Message,
        class: MessageClass,
        departure: crate::model::Departure,
        suppressed: &dyn Suppressed,
    ) -> Vec<Effect> {
        let at = message.arrived;
        if class == MessageClass::AutoReply && !conversation.state.is_open() {
            return Vec::new();
        }
        let sender = message.from_addr.to_ascii_lowercase();
        let is_prospect = conversation.prospects.contains(&sender);
        let others_left = conversation
            .prospects
            .iter()
            .any(|p| *p != sender && !suppressed.is_suppressed(p));
        let outcome = machine::apply(
            conversation,
            Transition::Departed {
                who: message.who(),
                departure,
                at,
                others_left: is_prospect && others_left,
            },
        );
        let mut effects = vec![outcome.into_effect(at)];
        if is_prospect {
            effects.push(Effect::Suppress {
                address: sender,
                reason: "departed".into(),
            });
        }
        effects
    }
}

/// True when a message can never change a conversation, whatever the store holds then: it
/// is ignored for where it is and who wrote it ([`Rules::role`]: drafts, another folder, the
/// seller's mail outside Sent or automatic, someone else's mail in Sent), or it is list mail
/// (or nudge's summary) that its headers class as automated — its text is never read, so its
/// class is final, and an automated message changes nothing (SPEC 3). The store marks such a
/// message applied as it stores it and keeps of it what threading needs.
pub fn inert(
    origin: Origin,
    from_seller: bool,
    automated: bool,
    class: Option<MessageClass>,
) -> bool {
    match origin {
        Origin::Drafts | Origin::Trash | Origin::Other => true,
        Origin::Sent => !from_seller || automated,
        Origin::Inbox | Origin::Archive => {
            from_seller || (automated && class == Some(MessageClass::Automated))
        }
    }
}

/// True when anything reads whom a message addresses (its To and Cc): only of the seller's
/// own mail, for a touch's prospects ([`Rules::prospects`]) and a draft's recipients
/// ([`recipients::for_draft`]). The store keeps no recipients of mail from others.
pub fn recipients_read(from_seller: bool) -> bool {
    from_seller
}

/// True when a message's In-Reply-To and References name no message but itself.
fn names_only_itself(message: &Message) -> bool {
    message
        .in_reply_to
        .iter()
        .chain(message.references.iter())
        .all(|id| Some(id) == message.message_id.as_ref())
}

/// True when the seller's touch `message` is the sent copy of a draft that was read as
/// dismissed (SPEC 7): it is in the conversation's thread (the caller's part), written after
/// nudge made the draft, and the conversation still stands where the dismissal left it —
/// stopped as dismissed, or open (skipped to the next step, or resumed) — not ended by a
/// reply, a bounce, an opt-out or the seller's own `stop`.
pub fn revises_dismissal(c: &Conversation, message: &Message, draft: &DismissedDraft) -> bool {
    let where_dismissal_left_it = match c.state {
        State::Stopped => c.stop_reason.as_deref() == Some(machine::DISMISSED),
        State::Waiting | State::Closing | State::Snoozed => true,
        _ => false,
    };
    where_dismissal_left_it && message.date >= draft.made_at && c.step <= draft.step
}

/// When a message arrived, for judging what came after what (SPEC 4). Clocks lie: a slow
/// clock dates a message before the server received it, so the later of its Date and the
/// server's INTERNALDATE counts; a fast clock (or a stranger) dates it in the future, so it
/// never counts as arriving after nudge first saw it, at `seen`.
pub fn arrival(
    date: DateTime<Utc>,
    internal_date: Option<DateTime<Utc>>,
    seen: DateTime<Utc>,
) -> DateTime<Utc> {
    internal_date.map_or(date, |i| i.max(date)).min(seen)
}

/// True when an inbound message came after the seller's last touch (SPEC 4). Clocks lie, so
/// the Date header alone never decides: a message that names the last touch is after it; one
/// the last touch answered is before it; otherwise the time the server received it decides,
/// and a message in the thread that the last touch did not answer (it crossed the seller's
/// follow-up in flight) still counts.
pub fn is_after_last_touch(
    conversation: &Conversation,
    message: &Message,
    link: Link,
    last_touch: Option<&LastTouch>,
) -> bool {
    if let Some(touch) = last_touch {
        if let Some(touch_id) = &touch.message_id {
            if message.names(touch_id) {
                return true;
            }
        }
        if let Some(own) = &message.message_id {
            if touch.names(own) {
                return false;
            }
        }
    }
    if message.arrived > conversation.last_touch_at {
        return true;
    }
    link == Link::Thread && message.arrived > conversation.first_touch_at
}

#[cfg(test)]
mod tests;
