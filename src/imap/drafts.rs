//! Drafts on the server: APPEND with `\Draft \Seen`, finding a draft again by its Message-ID
//! (async-imap drops APPENDUID), and taking one back: MOVE to Trash where there is one, else
//! `\Deleted` + UID EXPUNGE. A plain EXPUNGE is never sent: it would delete every message the
//! seller marked `\Deleted` in that folder.

use futures::TryStreamExt;

use super::{bounded, imap_error, Connection};
use crate::error::{Error, Result};

impl Connection {
    /// Appends a draft to `folder` with the flags `\Draft \Seen`.
    pub async fn append_draft(&mut self, folder: &str, raw: &[u8]) -> Result<()> {
        self.append_message(folder, Some("(\\Draft \\Seen)"), raw)
            .await
    }

    /// Appends a message to `folder` with `flags` (like `(\Seen)`), or none: unseen.
    pub async fn append_message(
        &mut self,
        folder: &str,
        flags: Option<&str>,
        raw: &[u8],
    ) -> Result<()> {
        let timeout = self.timeout;
        let session = &mut self.session;
        bounded(timeout, format!("APPEND {folder}"), async {
            session
                .append(folder, flags, None, raw)
                .await
                .map_err(|e| imap_error(&format!("APPEND {folder}"), e))
        })
        .await?;
        self.drain_unsolicited();
        Ok(())
    }

    /// UIDs in `folder` whose Message-ID header is `message_id`, with the folder's UIDVALIDITY.
    pub async fn find_message_id(
        &mut self,
        folder: &str,
        message_id: &str,
    ) -> Result<(u32, Vec<u32>)> {
        searchable(message_id)?;
        let status = self.examine(folder).await?;
        let uids = self
            .uid_search(&format!("HEADER Message-ID \"<{message_id}>\""))
            .await?;
        Ok((status.uidvalidity, uids))
    }

    /// UIDs from `from_uid` on in `folder` whose In-Reply-To or References name `parent`
    /// (a Message-ID without brackets), with the folder's UIDVALIDITY: a sent copy of a draft,
    /// or a client's replacement of it, looked for on the server as it is now.
    pub async fn find_answers_to(
        &mut self,
        folder: &str,
        from_uid: u32,
        parent: &str,
    ) -> Result<(u32, Vec<u32>)> {
        searchable(parent)?;
        let status = self.examine(folder).await?;
        let from_uid = from_uid.max(1);
        if status.exists == 0 || status.uid_next.is_some_and(|next| next <= from_uid) {
            return Ok((status.uidvalidity, Vec::new()));
        }
        let mut uids = self
            .uid_search(&format!(
                "UID {from_uid}:* OR HEADER In-Reply-To \"<{parent}>\" HEADER References \"<{parent}>\""
            ))
            .await?;
        // "n:*" names the last message even when n is beyond it.
        uids.retain(|&uid| uid >= from_uid);
        Ok((status.uidvalidity, uids))
    }

    /// The whole message `uid` of `folder` (None when it is gone), read with BODY.PEEK.
    pub async fn fetch_whole(&mut self, folder: &str, uid: u32) -> Result<Option<Vec<u8>>> {
        self.examine(folder).await?;
        let fetched = self
            .fetch(&format!("UID FETCH {uid} (UID BODY.PEEK[])"))
            .await?;
        Ok(fetched.into_iter().find(|f| f.uid == uid).map(|f| f.data))
    }

    /// Every UID in `folder`, with its UIDVALIDITY: which drafts still exist.
    pub async fn all_uids(&mut self, folder: &str) -> Result<(u32, Vec<u32>)> {
        let status = self.examine(folder).await?;
        let uids = if status.exists == 0 {
            Vec::new()
        } else {
            self.uid_search("ALL").await?
        };
        Ok((status.uidvalidity, uids))
    }

    /// Takes message `uid` out of `folder`: into `trash` when given, else deleted with
    /// UID EXPUNGE (which needs UIDPLUS; without it the message is left alone and an error
    /// says why).
    pub async fn remove(&mut self, folder: &str, uid: u32, trash: Option<&str>) -> Result<()> {
        let timeout = self.timeout;
        let can_move = self.has_capability("MOVE");
        let uidplus = self.has_capability("UIDPLUS");
        let alone = uidplus || (can_move && trash.is_some());
        if !alone {
            // Without UIDPLUS only a MOVE takes one message out alone; a COPY to Trash that
            // cannot be followed by UID EXPUNGE would leave a second copy at every try.
            return Err(Error::Imap {
                context: format!("removing a draft from {folder}"),
                reason: if trash.is_some() {
                    "the server offers neither MOVE nor UIDPLUS, so the draft cannot be \
                     removed without touching other messages; it is left in place"
                } else {
                    "the server has no Trash folder and no UIDPLUS, so the draft cannot be \
                     removed without touching other messages; it is left in place"
                }
                .into(),
            });
        }
        self.examined = None;
        let session = &mut self.session;
        bounded(
            timeout,
            format!("removing UID {uid} from {folder}"),
            async {
                let context = format!("removing UID {uid} from {folder}");
                session
                    .select(folder)
                    .await
                    .map_err(|e| imap_error(&context, e))?;
                match trash {
                    Some(trash) if can_move => {
                        session
                            .uid_mv(uid.to_string(), trash)
                            .await
                            .map_err(|e| imap_error(&context, e))?;
                    }
                    Some(trash) => {
                        session
                            .uid_copy(uid.to_string(), trash)
                            .await
                            .map_err(|e| imap_error(&context, e))?;
                        delete_one(session, uid, uidplus, &context).await?;
                    }
                    None => delete_one(session, uid, uidplus, &context).await?,
                }
                // No CLOSE: it would expunge every message marked \Deleted in the folder. The next
                // EXAMINE leaves the folder without expunging anything.
                Ok(())
            },
        )
        .await?;
        self.drain_unsolicited();
        Ok(())
    }
}

/// Message-IDs go into a quoted SEARCH string: refuse any that could break out of it.
fn searchable(message_id: &str) -> Result<()> {
    if message_id.is_empty() || message_id.contains(['"', '\\', '\r', '\n']) {
        return Err(Error::Data(format!(
            "refusing to search for Message-ID {message_id:?}"
        )));
    }
    Ok(())
}

/// `\Deleted` on one UID, then UID EXPUNGE of that UID only.
async fn delete_one(
    session: &mut super::Session,
    uid: u32,
    uidplus: bool,
    context: &str,
) -> Result<()> {
    if !uidplus {
        return Err(imap_error(
            context,
            "copied to Trash, but without UIDPLUS the original cannot be expunged alone; it stays",
        ));
    }
    session
        .uid_store(uid.to_string(), "+FLAGS.SILENT (\\Deleted)")
        .await
        .map_err(|e| imap_error(context, e))?
        .try_collect::<Vec<_>>()
        .await
        .map_err(|e| imap_error(context, e))?;
    session
        .uid_expunge(uid.to_string())
        .await
        .map_err(|e| imap_error(context, e))?
        .try_collect::<Vec<_>>()
        .await
        .map_err(|e| imap_error(context, e))?;
    Ok(())
}
