//! Look everywhere before drafting. Only INBOX, Sent and Drafts are synced, but a reply the
//! seller archived from the phone, or one a server rule filed into a customer's folder, is a
//! reply all the same. So before drafts are made, the other folders (Archive, Gmail's All Mail,
//! any selectable folder but Trash and Junk) are searched on the server for mail from the due
//! conversations' prospects, or naming their last touches, since those touches. What is found
//! is stored like INBOX mail and applied before the drafts are planned again.
//!
//! The cost is one EXAMINE and one UID SEARCH per folder for all due conversations together,
//! plus a FETCH of what is found.

use std::collections::HashSet;

use chrono::Duration;
use tracing::debug;

use crate::engine::Pass;
use crate::error::Result;
use crate::imap::folders;
use crate::imap::sync::uid_set;
use crate::mail::parse::parse;
use crate::model::{Conversation, Origin};
use crate::store::{FolderState, MessageText, NewMessage};

/// At most this many messages found in one folder are read.
const MAX_FOUND: usize = 200;

/// What a search of the other folders did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Looked {
    /// Folders searched.
    pub folders: usize,
    /// Messages found that nudge had not seen, now stored.
    pub found: usize,
}

/// Searches the other folders for mail that concerns `due`; stores what nudge had not seen.
pub async fn look(pass: &mut Pass<'_>, due: &[&Conversation]) -> Result<Looked> {
    let mut looked = Looked::default();
    if due.is_empty() {
        return Ok(looked);
    }
    let Some(since) = due.iter().map(|c| c.last_touch_at).min() else {
        return Ok(looked);
    };
    let mut keys: Vec<String> = Vec::new();
    for c in due {
        for prospect in &c.prospects {
            keys.push(format!("FROM {}", quoted(prospect)));
        }
        if let Some(touch) = c.last_touch_message {
            if let Some(id) = pass.store.message(touch).await?.and_then(|m| m.message_id) {
                let id = format!("<{id}>");
                keys.push(format!("HEADER In-Reply-To {}", quoted(&id)));
                keys.push(format!("HEADER References {}", quoted(&id)));
            }
        }
    }
    let keys: Vec<String> = {
        let mut seen = HashSet::new();
        keys.into_iter()
            .filter(|k| seen.insert(k.clone()))
            .collect()
    };
    if keys.is_empty() {
        return Ok(looked);
    }
    // SINCE is a date in the server's zone: a day earlier is safe, the rules judge the rest.
    let criteria = format!(
        "SINCE {} {}",
        (since - Duration::days(1)).format("%-d-%b-%Y"),
        any_of(&keys)
    );
    let listed = pass.connection.list_folders().await?;
    for folder in folders::elsewhere(&listed, &pass.folders) {
        let status = pass.connection.examine(&folder.raw_name).await?;
        looked.folders += 1;
        if status.exists == 0 {
            continue;
        }
        let mut uids = pass.connection.uid_search(&criteria).await?;
        if uids.is_empty() {
            continue;
        }
        uids.sort_unstable();
        let newest = &uids[uids.len().saturating_sub(MAX_FOUND)..];
        let mut stored = Vec::new();
        for item in pass.connection.fetch_messages(&uid_set(newest)).await? {
            let Some(mail) = parse(&item.data) else {
                continue;
            };
            // The same message seen in INBOX or Sent (All Mail holds them all) is known.
            if let Some(id) = &mail.message_id {
                if pass.store.knows_message_id(id).await? {
                    continue;
                }
            }
            let from_seller = mail
                .from
                .as_ref()
                .is_some_and(|f| pass.config.account.is_seller(&f.address));
            let facts = crate::engine::text_facts(&mail, from_seller, pass.now);
            stored.push((
                NewMessage {
                    folder: folder.name.clone(),
                    origin: Origin::Archive,
                    class: facts.class.as_ref().map(|c| c.class),
                    uidvalidity: status.uidvalidity,
                    uid: item.uid,
                    automated: mail.signals.list || mail.signals.nudge_summary,
                    mail,
                    gm_thrid: item.gm_thrid,
                    internal_date: item.internal_date,
                    flags: item.flags,
                    from_seller,
                },
                facts,
            ));
        }
        if stored.is_empty() {
            continue;
        }
        let messages: Vec<NewMessage> = stored.iter().map(|(m, _)| m.clone()).collect();
        let state = FolderState {
            name: folder.name.clone(),
            uidvalidity: status.uidvalidity,
            last_uid: 0,
            highest_modseq: None,
        };
        let ids = pass
            .store
            .store_messages(&messages, &state, Origin::Archive.name(), pass.now)
            .await?;
        let texts: Vec<MessageText> = ids
            .into_iter()
            .zip(stored)
            .map(|(id, (_, facts))| MessageText {
                id,
                class: facts.class,
                snippet: facts.snippet,
                heard: facts.heard,
            })
            .collect();
        pass.store.set_message_texts(&texts).await?;
        debug!(folder = %folder.name, found = texts.len(), "mail found outside INBOX");
        looked.found += texts.len();
    }
    Ok(looked)
}

/// An IMAP quoted string.
fn quoted(text: &str) -> String {
    let clean: String = text
        .chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            _ => vec![c],
        })
        .collect();
    format!("\"{clean}\"")
}

/// One search key matching any of `keys`. IMAP's OR takes two keys, so they are paired in
/// a balanced tree: the nesting grows with the logarithm of the number of keys.
fn any_of(keys: &[String]) -> String {
    match keys {
        [] => "ALL".to_string(),
        [one] => one.clone(),
        _ => {
            let (left, right) = keys.split_at(keys.len() / 2);
            format!("OR ({}) ({})", any_of(left), any_of(right))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_keys_nest_and_quote() {
        let keys = vec![
            "FROM \"a@x.no\"".to_string(),
            "FROM \"b@y.no\"".to_string(),
            "HEADER References \"<m1@z>\"".to_string(),
        ];
        assert_eq!(
            any_of(&keys),
            "OR (FROM \"a@x.no\") (OR (FROM \"b@y.no\") (HEADER References \"<m1@z>\"))"
        );
        assert_eq!(quoted("a\"b\\c\r\n"), "\"a\\\"b\\\\c\"");
    }
}
