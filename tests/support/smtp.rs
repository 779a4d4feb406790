//! A real SMTP submission server (aiosmtpd, `tests/support/smtp_server.py`) on 127.0.0.1.

use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::process::GroupChild;
use super::{free_port, read_lossy, temp_dir, TestCa};

/// The interpreter that has Debian's python3-aiosmtpd (`python3` on PATH may be another one).
const PYTHON: &str = "/usr/bin/python3";
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const START_ATTEMPTS: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain port; STARTTLS is required before AUTH or mail (like port 587).
    StartTls,
    /// TLS from the first byte (like port 465).
    ImplicitTls,
}

/// What the server does once it has received (and spooled) a message's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AfterData {
    /// Answers 250.
    #[default]
    Reply,
    /// Closes the connection without a reply: the client cannot know it was taken.
    Drop,
    /// Answers only after this many seconds: the client's timeout comes first.
    Hang(u32),
}

/// How to start a server beyond the defaults.
#[derive(Clone, Copy, Debug, Default)]
pub struct SmtpOptions {
    /// This port on 127.0.0.1 (one a client was already configured with) instead of a free one.
    pub port: Option<u16>,
    pub after_data: AfterData,
}

/// One message the server accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMail {
    /// Envelope sender (MAIL FROM).
    pub mail_from: String,
    /// Envelope recipients (RCPT TO), in order.
    pub rcpt_to: Vec<String>,
    /// The message as received in DATA (dot-unstuffed, CRLF line ends).
    pub data: Vec<u8>,
}

pub struct SmtpServer {
    // Drop order: the stdin pipe and the process first, then the dir.
    stdin: Option<ChildStdin>,
    process: Option<GroupChild>,
    port: u16,
    security: SmtpSecurity,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    /// Starts aiosmtpd on a free loopback port with the server certificate of `ca`. AUTH PLAIN
    /// or LOGIN with exactly `user`/`password` is required (and only offered over TLS); bad
    /// credentials get `535`. Blocks until the server accepts connections (panics with its log
    /// on failure).
    pub fn start(security: SmtpSecurity, user: &str, password: &str, ca: &TestCa) -> SmtpServer {
        SmtpServer::start_with(security, user, password, ca, SmtpOptions::default())
    }

    /// [`SmtpServer::start`] with `options`: a given port, a behaviour after DATA.
    pub fn start_with(
        security: SmtpSecurity,
        user: &str,
        password: &str,
        ca: &TestCa,
        options: SmtpOptions,
    ) -> SmtpServer {
        let dir = temp_dir("nudge-smtp-");
        fs::create_dir_all(dir.path().join("spool")).expect("create spool dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = options.port.unwrap_or_else(free_port);
            let stderr = File::options()
                .create(true)
                .append(true)
                .open(dir.path().join("smtp.log"))
                .expect("open smtp.log");
            let mut cmd = Command::new(PYTHON);
            cmd.arg(&script)
                .arg("--port")
                .arg(port.to_string())
                .arg("--mode")
                .arg(match security {
                    SmtpSecurity::StartTls => "starttls",
                    SmtpSecurity::ImplicitTls => "implicit",
                })
                .arg("--cert")
                .arg(ca.cert_path())
                .arg("--key")
                .arg(ca.key_path())
                .arg("--user")
                .arg(user)
                .arg("--password")
                .arg(password)
                .arg("--spool")
                .arg(dir.path().join("spool"))
                .args(match options.after_data {
                    AfterData::Reply => vec!["--after-data".to_string(), "reply".into()],
                    AfterData::Drop => vec!["--after-data".to_string(), "drop".into()],
                    AfterData::Hang(seconds) => vec![
                        "--after-data".to_string(),
                        "hang".into(),
                        "--hang-seconds".into(),
                        seconds.to_string(),
                    ],
                })
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(stderr)
                .env("PYTHONDONTWRITEBYTECODE", "1");
            let mut process = GroupChild::spawn("aiosmtpd", cmd)
                .unwrap_or_else(|e| panic!("spawn {PYTHON} {}: {e}", script.display()));
            let stdin = process.child_mut().stdin.take();
            let stdout = process.child_mut().stdout.take().expect("piped stdout");

            // A thread reads stdout so that a silent or hung server cannot block us.
            let (tx, rx) = mpsc::channel::<String>();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            let deadline = Instant::now() + READY_TIMEOUT;
            let ready = loop {
                match rx.recv_timeout(Duration::from_millis(50)) {
                    Ok(line) if line.starts_with("ready") => break true,
                    Ok(_) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => break false,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if Instant::now() >= deadline || process.has_exited() {
                            break false;
                        }
                    }
                }
            };
            if ready {
                return SmtpServer {
                    stdin,
                    process: Some(process),
                    port,
                    security,
                    dir,
                };
            }
            drop(stdin);
            process.stop(Duration::from_secs(2));
            last_error = read_lossy(&dir.path().join("smtp.log"));
            if options.port.is_some()
                || !last_error.to_lowercase().contains("address already in use")
            {
                break;
            }
        }
        panic!(
            "aiosmtpd ({security:?}) did not start (is python3-aiosmtpd installed for {PYTHON}?); \
             dir {}\n--- smtp log ---\n{last_error}",
            dir.path().display()
        );
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Pid of the server process (also its process group id) while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(GroupChild::id)
    }

    pub fn security(&self) -> SmtpSecurity {
        self.security
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Where the server writes one `NNNNNN.json` per accepted message.
    pub fn spool_dir(&self) -> PathBuf {
        self.dir.path().join("spool")
    }

    /// The server's log (aiosmtpd's protocol dialogue, credentials masked).
    pub fn log(&self) -> String {
        read_lossy(&self.dir.path().join("smtp.log"))
    }

    /// Every message accepted so far, in the order received.
    pub fn received(&self) -> Vec<ReceivedMail> {
        let mut names: Vec<PathBuf> = fs::read_dir(self.spool_dir())
            .expect("read spool dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        names.sort();
        names.iter().map(|p| parse_spool_file(p)).collect()
    }

    /// Waits (bounded) until at least `n` messages were accepted, then returns them all.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.received();
            if got.len() >= n || Instant::now() >= deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server (also done on drop).
    pub fn stop(&mut self) {
        drop(self.stdin.take());
        if let Some(mut process) = self.process.take() {
            process.stop(Duration::from_secs(3));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!(
                "--- smtp log ({}, port {}) ---\n{}",
                self.dir.path().display(),
                self.port,
                self.log()
            );
        }
    }
}

fn parse_spool_file(path: &Path) -> ReceivedMail {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let value: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("parse {}: {e}: {text}", path.display()));
    let mail_from = value["mail_from"].as_str().unwrap_or_default().to_string();
    let rcpt_to = value["rcpt_tos"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let data = base64_decode(value["data_b64"].as_str().unwrap_or_default())
        .unwrap_or_else(|| panic!("bad base64 in {}", path.display()));
    ReceivedMail {
        mail_from,
        rcpt_to,
        data,
    }
}

/// Standard base64 (with padding, no line breaks), as Python's b64encode writes it.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let s = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        match chunk.len() {
            4 => out.extend_from_slice(&bytes[1..4]),
            3 => out.extend_from_slice(&bytes[1..3]),
            2 => out.push(bytes[1]),
            _ => return None,
        }
    }
    Some(out)
}
