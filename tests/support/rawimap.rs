//! A bare IMAP connection over TLS for the latency benchmarks: commands written as bytes,
//! responses read line by line, nothing in between that could add time of its own (the floor a
//! client's IDLE sets, the APPEND of a prospect's reply).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::tls::{tls_handshake, ImapTls};
use super::Dovecot;

/// The longest a response may take before the benchmark gives up.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub struct RawImap {
    stream: BufReader<ImapTls>,
}

impl RawImap {
    /// Connects to the IMAPS port, reads the greeting and logs in as `user`.
    pub async fn login(dovecot: &Dovecot, user: &str, password: &str) -> RawImap {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", dovecot.imaps_port()))
            .await
            .expect("connect");
        let tls = tls_handshake(dovecot.ca(), tcp).await.expect("TLS");
        let mut imap = RawImap {
            stream: BufReader::new(tls),
        };
        imap.until(|l| l.starts_with("* OK")).await;
        imap.command(&format!("L LOGIN \"{user}\" \"{password}\"\r\n"))
            .await;
        imap
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        let stream = self.stream.get_mut();
        stream.write_all(bytes).await.expect("write");
        stream.flush().await.expect("flush");
    }

    /// Reads lines until one satisfies `done`, and returns that line.
    pub async fn until(&mut self, done: impl Fn(&str) -> bool) -> String {
        self.until_within(PATIENCE, done).await
    }

    /// [`RawImap::until`] with a patience of its own (a FETCH of a whole folder).
    pub async fn until_within(
        &mut self,
        patience: Duration,
        done: impl Fn(&str) -> bool,
    ) -> String {
        tokio::time::timeout(patience, async {
            let mut line = Vec::new();
            loop {
                line.clear();
                let n = self
                    .stream
                    .read_until(b'\n', &mut line)
                    .await
                    .expect("read");
                assert!(n > 0, "the server closed the connection");
                let text = String::from_utf8_lossy(&line);
                if done(&text) {
                    return text.into_owned();
                }
            }
        })
        .await
        .expect("the server answered in time")
    }

    /// Sends a tagged command and waits for its `OK`.
    pub async fn command(&mut self, text: &str) {
        self.command_within(PATIENCE, text).await;
    }

    /// [`RawImap::command`] with a patience of its own.
    pub async fn command_within(&mut self, patience: Duration, text: &str) {
        let tag = text.split(' ').next().expect("a tag").to_string();
        self.send(text.as_bytes()).await;
        let done = self
            .until_within(patience, |l| l.starts_with(&format!("{tag} ")))
            .await;
        assert!(done.starts_with(&format!("{tag} OK")), "{text}: {done}");
    }

    /// Says LOGOUT and closes.
    pub async fn logout(mut self) {
        self.send(b"Z LOGOUT\r\n").await;
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            let mut rest = Vec::new();
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut self.stream, &mut rest).await;
        })
        .await;
    }
}

/// An APPEND to INBOX timed against a client waiting in IDLE on the same mailbox.
pub struct Appended {
    /// When the APPEND was sent, by the wall clock (the daemon's log lines are compared).
    pub wall: DateTime<Utc>,
    /// From the APPEND to the IDLE client reading EXISTS: the notification floor.
    pub floor: Duration,
    /// From the APPEND to its tagged OK.
    pub acknowledged: Duration,
}

/// Appends `raw` (a message) to INBOX through `appender` while `idle`, with INBOX selected,
/// waits in IDLE; `idle` is out of IDLE again when this returns.
pub async fn append_watched(idle: &mut RawImap, appender: &mut RawImap, raw: &str) -> Appended {
    let mut append = format!("A APPEND INBOX {{{}+}}\r\n", raw.len()).into_bytes();
    append.extend_from_slice(raw.as_bytes());
    append.extend_from_slice(b"\r\n");
    idle.send(b"I IDLE\r\n").await;
    idle.until(|l| l.starts_with('+')).await;
    let started = Instant::now();
    let wall = Utc::now();
    appender.send(&append).await;
    let (floor, acknowledged) = tokio::join!(
        async {
            idle.until(|l| l.starts_with("* ") && l.trim_end().ends_with(" EXISTS"))
                .await;
            started.elapsed()
        },
        async {
            let done = appender.until(|l| l.starts_with("A ")).await;
            assert!(done.starts_with("A OK"), "APPEND: {done}");
            started.elapsed()
        }
    );
    idle.send(b"DONE\r\n").await;
    idle.until(|l| l.starts_with("I ")).await;
    Appended {
        wall,
        floor,
        acknowledged,
    }
}
