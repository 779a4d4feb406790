//! A real Dovecot 2.3 on 127.0.0.1, in a temp dir of its own, in the foreground as our child.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;

use super::oauth::Introspection;
use super::process::GroupChild;
use super::{free_port, read_lossy, temp_dir, StartError, TestCa};

/// How long `start`/`restart` wait for both ports and a real IMAP greeting.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Fresh-port attempts when Dovecot cannot bind (another process took a port we picked).
const BIND_ATTEMPTS: usize = 5;

/// Which folders exist and how they are named/flagged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// INBOX, Sent, Drafts, Trash, Archive (`\Archive`), "All Mail" (`\All`), all with
    /// special-use attributes; separator "/".
    SpecialUse,
    /// INBOX, "Sendte elementer", "Utkast", "Slettede elementer"; no special-use attributes;
    /// separator "/".
    NorwegianNames,
    /// INBOX, INBOX.Sent, INBOX.Drafts, INBOX.Trash (namespace prefix "INBOX.", separator ".");
    /// no special-use attributes.
    NestedDot,
}

impl Layout {
    /// The hierarchy separator the server reports.
    pub fn separator(self) -> &'static str {
        match self {
            Layout::SpecialUse | Layout::NorwegianNames => "/",
            Layout::NestedDot => ".",
        }
    }

    /// Full IMAP name of the sent folder.
    pub fn sent(self) -> &'static str {
        match self {
            Layout::SpecialUse => "Sent",
            Layout::NorwegianNames => "Sendte elementer",
            Layout::NestedDot => "INBOX.Sent",
        }
    }

    /// Full IMAP name of the drafts folder.
    pub fn drafts(self) -> &'static str {
        match self {
            Layout::SpecialUse => "Drafts",
            Layout::NorwegianNames => "Utkast",
            Layout::NestedDot => "INBOX.Drafts",
        }
    }

    /// Full IMAP name of the trash folder.
    pub fn trash(self) -> &'static str {
        match self {
            Layout::SpecialUse => "Trash",
            Layout::NorwegianNames => "Slettede elementer",
            Layout::NestedDot => "INBOX.Trash",
        }
    }

    /// Every folder LIST "" "*" shows for a fresh user, INBOX first.
    pub fn folders(self) -> Vec<&'static str> {
        let mut all = vec!["INBOX", self.sent(), self.drafts(), self.trash()];
        if self == Layout::SpecialUse {
            all.extend(["Archive", "All Mail"]);
        }
        all
    }

    /// (folder name relative to the namespace, special_use) pairs for the config.
    fn mailboxes(self) -> Vec<(&'static str, Option<&'static str>)> {
        match self {
            Layout::SpecialUse => vec![
                ("Sent", Some("\\Sent")),
                ("Drafts", Some("\\Drafts")),
                ("Trash", Some("\\Trash")),
                ("Archive", Some("\\Archive")),
                ("All Mail", Some("\\All")),
            ],
            Layout::NorwegianNames => vec![
                ("Sendte elementer", None),
                ("Utkast", None),
                ("Slettede elementer", None),
            ],
            // Names in a prefixed namespace's mailbox blocks are written without the prefix.
            Layout::NestedDot => vec![("Sent", None), ("Drafts", None), ("Trash", None)],
        }
    }
}

#[derive(Clone, Debug)]
pub struct DovecotOptions {
    pub layout: Layout,
    /// (user, password); written to a passwd-file before the server starts.
    pub users: Vec<(String, String)>,
    /// Also offer XOAUTH2 and OAUTHBEARER, checked against an introspection endpoint that the
    /// harness serves (password login keeps working).
    pub oauth2: bool,
    /// Dovecot's `imap_capability`: the whole CAPABILITY list announced after login, instead
    /// of Dovecot's own (a server without MOVE or UIDPLUS, say). None: Dovecot's.
    pub imap_capability: Option<String>,
}

impl Default for DovecotOptions {
    fn default() -> Self {
        DovecotOptions {
            layout: Layout::SpecialUse,
            users: vec![("kari@fjordsalg.no".to_string(), "secret-pass".to_string())],
            oauth2: false,
            imap_capability: None,
        }
    }
}

pub struct Dovecot {
    // Drop order matters: the server first, then the endpoint, then the dir.
    process: Option<GroupChild>,
    introspection: Option<Introspection>,
    ca: TestCa,
    opts: DovecotOptions,
    imap_port: u16,
    imaps_port: u16,
    /// Set once a panic message carried the log, so that `Drop` does not print it again.
    log_shown: bool,
    dir: tempfile::TempDir,
}

impl Dovecot {
    /// Writes a config from scratch into a fresh temp dir and starts `dovecot -F` on two free
    /// loopback ports. Returns once both ports accept connections and the plain port gives a
    /// real greeting (so the auth process is up). Panics with the log otherwise.
    pub fn start(opts: DovecotOptions) -> Dovecot {
        assert!(!opts.users.is_empty(), "DovecotOptions.users is empty");
        let dir = temp_dir("nudge-dovecot-");
        let ca = TestCa::new(dir.path());
        let introspection = opts.oauth2.then(|| {
            Introspection::start(
                &opts
                    .users
                    .iter()
                    .map(|(u, _)| u.clone())
                    .collect::<Vec<_>>(),
            )
        });
        let mut dovecot = Dovecot {
            process: None,
            introspection,
            ca,
            opts,
            imap_port: 0,
            imaps_port: 0,
            log_shown: false,
            dir,
        };
        dovecot.write_files();

        for attempt in 1..=BIND_ATTEMPTS {
            dovecot.imap_port = free_port();
            dovecot.imaps_port = loop {
                let p = free_port();
                if p != dovecot.imap_port {
                    break p;
                }
            };
            dovecot.write_config();
            match dovecot.spawn_and_wait() {
                Ok(()) => return dovecot,
                Err(StartError::Bind) if attempt < BIND_ATTEMPTS => continue,
                Err(e) => dovecot.fail(&format!("Dovecot did not start ({e:?})")),
            }
        }
        unreachable!()
    }

    /// Implicit-TLS IMAP port on 127.0.0.1.
    pub fn imaps_port(&self) -> u16 {
        self.imaps_port
    }

    /// Plain IMAP port on 127.0.0.1; offers STARTTLS and also allows plaintext LOGIN.
    pub fn imap_port(&self) -> u16 {
        self.imap_port
    }

    pub fn ca(&self) -> &TestCa {
        &self.ca
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn layout(&self) -> Layout {
        self.opts.layout
    }

    /// Dovecot's log file (errors, info, and one debug line per finished IMAP command:
    /// `imap(user)<pid><session>: Debug: Command finished: UID FETCH ...`), followed by
    /// anything the master wrote to stderr.
    pub fn log(&self) -> String {
        let mut log = read_lossy(&self.dir().join("dovecot.log"));
        let stderr = read_lossy(&self.dir().join("dovecot.stderr"));
        if !stderr.trim().is_empty() {
            log.push_str("\n--- dovecot stderr ---\n");
            log.push_str(&stderr);
        }
        log
    }

    /// Pid of the Dovecot master (also its process group id) while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(GroupChild::id)
    }

    /// Whether the server is currently running.
    pub fn is_running(&mut self) -> bool {
        self.process.as_mut().is_some_and(|p| !p.has_exited())
    }

    /// Stops the server (all its processes) and waits until both ports refuse connections.
    /// The mail data and the log stay. Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop(Duration::from_secs(5));
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while (accepts(self.imap_port) || accepts(self.imaps_port)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = fs::remove_file(self.dir().join("run/master.pid"));
    }

    /// Starts the server again on the same ports with the same data (stops it first if it is
    /// running). Retries for a while if a port is briefly unavailable.
    pub fn restart(&mut self) {
        self.stop();
        if let Err(e) = super::start_again(|| self.spawn_and_wait()) {
            self.fail(&format!("Dovecot did not restart ({e:?})"));
        }
    }

    /// Changes the capabilities announced after login (see [`DovecotOptions::imap_capability`])
    /// and restarts the server on the same ports with the same data.
    pub fn restart_with_capability(&mut self, capability: Option<&str>) {
        self.opts.imap_capability = capability.map(str::to_string);
        self.stop();
        self.write_config();
        self.restart();
    }

    /// A token the introspection endpoint accepts for `user` (needs `oauth2: true`).
    pub fn oauth_token(&self, user: &str) -> String {
        self.oauth().token(user)
    }

    /// The introspection endpoint (needs `oauth2: true`): rotate/revoke tokens, count requests.
    pub fn oauth(&self) -> &Introspection {
        self.introspection
            .as_ref()
            .expect("Dovecot was started without oauth2: true")
    }

    /// The user's home (owned by the dovecot user).
    pub fn home_of(&self, user: &str) -> PathBuf {
        self.dir().join("home").join(user)
    }

    /// Where the user's mail lives (a Maildir; created by Dovecot at first login).
    pub fn maildir_of(&self, user: &str) -> PathBuf {
        self.home_of(user).join("Maildir")
    }

    /// Runs `doveadm -c <our config> ARGS...` and returns its stdout; panics on failure.
    /// Works while the server runs or is stopped (e.g. `["search", "-u", user, "ALL"]`).
    pub fn doveadm(&self, args: &[&str]) -> String {
        self.doveadm_with_input(args, &[])
    }

    /// Stores a raw message in `folder` of `user` directly (doveadm save), bypassing IMAP:
    /// quick seeding of mailboxes. `folder` is the full IMAP name (e.g. `INBOX.Sent`).
    pub fn save_message(&self, user: &str, folder: &str, raw: &[u8]) {
        self.doveadm_with_input(&["save", "-u", user, "-m", folder], raw);
    }

    fn doveadm_with_input(&self, args: &[&str], input: &[u8]) -> String {
        let mut child = Command::new("doveadm")
            .arg("-c")
            .arg(self.dir().join("dovecot.conf"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn doveadm");
        {
            let mut stdin = child.stdin.take().expect("doveadm stdin");
            stdin.write_all(input).expect("write doveadm stdin");
        }
        let out = child.wait_with_output().expect("wait for doveadm");
        assert!(
            out.status.success(),
            "doveadm {args:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn fail(&mut self, what: &str) -> ! {
        if let Some(mut process) = self.process.take() {
            process.stop(Duration::from_secs(2));
        }
        self.log_shown = true;
        panic!(
            "{what}: ports imap={} imaps={}, dir {}\n--- dovecot log ---\n{}",
            self.imap_port,
            self.imaps_port,
            self.dir().display(),
            self.log()
        );
    }

    /// Spawns the master and waits until it is ready, or until it exits/times out.
    fn spawn_and_wait(&mut self) -> Result<(), StartError> {
        let dir = self.dir().to_path_buf();
        let _ = fs::remove_file(dir.join("run/master.pid"));
        let log_len_before = fs::metadata(dir.join("dovecot.log"))
            .map(|m| m.len())
            .unwrap_or(0);
        let stderr_len_before = fs::metadata(dir.join("dovecot.stderr"))
            .map(|m| m.len())
            .unwrap_or(0);
        let stderr = File::options()
            .create(true)
            .append(true)
            .open(dir.join("dovecot.stderr"))
            .expect("open dovecot.stderr");
        let mut cmd = Command::new("dovecot");
        cmd.arg("-F")
            .arg("-c")
            .arg(dir.join("dovecot.conf"))
            .stdin(Stdio::null())
            .stdout(stderr.try_clone().expect("dup stderr file"))
            .stderr(stderr);
        let process =
            GroupChild::spawn("dovecot", cmd).expect("spawn dovecot (is dovecot-imapd installed?)");
        self.process = Some(process);

        let id = self.instance_id();
        let tls = self.ca.client_config();
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if self.process.as_mut().is_some_and(|p| p.has_exited()) {
                self.process = None;
                let new_log = tail_from(&dir.join("dovecot.log"), log_len_before)
                    + &tail_from(&dir.join("dovecot.stderr"), stderr_len_before);
                return Err(
                    if new_log.to_lowercase().contains("address already in use") {
                        StartError::Bind
                    } else {
                        StartError::Exited
                    },
                );
            }
            let not_ready = match probe(self.imap_port, self.imaps_port, &id, &tls) {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if Instant::now() >= deadline {
                return Err(StartError::Timeout(not_ready));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// passwd-file, homes, oauth2 args file.
    fn write_files(&self) {
        let dir = self.dir();
        let (uid, gid) = dovecot_ids();
        let mut users = String::new();
        for (user, password) in &self.opts.users {
            assert!(
                !user.contains([':', '/', '\n']) && !password.contains([':', '\n']),
                "user/password unsuitable for a passwd-file: {user:?}"
            );
            users.push_str(&format!("{user}:{{PLAIN}}{password}\n"));
            let home = self.home_of(user);
            fs::create_dir_all(&home).expect("create home");
            std::os::unix::fs::chown(&home, Some(uid), Some(gid)).expect("chown home to dovecot");
        }
        fs::write(dir.join("users"), users).expect("write users");
        if let Some(introspection) = &self.introspection {
            let args = format!(
                "introspection_mode = post\n\
                 introspection_url = {}\n\
                 username_attribute = username\n\
                 active_attribute = active\n\
                 active_value = true\n\
                 timeout_msecs = 5000\n",
                introspection.url()
            );
            fs::write(dir.join("dovecot-oauth2.conf.ext"), args).expect("write oauth2 args");
        }
    }

    /// Unique on this machine while the instance exists (its temp dir's name); part of the
    /// login greeting so that the readiness probe recognises its own server.
    fn instance_id(&self) -> String {
        self.dir()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    fn write_config(&self) {
        fs::write(self.dir().join("dovecot.conf"), self.config()).expect("write dovecot.conf");
    }

    fn config(&self) -> String {
        let d = self.dir().display().to_string();
        let layout = self.opts.layout;
        let oauth2 = self.opts.oauth2;
        let mut c = String::new();
        let mut line = |s: &str| {
            c.push_str(s);
            c.push('\n');
        };
        line("# Written by tests/support/dovecot.rs; does not include /etc/dovecot.");
        line(&format!("base_dir = {d}/run"));
        line(&format!("state_dir = {d}/state"));
        line(&format!("log_path = {d}/dovecot.log"));
        line(&format!("info_log_path = {d}/dovecot.log"));
        line(&format!("debug_log_path = {d}/dovecot.log"));
        line("log_timestamp = \"%Y-%m-%d %H:%M:%S \"");
        // One debug line per IMAP command (with its arguments) in the log.
        line("log_debug = event=imap_command_finished");
        line("auth_verbose = yes");
        line("default_login_user = dovenull");
        line("default_internal_user = dovecot");
        line("first_valid_uid = 1");
        line("listen = 127.0.0.1");
        line("protocols = imap");
        line(&format!(
            "login_greeting = Dovecot ready ({}).",
            self.instance_id()
        ));
        line("ssl = yes");
        line(&format!("ssl_cert = <{}", self.ca.cert_path().display()));
        line(&format!("ssl_key = <{}", self.ca.key_path().display()));
        line("disable_plaintext_auth = no");
        // Fast failures: no 2 s delay on a bad password, no growing per-IP penalty.
        line("auth_failure_delay = 0");
        // Parallel sessions of one user from 127.0.0.1 (IDLE + work connections, many tests).
        line("mail_max_userip_connections = 100");
        if let Some(capability) = &self.opts.imap_capability {
            line(&format!("imap_capability = {capability}"));
        }
        if oauth2 {
            line("auth_mechanisms = plain login xoauth2 oauthbearer");
        } else {
            line("auth_mechanisms = plain login");
        }
        line("passdb {");
        line("  driver = passwd-file");
        line(&format!(
            "  args = scheme=PLAIN username_format=%u {d}/users"
        ));
        if oauth2 {
            line("  mechanisms = plain login");
        }
        line("}");
        if oauth2 {
            line("passdb {");
            line("  driver = oauth2");
            line("  mechanisms = xoauth2 oauthbearer");
            line(&format!("  args = {d}/dovecot-oauth2.conf.ext"));
            line("}");
        }
        line("userdb {");
        line("  driver = static");
        line(&format!(
            "  args = uid=dovecot gid=dovecot home={d}/home/%u"
        ));
        line("}");
        match layout {
            Layout::NestedDot => line("mail_location = maildir:~/Maildir"),
            _ => line("mail_location = maildir:~/Maildir:LAYOUT=fs"),
        }
        line("namespace inbox {");
        line("  inbox = yes");
        line(&format!("  separator = {}", layout.separator()));
        if layout == Layout::NestedDot {
            line("  prefix = INBOX.");
        }
        for (name, special_use) in layout.mailboxes() {
            line(&format!("  mailbox \"{name}\" {{"));
            if let Some(special_use) = special_use {
                line(&format!("    special_use = {special_use}"));
            }
            line("    auto = subscribe");
            line("  }");
        }
        line("}");
        line("service imap-login {");
        line("  inet_listener imap {");
        line(&format!("    port = {}", self.imap_port));
        line("  }");
        line("  inet_listener imaps {");
        line(&format!("    port = {}", self.imaps_port));
        line("    ssl = yes");
        line("  }");
        line("}");
        line("service anvil {");
        line("  unix_listener anvil-auth-penalty {");
        line("    mode = 0");
        line("  }");
        line("}");
        c
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop(Duration::from_secs(5));
        }
        if std::thread::panicking() && !self.log_shown {
            eprintln!(
                "--- dovecot log ({}, imap={} imaps={}) ---\n{}",
                self.dir().display(),
                self.imap_port,
                self.imaps_port,
                last_lines(&self.log(), 200)
            );
        }
    }
}

/// Both ports give a real greeting (so the auth process is up, past Dovecot's
/// "Waiting for authentication process"), over TLS verified against our CA on the imaps port,
/// and both greetings carry `id`: a port that another process grabbed first cannot pass.
fn probe(
    imap_port: u16,
    imaps_port: u16,
    id: &str,
    tls: &Arc<rustls::ClientConfig>,
) -> Result<(), String> {
    let timeout = Duration::from_secs(1);
    let mut tcp = TcpStream::connect_timeout(&addr(imap_port), timeout)
        .map_err(|e| format!("imap port {imap_port}: {e}"))?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    check_greeting(&mut tcp, id).map_err(|e| format!("imap port {imap_port}: {e}"))?;

    let tcp = TcpStream::connect_timeout(&addr(imaps_port), timeout)
        .map_err(|e| format!("imaps port {imaps_port}: {e}"))?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let name = ServerName::try_from("localhost").expect("server name");
    let conn = rustls::ClientConnection::new(Arc::clone(tls), name).map_err(|e| e.to_string())?;
    let mut stream = rustls::StreamOwned::new(conn, tcp);
    check_greeting(&mut stream, id).map_err(|e| format!("imaps port {imaps_port}: {e}"))
}

/// Reads until the real greeting, checks that it carries `id`, says LOGOUT.
fn check_greeting(stream: &mut (impl Read + Write), id: &str) -> Result<(), String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err(format!("closed after {:?}", String::from_utf8_lossy(&buf)));
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if !text.ends_with("\r\n") {
            continue;
        }
        let greeting = text
            .split("\r\n")
            .find(|l| l.starts_with("* OK") && !l.contains("Waiting for authentication"));
        if let Some(greeting) = greeting {
            if !greeting.contains(id) {
                return Err(format!("another server answers: {greeting:?}"));
            }
            let _ = stream.write_all(b"z LOGOUT\r\n");
            let _ = stream.flush();
            return Ok(());
        }
    }
}

fn accepts(port: u16) -> bool {
    TcpStream::connect_timeout(&addr(port), Duration::from_millis(200)).is_ok()
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// uid and gid of the `dovecot` user, from /etc/passwd.
fn dovecot_ids() -> (u32, u32) {
    let passwd = fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 3 && f[0] == "dovecot").then(|| (f[2].parse().ok(), f[3].parse().ok()))
        })
        .and_then(|(u, g)| Some((u?, g?)))
        .expect("no dovecot user in /etc/passwd (is dovecot-core installed?)")
}

fn tail_from(path: &Path, offset: u64) -> String {
    let text = read_lossy(path);
    text.get(offset as usize..).unwrap_or(&text).to_string()
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
