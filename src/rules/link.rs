//! Which conversations an inbound message concerns, and how (SPEC 4).

use std::collections::HashMap;

use super::{MessageClass, Rules};
use crate::mail::address::{domain, is_freemail, organisation_domain};
use crate::model::{Conversation, Message};

/// How an inbound message is tied to a conversation, in order of strength.
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
    /// In the seller's words, for the history.
    pub fn describe(self) -> &'static str {
        match self {
            Link::Thread => "in the thread",
            Link::Returned => "returning the seller's message",
            Link::SameAddress => "from the prospect, outside the thread",
            Link::SameOrganisation => "from the prospect's organisation",
        }
    }
}

/// The conversations in memory, indexed the ways inbound mail finds them.
#[derive(Debug, Default, Clone)]
pub struct Index {
    /// Boxed: a first sync indexes tens of thousands, and a table of boxes grows by
    /// pointers rather than by whole conversations.
    conversations: HashMap<i64, Box<Conversation>>,
    by_thread: HashMap<i64, i64>,
    by_address: HashMap<String, Ids>,
    /// Organisation domain → conversations (never free-mail domains).
    by_organisation: HashMap<String, Ids>,
}

/// Conversation ids, sorted and distinct: most addresses and organisations have one, which a
/// vector holds in a few bytes where a tree set takes a whole node.
type Ids = Vec<i64>;

fn add_id(ids: &mut Ids, id: i64) {
    if let Err(at) = ids.binary_search(&id) {
        ids.insert(at, id);
    }
}

impl Index {
    /// Adds a conversation, or replaces it with its newer self.
    pub fn insert(&mut self, conversation: Conversation) {
        let id = conversation.id;
        self.by_thread.insert(conversation.thread_id, id);
        for prospect in &conversation.prospects {
            add_id(self.by_address.entry(prospect.clone()).or_default(), id);
            let d = domain(prospect);
            if !d.is_empty() && !is_freemail(&d) {
                add_id(
                    self.by_organisation
                        .entry(organisation_domain(&d))
                        .or_default(),
                    id,
                );
            }
        }
        self.conversations.insert(id, Box::new(conversation));
    }

    pub fn get(&self, id: i64) -> Option<&Conversation> {
        self.conversations.get(&id).map(|c| &**c)
    }

    /// The conversation of a thread, if nudge follows it.
    pub fn of_thread(&self, thread_id: i64) -> Option<&Conversation> {
        self.by_thread
            .get(&thread_id)
            .and_then(|id| self.conversations.get(id))
            .map(|c| &**c)
    }

    /// The conversations an inbound message of `class` concerns, each once with its strongest
    /// link. `returned_thread` is the thread of the message a bounce returns, when known. A
    /// bounce links only through the message it returns, never by address or organisation.
    /// `in_thread` is false for a message whose thread does not count (it is there only by
    /// carrying the Message-ID of the seller's own message).
    pub fn concerned(
        &self,
        rules: &Rules<'_>,
        message: &Message,
        class: MessageClass,
        returned_thread: Option<i64>,
        in_thread: bool,
    ) -> Vec<(i64, Link)> {
        let mut linked: Vec<(i64, Link)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut add = |id: i64, link: Link| {
            if seen.insert(id) {
                linked.push((id, link));
            }
        };
        if let Some(c) = self.of_thread(message.thread_id).filter(|_| in_thread) {
            add(c.id, Link::Thread);
        }
        if let Some(c) = returned_thread.and_then(|t| self.of_thread(t)) {
            add(c.id, Link::Returned);
        }
        if class == MessageClass::Bounce {
            return linked;
        }
        let from = message.from_addr.to_ascii_lowercase();
        for &id in self.by_address.get(&from).into_iter().flatten() {
            add(id, Link::SameAddress);
        }
        let d = domain(&from);
        if rules.tracking.stop_on_same_domain && !d.is_empty() && !is_freemail(&d) {
            for &id in self
                .by_organisation
                .get(&organisation_domain(&d))
                .into_iter()
                .flatten()
            {
                add(id, Link::SameOrganisation);
            }
        }
        linked
    }
}
