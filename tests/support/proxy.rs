//! A TCP fault proxy on 127.0.0.1, between nudge and the test Dovecot: it relays bytes both
//! ways and, when told, cuts the connection or holds the server's answer back at a chosen
//! moment of the IMAP conversation.
//!
//! nudge talks to it with `security = "plain"` (allowed to loopback only), so the proxy sees
//! the commands and can aim at one: "cut as soon as the client sends `UID FETCH`", "let the
//! APPEND through but never let its answer back", "hold the server's answer to `IDLE` for
//! 5 s". Each fault fires once, on the first connection where its moment comes; everything
//! else passes through untouched. Plain std threads: it runs beside any test runtime.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What a fault does once its command pattern is seen on the way to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Cut both directions at once: the server never sees the command.
    Cut,
    /// Forward this many bytes from the pattern on (the command and the start of what follows,
    /// such as an APPEND literal), then cut.
    CutAfterForwarding(usize),
    /// Forward the command and everything after it, but cut as soon as the server starts to
    /// answer it (a continuation request for a literal does not count): the server did the
    /// work, the client never hears so.
    CutWhenServerAnswers,
    /// Forward the command and let this many bytes of the server's answer through, then cut:
    /// a response broken off in the middle.
    CutAfterServerBytes(usize),
    /// Cut this long after the command went through (a connection that dies while waiting,
    /// as in IDLE).
    CutAfter(Duration),
    /// Hold the server's answer back this long before relaying it (past the client's timeout;
    /// a continuation request for a literal goes through).
    Delay(Duration),
    /// Hold the server's next bytes back this long, whatever they are (also the "+ idling"
    /// that starts an IDLE).
    Stall(Duration),
}

/// One fault: `action` when the client sends something containing `pattern`.
#[derive(Debug, Clone)]
pub struct Fault {
    /// Bytes the client sends, such as `b"UID FETCH"` or `b"APPEND"`.
    pub pattern: Vec<u8>,
    pub action: Action,
}

impl Fault {
    pub fn on(pattern: &str, action: Action) -> Fault {
        Fault {
            pattern: pattern.as_bytes().to_vec(),
            action,
        }
    }
}

/// State shared by the proxy's threads.
#[derive(Default)]
struct Shared {
    /// Faults not yet fired.
    armed: Mutex<Vec<Fault>>,
    /// Faults that fired, in order, for the test to check that its fault really happened.
    fired: Mutex<Vec<Fault>>,
    /// Connections accepted so far.
    connections: AtomicUsize,
    /// Set when the proxy is dropped: the accept loop ends.
    closing: AtomicBool,
}

/// A running proxy; dropped, it stops accepting (open connections die with their peers).
pub struct Proxy {
    port: u16,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Listens on a free 127.0.0.1 port and relays every connection to 127.0.0.1:`upstream`.
    pub fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let shared = Arc::new(Shared::default());
        let accepting = shared.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                if accepting.closing.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                accepting.connections.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                relay(client, server, accepting.clone());
            }
        });
        Proxy { port, shared }
    }

    /// The port nudge connects to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Arms a fault: it fires once, at the next moment its pattern is seen.
    pub fn arm(&self, fault: Fault) {
        self.shared.armed.lock().unwrap().push(fault);
    }

    /// Faults that fired so far.
    pub fn fired(&self) -> Vec<Fault> {
        self.shared.fired.lock().unwrap().clone()
    }

    /// Faults armed that have not fired yet.
    pub fn armed(&self) -> usize {
        self.shared.armed.lock().unwrap().len()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.closing.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees `closing`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// What the server→client direction of one connection must do, set by the other direction.
#[derive(Default)]
struct Pending {
    /// Cut when the server's next bytes arrive, after letting this many through.
    cut_after_server_bytes: Option<usize>,
    /// Hold the server's answer (its next bytes that are not a continuation request) back
    /// this long.
    hold: Option<Duration>,
    /// Hold the server's next bytes back this long, continuation requests included.
    stall: Option<Duration>,
}

/// One connection: a thread each way, and a way for either to cut both.
fn relay(client: TcpStream, server: TcpStream, shared: Arc<Shared>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let pending = Arc::new(Mutex::new(Pending::default()));
    let cut = {
        let (client, server) = (
            client.try_clone().expect("clone"),
            server.try_clone().expect("clone"),
        );
        Arc::new(move || {
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        })
    };
    // Client → server: look for the armed patterns.
    {
        let (mut from, mut to) = (
            client.try_clone().expect("clone"),
            server.try_clone().expect("clone"),
        );
        let (pending, cut, shared) = (pending.clone(), cut.clone(), shared.clone());
        thread::spawn(move || {
            // The end of what came before, so that a pattern split over two reads is seen.
            let mut tail: Vec<u8> = Vec::new();
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                let n = match from.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let chunk = &buffer[..n];
                let mut seen = tail.clone();
                seen.extend_from_slice(chunk);
                let fired = {
                    let mut armed = shared.armed.lock().unwrap();
                    let found = armed
                        .iter()
                        .enumerate()
                        .find_map(|(i, f)| find(&seen, &f.pattern).map(|at| (i, at)));
                    found.map(|(i, at)| (armed.remove(i), at))
                };
                let Some((fault, at)) = fired else {
                    if to.write_all(chunk).is_err() {
                        break;
                    }
                    tail = seen[seen.len().saturating_sub(64)..].to_vec();
                    continue;
                };
                shared.fired.lock().unwrap().push(fault.clone());
                // Where the pattern starts within this chunk (it may have begun in the tail).
                let start = at.saturating_sub(tail.len());
                match fault.action {
                    Action::Cut => {
                        let _ = to.write_all(&chunk[..start]);
                        cut();
                        break;
                    }
                    Action::CutAfterForwarding(bytes) => {
                        let end = (start + bytes).min(chunk.len());
                        let _ = to.write_all(&chunk[..end]);
                        let mut left = bytes.saturating_sub(end - start);
                        // The rest of the bytes may come in later reads (an APPEND literal
                        // follows the server's continuation).
                        while left > 0 {
                            let n = match from.read(&mut buffer) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            let take = n.min(left);
                            let _ = to.write_all(&buffer[..take]);
                            left -= take;
                        }
                        let _ = to.flush();
                        // Let the bytes reach the server before the connection goes.
                        thread::sleep(Duration::from_millis(100));
                        cut();
                        break;
                    }
                    Action::CutWhenServerAnswers => {
                        pending.lock().unwrap().cut_after_server_bytes = Some(0);
                    }
                    Action::CutAfterServerBytes(bytes) => {
                        pending.lock().unwrap().cut_after_server_bytes = Some(bytes);
                    }
                    Action::CutAfter(wait) => {
                        let cut = cut.clone();
                        thread::spawn(move || {
                            thread::sleep(wait);
                            cut();
                        });
                    }
                    Action::Delay(wait) => {
                        pending.lock().unwrap().hold = Some(wait);
                    }
                    Action::Stall(wait) => {
                        pending.lock().unwrap().stall = Some(wait);
                    }
                }
                if to.write_all(chunk).is_err() {
                    break;
                }
                tail.clear();
            }
            let _ = to.shutdown(Shutdown::Write);
        });
    }
    // Server → client: relay, unless told to cut or hold.
    {
        let (mut from, mut to) = (server, client);
        thread::spawn(move || {
            let mut buffer = vec![0u8; 64 * 1024];
            // Bytes of the server's answer still to let through before the cut.
            let mut countdown: Option<usize> = None;
            loop {
                let n = match from.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                // A continuation request ("+ OK" before an APPEND literal) is not the answer:
                // the client has yet to send the message.
                let continuation = buffer[0] == b'+';
                let hold = {
                    let mut p = pending.lock().unwrap();
                    if countdown.is_none() {
                        countdown = p.cut_after_server_bytes.take();
                    }
                    match p.stall.take() {
                        Some(wait) => Some(wait),
                        None if continuation => None,
                        None => p.hold.take(),
                    }
                };
                if let Some(wait) = hold {
                    thread::sleep(wait);
                }
                if let Some(left) = countdown.filter(|_| !continuation) {
                    if n >= left {
                        let _ = to.write_all(&buffer[..left]);
                        let _ = to.flush();
                        cut();
                        break;
                    }
                    countdown = Some(left - n);
                }
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
            let _ = to.shutdown(Shutdown::Write);
        });
    }
}

/// Where `needle` first occurs in `haystack`, ASCII case-insensitively.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}
