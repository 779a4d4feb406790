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
        if message_id.contains(['"', '\\', '\r', '\n']) {
            return Err(Error::Data(format!(
                "refusing to search for Message-ID {message_id:?}"
            )));
        }
        let status = self.examine(folder).await?;
        let uids = self
            .uid_search(&format!("HEADER Message-ID \"<{message_id}>\""))
            .await?;
        Ok((status.uidvalidity, uids))
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
        if trash.is_none() && !uidplus {
            return Err(Error::Imap {
                context: format!("removing a draft from {folder}"),
                reason: "the server has no Trash folder and no UIDPLUS, so the draft cannot be \
                         removed without touching other messages; it is left in place"
                    .into(),
            });
        }
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
