//! A tiny OAuth2 token-introspection endpoint (RFC 7662 style) for Dovecot's oauth2 passdb.
//!
//! It runs on its own std thread with std::net (no tokio), answers
//! `POST /introspect` with body `token=...`: `{"active": true, "username": "<user>"}` for a token
//! it issued, `{"active": false}` otherwise.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Default)]
struct State {
    /// token -> user
    tokens: Mutex<HashMap<String, String>>,
    requests: AtomicUsize,
    stop: AtomicBool,
}

pub struct Introspection {
    port: u16,
    state: Arc<State>,
    thread: Option<JoinHandle<()>>,
}

impl Introspection {
    /// Listens on 127.0.0.1 (a port of its own) and issues one token per user.
    pub fn start(users: &[String]) -> Introspection {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the introspection endpoint");
        let port = listener.local_addr().expect("local_addr").port();
        let state = Arc::new(State::default());
        {
            let mut tokens = state.tokens.lock().unwrap();
            for user in users {
                tokens.insert(new_token(), user.clone());
            }
        }
        let thread_state = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name(format!("introspection-{port}"))
            .spawn(move || serve(listener, thread_state))
            .expect("spawn the introspection thread");
        Introspection {
            port,
            state,
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/introspect", self.port)
    }

    /// A currently valid token for `user` (panics if the user has none).
    pub fn token(&self, user: &str) -> String {
        let tokens = self.state.tokens.lock().unwrap();
        tokens
            .iter()
            .find(|(_, u)| u.as_str() == user)
            .map(|(t, _)| t.clone())
            .unwrap_or_else(|| panic!("no OAuth2 token for user {user:?}"))
    }

    /// Invalidates every token of `user` and issues a new one, which is returned.
    pub fn rotate(&self, user: &str) -> String {
        let mut tokens = self.state.tokens.lock().unwrap();
        tokens.retain(|_, u| u != user);
        let token = new_token();
        tokens.insert(token.clone(), user.to_string());
        token
    }

    /// Invalidates every token of `user` (introspection answers `active: false` for them).
    pub fn revoke(&self, user: &str) {
        self.state.tokens.lock().unwrap().retain(|_, u| u != user);
    }

    /// How many introspection requests were answered so far.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Introspection {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept().
        let _ =
            TcpStream::connect_timeout(&([127, 0, 0, 1], self.port).into(), Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn new_token() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut out = String::from("ya29.test-");
    for i in 0..2u64 {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(nanos ^ i);
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

fn serve(listener: TcpListener, state: Arc<State>) {
    for conn in listener.incoming() {
        if state.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(conn) = conn else { continue };
        // One request per connection; errors only affect that request.
        let _ = handle(conn, &state);
    }
}

fn handle(conn: TcpStream, state: &State) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    conn.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line)? == 0 {
        return Ok(());
    }
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; content_length.min(64 * 1024)];
    reader.read_exact(&mut body)?;
    let body = String::from_utf8_lossy(&body);

    let token = body
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "token")
        .map(|(_, v)| url_decode(v));
    let user = token.and_then(|t| state.tokens.lock().unwrap().get(&t).cloned());
    let json = match user {
        Some(user) => format!(
            "{{\"active\": true, \"username\": \"{}\"}}",
            user.replace('\\', "\\\\").replace('"', "\\\"")
        ),
        None => "{\"active\": false}".to_string(),
    };
    state.requests.fetch_add(1, Ordering::SeqCst);
    let mut conn = conn;
    write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        json.len(),
        json
    )?;
    conn.flush()
}

/// application/x-www-form-urlencoded value decoding (`+` and `%XX`).
fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
