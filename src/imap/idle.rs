//! IDLE on INBOX (RFC 2177): the server tells a waiting connection when something changed, so a
//! reply is seen within seconds. Unsolicited responses are drained before each IDLE, starting
//! IDLE is bounded by the connection's timeout, the wait by the caller's period, and DONE by its
//! own timeout.

use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;
use tokio_util::sync::CancellationToken;

use super::{Connection, Session};
use crate::error::{Error, Result};

/// DONE gets its own bound: a dead socket would hang it.
const DONE_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a wait in IDLE ended. IDLE has been ended with DONE in every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woken {
    /// The server reported a change in INBOX (new mail, an expunge, changed flags).
    Changed,
    /// The period went by without news: time to IDLE again.
    Timeout,
    /// Shutdown was asked for.
    Shutdown,
}

/// INBOX examined read-only on a connection of its own, to wait in IDLE.
pub struct IdleInbox {
    /// The session, owned: async-imap's IDLE handle takes it and DONE gives it back.
    session: Session,
    /// The bound on EXAMINE and on starting IDLE.
    timeout: Duration,
}

fn failed(what: &str, e: &dyn std::fmt::Display) -> Error {
    Error::Imap {
        context: format!("IDLE watcher: {what}"),
        reason: e.to_string(),
    }
}

impl IdleInbox {
    /// Examines INBOX on `connection`, which is given up to the watcher.
    pub async fn examine(connection: Connection) -> Result<IdleInbox> {
        let timeout = connection.timeout();
        let mut session = connection.into_session();
        tokio::time::timeout(timeout, session.examine("INBOX"))
            .await
            .map_err(|_| failed("EXAMINE INBOX", &"timed out"))?
            .map_err(|e| failed("EXAMINE INBOX", &e))?;
        Ok(IdleInbox { session, timeout })
    }

    /// Waits in IDLE until the server reports a change, `period` goes by, or `shutdown` is
    /// cancelled; then ends IDLE with DONE. An error means the connection is lost.
    pub async fn wait(
        self,
        period: Duration,
        shutdown: &CancellationToken,
    ) -> Result<(IdleInbox, Woken)> {
        let IdleInbox { session, timeout } = self;
        while session.unsolicited_responses.try_recv().is_ok() {}
        let mut idle = session.idle();
        tokio::time::timeout(timeout, idle.init())
            .await
            .map_err(|_| failed("IDLE", &"timed out"))?
            .map_err(|e| failed("IDLE", &e))?;
        let (waiting, _interrupt) = idle.wait_with_timeout(period);
        let woken = tokio::select! {
            response = tokio::time::timeout(period, waiting) => match response {
                Ok(Ok(IdleResponse::NewData(_))) => Woken::Changed,
                Ok(Ok(_)) | Err(_) => Woken::Timeout,
                Ok(Err(e)) => return Err(failed("waiting in IDLE", &e)),
            },
            _ = shutdown.cancelled() => Woken::Shutdown,
        };
        let session = tokio::time::timeout(DONE_TIMEOUT, idle.done())
            .await
            .map_err(|_| failed("DONE", &"timed out"))?
            .map_err(|e| failed("DONE", &e))?;
        Ok((IdleInbox { session, timeout }, woken))
    }

    /// Says goodbye within 2 s: at shutdown, a slow server must not hold up the stop.
    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.session.logout()).await;
    }
}
