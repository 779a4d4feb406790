//! The names the store writes for the core's enums, and back. The only place where message
//! classes, event kinds and folder roles are spelled as text.

use crate::rules::{EventKind, MessageClass, Origin};

const CLASSES: [(MessageClass, &str); 5] = [
    (MessageClass::Bounce, "bounce"),
    (MessageClass::AutoReply, "auto_reply"),
    (MessageClass::OptOut, "opt_out"),
    (MessageClass::Reply, "reply"),
    (MessageClass::Automated, "automated"),
];

const EVENT_KINDS: [(EventKind, &str); 17] = [
    (EventKind::Tracked, "tracked"),
    (EventKind::Touch, "touch"),
    (EventKind::Reply, "reply"),
    (EventKind::WroteAgain, "wrote_again"),
    (EventKind::AutoReply, "auto_reply"),
    (EventKind::Bounce, "bounce"),
    (EventKind::OptOut, "opt_out"),
    (EventKind::Drafted, "drafted"),
    (EventKind::Dismissed, "dismissed"),
    (EventKind::LetGo, "let_go"),
    (EventKind::Stopped, "stopped"),
    (EventKind::Resumed, "resumed"),
    (EventKind::Snoozed, "snoozed"),
    (EventKind::Merged, "merged"),
    (EventKind::Departed, "departed"),
    (EventKind::Done, "done"),
    (EventKind::Noted, "noted"),
];

const ORIGINS: [(Origin, &str); 5] = [
    (Origin::Inbox, "inbox"),
    (Origin::Sent, "sent"),
    (Origin::Drafts, "drafts"),
    (Origin::Trash, "trash"),
    (Origin::Archive, "archive"),
];

impl MessageClass {
    /// The name stored and shown: `bounce`, `auto_reply`, `opt_out`, `reply`, `automated`.
    pub fn name(self) -> &'static str {
        CLASSES
            .iter()
            .find(|(c, _)| *c == self)
            .map(|(_, n)| *n)
            .unwrap_or("automated")
    }

    /// The class a stored name stands for.
    pub fn from_name(name: &str) -> Option<MessageClass> {
        CLASSES.iter().find(|(_, n)| *n == name).map(|(c, _)| *c)
    }
}

impl EventKind {
    /// The name stored and shown in a conversation's history.
    pub fn name(self) -> &'static str {
        EVENT_KINDS
            .iter()
            .find(|(k, _)| *k == self)
            .map(|(_, n)| *n)
            .unwrap_or("noted")
    }

    /// The kind a stored name stands for; unknown names (from a newer nudge) read as notes.
    pub fn from_name(name: &str) -> EventKind {
        EVENT_KINDS
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(k, _)| *k)
            .unwrap_or(EventKind::Noted)
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Origin {
    /// The role name the `folders` table keeps.
    pub fn name(self) -> &'static str {
        ORIGINS
            .iter()
            .find(|(o, _)| *o == self)
            .map(|(_, n)| *n)
            .unwrap_or("other")
    }

    /// The origin of a folder role; `None` (a folder never synced) is `Other`.
    pub fn from_role(role: Option<&str>) -> Origin {
        ORIGINS
            .iter()
            .find(|(_, n)| Some(*n) == role)
            .map(|(o, _)| *o)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_go_both_ways() {
        for (class, name) in CLASSES {
            assert_eq!(class.name(), name);
            assert_eq!(MessageClass::from_name(name), Some(class));
        }
        for (kind, name) in EVENT_KINDS {
            assert_eq!(kind.name(), name);
            assert_eq!(EventKind::from_name(name), kind);
        }
        for (origin, name) in ORIGINS {
            assert_eq!(Origin::from_role(Some(name)), origin);
        }
        assert_eq!(Origin::from_role(None), Origin::Other);
    }
}
