//! Choosing INBOX, Sent, Drafts and Trash from a LIST answer. Pure code.
//!
//! Order of trust (PITFALLS "Folders"): a configured name wins; then a special-use attribute
//! (RFC 6154); then a known localized name, matched on the last path component after
//! decoding modified UTF-7. Virtual folders (`\All`, `\Flagged`, `\Important`) and
//! unselectable ones are never chosen.

use std::fmt;

use crate::error::Error;

/// A folder as the server listed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFolder {
    /// The name exactly as the server sent it (modified UTF-7), used in commands.
    pub raw_name: String,
    /// The decoded name, shown to people and matched against names and config.
    pub name: String,
    /// The hierarchy delimiter, if the server has one.
    pub delimiter: Option<String>,
    /// Attributes, lower-case, with the backslash: `\sent`, `\hasnochildren`.
    pub attributes: Vec<String>,
}

impl ListedFolder {
    pub fn new(raw_name: &str, delimiter: Option<&str>, attributes: &[&str]) -> ListedFolder {
        ListedFolder {
            raw_name: raw_name.to_string(),
            name: super::utf7::decode(raw_name).unwrap_or_else(|| raw_name.to_string()),
            delimiter: delimiter.map(str::to_string),
            attributes: attributes.iter().map(|a| a.to_ascii_lowercase()).collect(),
        }
    }

    fn has(&self, attribute: &str) -> bool {
        self.attributes.iter().any(|a| a == attribute)
    }

    /// The last component of the path: "Sent" of "INBOX.Sent", "Sent Mail" of "[Gmail]/Sent Mail".
    pub fn leaf(&self) -> &str {
        match self.delimiter.as_deref() {
            Some(d) if !d.is_empty() => self.name.rsplit(d).next().unwrap_or(&self.name),
            _ => &self.name,
        }
    }

    fn depth(&self) -> usize {
        match self.delimiter.as_deref() {
            Some(d) if !d.is_empty() => self.name.matches(d).count(),
            _ => 0,
        }
    }

    /// Virtual or unselectable folders hold no messages of their own.
    fn is_candidate(&self) -> bool {
        ![
            "\\all",
            "\\flagged",
            "\\important",
            "\\noselect",
            "\\nonexistent",
        ]
        .iter()
        .any(|a| self.has(a))
    }
}

/// At most this many other folders are searched before a draft is made.
pub const MAX_ELSEWHERE: usize = 50;

/// The folders a reply may have gone to besides INBOX (SPEC 4): an Archive, Gmail's All Mail,
/// a folder a server rule files a customer's mail into — every selectable folder except
/// INBOX, Sent, Drafts, Trash and Junk. All Mail and Archive first; at most
/// [`MAX_ELSEWHERE`].
pub fn elsewhere(listed: &[ListedFolder], chosen: &Folders) -> Vec<ListedFolder> {
    const SKIPPED_ATTRIBUTES: [&str; 8] = [
        "\\noselect",
        "\\nonexistent",
        "\\junk",
        "\\trash",
        "\\sent",
        "\\drafts",
        "\\flagged",
        "\\important",
    ];
    const SKIPPED_NAMES: [&str; 6] = [
        "junk",
        "spam",
        "trash",
        "junk e-mail",
        "søppelpost",
        "skräppost",
    ];
    let mut found: Vec<ListedFolder> = listed
        .iter()
        .filter(|f| !chosen.all().any(|c| c.raw_name == f.raw_name))
        .filter(|f| !f.name.eq_ignore_ascii_case("INBOX"))
        .filter(|f| !SKIPPED_ATTRIBUTES.iter().any(|a| f.has(a)))
        .filter(|f| !SKIPPED_NAMES.contains(&f.leaf().to_lowercase().as_str()))
        .cloned()
        .collect();
    found.sort_by_key(|f| !(f.has("\\all") || f.has("\\archive")));
    found.truncate(MAX_ELSEWHERE);
    found
}

/// What a folder is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Inbox,
    Sent,
    Drafts,
    Trash,
}

impl Role {
    pub fn label(self) -> &'static str {
        match self {
            Role::Inbox => "INBOX",
            Role::Sent => "Sent",
            Role::Drafts => "Drafts",
            Role::Trash => "Trash",
        }
    }

    fn attribute(self) -> Option<&'static str> {
        match self {
            Role::Inbox => None,
            Role::Sent => Some("\\sent"),
            Role::Drafts => Some("\\drafts"),
            Role::Trash => Some("\\trash"),
        }
    }

    fn config_key(self) -> &'static str {
        match self {
            Role::Inbox => "imap",
            Role::Sent => "imap.sent_folder",
            Role::Drafts => "imap.drafts_folder",
            Role::Trash => "imap.trash_folder",
        }
    }

    /// Known names, lower-case, in en, nb, sv, da, de and a few more, most usual first.
    fn names(self) -> &'static [&'static str] {
        match self {
            Role::Inbox => &["inbox"],
            Role::Sent => &[
                "sent",
                "sent items",
                "sent mail",
                "sent messages",
                "sendte elementer",
                "sendt post",
                "sendte meldinger",
                "sendt",
                "sendte",
                "skickade objekt",
                "skickat",
                "skickade",
                "skickade meddelanden",
                "gesendet",
                "gesendete objekte",
                "gesendete elemente",
                "éléments envoyés",
                "envoyés",
                "lähetetyt",
                "lähetetyt kohteet",
                "verzonden items",
                "elementos enviados",
                "posta inviata",
            ],
            Role::Drafts => &[
                "drafts",
                "draft",
                "utkast",
                "kladder",
                "kladde",
                "entwürfe",
                "brouillons",
                "luonnokset",
                "concepten",
                "borradores",
                "bozze",
            ],
            Role::Trash => &[
                "trash",
                "deleted items",
                "deleted messages",
                "bin",
                "slettede elementer",
                "slettet post",
                "slettede meldinger",
                "papirkurv",
                "papperskorg",
                "borttagna objekt",
                "borttagna meddelanden",
                "papierkorb",
                "gelöschte elemente",
                "gelöschte objekte",
                "corbeille",
                "éléments supprimés",
                "roskakori",
                "poistetut",
                "prullenbak",
                "papelera",
                "cestino",
            ],
        }
    }
}

/// Why a folder was chosen, shown by `nudge check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The configuration names it.
    Config,
    /// It carries the special-use attribute.
    Attribute(String),
    /// Its name is a known name for the role.
    Name,
    /// INBOX is always INBOX.
    Standard,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Config => f.write_str("configured"),
            Reason::Attribute(a) => write!(f, "special-use attribute {a}"),
            Reason::Name => f.write_str("known name"),
            Reason::Standard => f.write_str("standard name"),
        }
    }
}

/// A folder chosen for a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub role: Role,
    /// Name for IMAP commands (modified UTF-7).
    pub raw_name: String,
    /// Decoded name for people.
    pub name: String,
    pub reason: Reason,
}

/// The folders nudge works with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folders {
    pub inbox: Chosen,
    pub sent: Chosen,
    pub drafts: Chosen,
    /// Withdrawn drafts go here; without one they are deleted with UID EXPUNGE.
    pub trash: Option<Chosen>,
}

impl Folders {
    pub fn all(&self) -> impl Iterator<Item = &Chosen> {
        [&self.inbox, &self.sent, &self.drafts]
            .into_iter()
            .chain(self.trash.as_ref())
    }
}

/// Folder names from the configuration that override discovery.
#[derive(Debug, Clone, Default)]
pub struct Overrides<'a> {
    pub sent: Option<&'a str>,
    pub drafts: Option<&'a str>,
    pub trash: Option<&'a str>,
}

/// Picks the folders for each role from a LIST answer.
pub fn choose(listed: &[ListedFolder], overrides: &Overrides<'_>) -> Result<Folders, Error> {
    let inbox = listed
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case("INBOX"))
        .map(|f| Chosen {
            role: Role::Inbox,
            raw_name: f.raw_name.clone(),
            name: "INBOX".to_string(),
            reason: Reason::Standard,
        })
        .unwrap_or(Chosen {
            // Every IMAP server has INBOX, even when LIST does not show it.
            role: Role::Inbox,
            raw_name: "INBOX".to_string(),
            name: "INBOX".to_string(),
            reason: Reason::Standard,
        });
    let sent = choose_role(listed, Role::Sent, overrides.sent)?;
    let drafts = choose_role(listed, Role::Drafts, overrides.drafts)?;
    let trash = match choose_role(listed, Role::Trash, overrides.trash) {
        Ok(trash) => Some(trash),
        // A configured Trash that does not exist is a mistake worth stopping for.
        Err(e) if overrides.trash.is_some() => return Err(e),
        Err(_) => None,
    };
    Ok(Folders {
        inbox,
        sent,
        drafts,
        trash,
    })
}

fn choose_role(
    listed: &[ListedFolder],
    role: Role,
    configured: Option<&str>,
) -> Result<Chosen, Error> {
    let chosen = |f: &ListedFolder, reason: Reason| Chosen {
        role,
        raw_name: f.raw_name.clone(),
        name: f.name.clone(),
        reason,
    };
    if let Some(wanted) = configured {
        return listed
            .iter()
            .find(|f| f.name == wanted || f.raw_name == wanted)
            .or_else(|| listed.iter().find(|f| f.name.eq_ignore_ascii_case(wanted)))
            .map(|f| chosen(f, Reason::Config))
            .ok_or_else(|| Error::FolderNotFound {
                role: role.label(),
                reason: format!(
                    "`{}` = \"{wanted}\" is not a folder on the server; it has: {}",
                    role.config_key(),
                    folder_list(listed)
                ),
            });
    }
    let candidates: Vec<&ListedFolder> = listed.iter().filter(|f| f.is_candidate()).collect();
    if let Some(attribute) = role.attribute() {
        if let Some(f) = candidates.iter().find(|f| f.has(attribute)) {
            return Ok(chosen(f, Reason::Attribute(capitalized(attribute))));
        }
    }
    let rank = |f: &ListedFolder| {
        let leaf = f.leaf().to_lowercase();
        role.names()
            .iter()
            .position(|n| *n == leaf)
            .map(|position| (position, f.depth()))
    };
    candidates
        .iter()
        .filter(|f| !f.name.eq_ignore_ascii_case("INBOX"))
        .filter_map(|f| rank(f).map(|r| (r, *f)))
        .min_by_key(|(r, _)| *r)
        .map(|(_, f)| chosen(f, Reason::Name))
        .ok_or_else(|| Error::FolderNotFound {
            role: role.label(),
            reason: format!(
                "no folder has the {} attribute or a known name; set `{}` in the config to \
                 one of: {}",
                capitalized(role.attribute().unwrap_or("")),
                role.config_key(),
                folder_list(listed)
            ),
        })
}

fn capitalized(attribute: &str) -> String {
    let mut out = String::new();
    let mut chars = attribute.chars();
    if let Some(slash) = chars.next() {
        out.push(slash);
    }
    if let Some(first) = chars.next() {
        out.extend(first.to_uppercase());
    }
    out.extend(chars);
    out
}

fn folder_list(listed: &[ListedFolder]) -> String {
    if listed.is_empty() {
        return "(no folders listed)".to_string();
    }
    listed
        .iter()
        .map(|f| format!("\"{}\"", f.name))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str, delimiter: &str, attributes: &[&str]) -> ListedFolder {
        ListedFolder::new(name, Some(delimiter), attributes)
    }

    #[test]
    fn attributes_win_over_names() {
        let listed = vec![
            folder("INBOX", "/", &[]),
            folder("Sent", "/", &[]),
            folder("Outbox archive", "/", &["\\Sent"]),
            folder("Drafts", "/", &["\\Drafts"]),
        ];
        let f = choose(&listed, &Overrides::default()).unwrap();
        assert_eq!(f.sent.name, "Outbox archive");
        assert_eq!(f.sent.reason, Reason::Attribute("\\Sent".into()));
        assert_eq!(f.drafts.reason, Reason::Attribute("\\Drafts".into()));
        assert_eq!(f.trash, None);
    }

    #[test]
    fn gmail_layout_skips_all_mail_and_important() {
        let listed = vec![
            folder("INBOX", "/", &["\\HasNoChildren"]),
            folder("[Gmail]", "/", &["\\Noselect", "\\HasChildren"]),
            folder("[Gmail]/All Mail", "/", &["\\All", "\\HasNoChildren"]),
            folder("[Gmail]/Important", "/", &["\\Important"]),
            folder("[Gmail]/Starred", "/", &["\\Flagged"]),
            folder("[Gmail]/Sent Mail", "/", &["\\Sent"]),
            folder("[Gmail]/Drafts", "/", &["\\Drafts"]),
            folder("[Gmail]/Trash", "/", &["\\Trash"]),
        ];
        let f = choose(&listed, &Overrides::default()).unwrap();
        assert_eq!(f.sent.raw_name, "[Gmail]/Sent Mail");
        assert_eq!(f.drafts.raw_name, "[Gmail]/Drafts");
        assert_eq!(f.trash.unwrap().raw_name, "[Gmail]/Trash");
    }

    #[test]
    fn localized_names_match_on_the_decoded_last_component() {
        let listed = vec![
            folder("INBOX", "/", &[]),
            folder("[Google Mail]/Gesendet", "/", &[]),
            folder("[Google Mail]/Entw&APw-rfe", "/", &[]),
            folder("[Google Mail]/Papierkorb", "/", &[]),
        ];
        let f = choose(&listed, &Overrides::default()).unwrap();
        assert_eq!(f.sent.name, "[Google Mail]/Gesendet");
        assert_eq!(f.drafts.name, "[Google Mail]/Entwürfe");
        assert_eq!(f.drafts.raw_name, "[Google Mail]/Entw&APw-rfe");
        assert_eq!(f.drafts.reason, Reason::Name);
        assert!(f.trash.is_some());
    }

    #[test]
    fn norwegian_swedish_and_danish_names() {
        for (sent, drafts, trash) in [
            ("Sendte elementer", "Utkast", "Slettede elementer"),
            ("Skickade objekt", "Utkast", "Borttagna objekt"),
            ("Sendt post", "Kladder", "Papirkurv"),
            ("Skickat", "Utkast", "Papperskorg"),
            ("Sent Messages", "Drafts", "Deleted Messages"),
        ] {
            let listed = vec![
                folder("INBOX", "/", &[]),
                folder(sent, "/", &[]),
                folder(drafts, "/", &[]),
                folder(trash, "/", &[]),
            ];
            let f = choose(&listed, &Overrides::default()).unwrap();
            assert_eq!(
                (f.sent.name.as_str(), f.drafts.name.as_str()),
                (sent, drafts)
            );
            assert_eq!(f.trash.unwrap().name, trash);
        }
    }

    #[test]
    fn nested_dot_layout() {
        let listed = vec![
            folder("INBOX", ".", &[]),
            folder("INBOX.Sent", ".", &[]),
            folder("INBOX.Drafts", ".", &[]),
            folder("INBOX.Trash", ".", &[]),
            folder("INBOX.Customers.Sent", ".", &[]),
        ];
        let f = choose(&listed, &Overrides::default()).unwrap();
        assert_eq!(f.sent.raw_name, "INBOX.Sent", "the shallower folder wins");
        assert_eq!(f.drafts.raw_name, "INBOX.Drafts");
    }

    #[test]
    fn config_overrides_all() {
        let listed = vec![
            folder("INBOX", "/", &[]),
            folder("Sent", "/", &["\\Sent"]),
            folder("Utgående", "/", &[]),
            folder("Drafts", "/", &["\\Drafts"]),
        ];
        let overrides = Overrides {
            sent: Some("Utgående"),
            ..Default::default()
        };
        let f = choose(&listed, &overrides).unwrap();
        assert_eq!(f.sent.name, "Utgående");
        assert_eq!(f.sent.reason, Reason::Config);
        let missing = Overrides {
            drafts: Some("Kladd"),
            ..Default::default()
        };
        let err = choose(&listed, &missing).unwrap_err();
        assert!(
            matches!(err, Error::FolderNotFound { role: "Drafts", .. }),
            "{err}"
        );
        assert!(err.to_string().contains("imap.drafts_folder"), "{err}");
    }

    #[test]
    fn missing_sent_is_an_error_naming_the_key() {
        let listed = vec![folder("INBOX", "/", &[]), folder("Drafts", "/", &[])];
        let err = choose(&listed, &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("imap.sent_folder"), "{err}");
    }
}
