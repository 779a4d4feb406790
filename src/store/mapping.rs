//! The names the store writes for the core's enums, and back. The only place where message
//! classes, event kinds and folder roles are spelled as text, and where a message's class is
//! given the number the store keeps of it (one byte where its name took up to ten).

use crate::rules::{EventKind, MessageClass, Origin};

/// Each class, its name, and the number `messages.class` keeps (migration 0019 turned the
/// stored names into these: the numbers never change).
const CLASSES: [(MessageClass, &str, i64); 5] = [
    (MessageClass::Bounce, "bounce", 1),
    (MessageClass::AutoReply, "auto_reply", 2),
    (MessageClass::OptOut, "opt_out", 3),
    (MessageClass::Reply, "reply", 4),
    (MessageClass::Automated, "automated", 5),
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
            .find(|(c, _, _)| *c == self)
            .map(|(_, n, _)| *n)
            .unwrap_or("automated")
    }

    /// The class a name stands for.
    pub fn from_name(name: &str) -> Option<MessageClass> {
        CLASSES
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(c, _, _)| *c)
    }

    /// The number the store keeps for this class.
    pub fn code(self) -> i64 {
        CLASSES
            .iter()
            .find(|(c, _, _)| *c == self)
            .map(|(_, _, code)| *code)
            .unwrap_or(5)
    }

    /// The class a stored number stands for; `None` for a number this nudge does not know
    /// (written by a newer one).
    pub fn from_code(code: i64) -> Option<MessageClass> {
        CLASSES
            .iter()
            .find(|(_, _, c)| *c == code)
            .map(|(class, _, _)| *class)
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
        for (class, name, code) in CLASSES {
            assert_eq!(class.name(), name);
            assert_eq!(MessageClass::from_name(name), Some(class));
            assert_eq!(class.code(), code);
            assert_eq!(MessageClass::from_code(code), Some(class));
        }
        assert_eq!(MessageClass::from_code(0), None);
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
