//! A real PostgreSQL from Debian's packages on 127.0.0.1, in a temp dir of its own, in the
//! foreground as our child.
//!
//! PostgreSQL refuses to run as root; as root, `initdb` and `postgres` run as Debian's
//! `postgres` system user (or `nobody` where the package made none), and the data dir is theirs.
//! One server holds many databases: [`Postgres::shared`] starts one per test binary and each
//! test makes its own with [`Postgres::create_database`].

use std::fs::{self, File};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::process::GroupChild;
use super::{free_port, keep_dirs, read_lossy, temp_dir, StartError};

/// How long `start`/`restart` wait for the server to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Fresh-port attempts when the server cannot bind (another process took the port we picked).
const BIND_ATTEMPTS: usize = 5;
/// The superuser `initdb` makes, whichever system user runs the server.
pub const USER: &str = "postgres";

pub struct Postgres {
    /// Behind a lock so that the shared instance, only ever borrowed, can be stopped at exit.
    process: Mutex<Option<GroupChild>>,
    bin: PathBuf,
    /// (uid, gid) the server runs as when we are root; None: as ourselves.
    run_as: Option<(u32, u32)>,
    port: u16,
    /// Set once a panic message carried the log, so that `Drop` does not print it again.
    log_shown: bool,
    /// Commits are on disk (the OS's) when they return, as on a real server: a killed server
    /// loses no committed transaction. Off for throwaway data, which need not wait.
    durable: bool,
    dir: tempfile::TempDir,
}

impl Postgres {
    /// Runs `initdb` into a fresh temp dir and starts `postgres` on a free loopback port.
    /// Returns once the server accepts connections; panics with the log otherwise.
    pub fn start() -> Postgres {
        Postgres::start_as(false)
    }

    /// [`Postgres::start`] with commits that survive a kill of the server
    /// (`synchronous_commit` on, as a real server runs): for tests that crash it.
    pub fn start_durable() -> Postgres {
        Postgres::start_as(true)
    }

    fn start_as(durable: bool) -> Postgres {
        let dir = temp_dir("nudge-postgres-");
        let bin = bin_dir();
        let run_as = unprivileged_user();
        let mut postgres = Postgres {
            process: Mutex::new(None),
            bin,
            run_as,
            port: 0,
            log_shown: false,
            durable,
            dir,
        };
        postgres.init_data_dir();

        for attempt in 1..=BIND_ATTEMPTS {
            postgres.port = free_port();
            match postgres.spawn_and_wait() {
                Ok(()) => return postgres,
                Err(StartError::Bind) if attempt < BIND_ATTEMPTS => continue,
                Err(e) => postgres.fail(&format!("PostgreSQL did not start ({e:?})")),
            }
        }
        unreachable!()
    }

    /// One server for the whole test binary, started by the first caller; each test makes its
    /// own database on it. Statics are never dropped, so it is stopped and its dir removed when
    /// the process exits normally (`atexit`); if the process dies instead, the process group's
    /// sentinel stops the server (the dir then stays, as every server's does).
    pub fn shared() -> &'static Postgres {
        SHARED.get_or_init(|| {
            let postgres = Postgres::start();
            // SAFETY: registers a plain function that never unwinds.
            let registered = unsafe { libc::atexit(stop_shared) };
            assert_eq!(
                registered, 0,
                "atexit refused to register the shared server's stop"
            );
            postgres
        })
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`: the maintenance database.
    pub fn url(&self) -> String {
        self.url_of("postgres")
    }

    /// Creates a new, empty database and returns its URL. Names are plain identifiers
    /// (lower-case ASCII letters, digits, `_`); panics if it exists.
    pub fn create_database(&self, name: &str) -> String {
        assert!(
            !name.is_empty()
                && name.len() <= 63
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "not a plain database name: {name:?}"
        );
        self.psql("postgres", &format!("CREATE DATABASE \"{name}\""));
        self.url_of(name)
    }

    /// Runs one SQL command with `psql` against `database` and returns its unaligned output
    /// (e.g. `SELECT 1` gives "1\n"); panics if it fails.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let out = Command::new(self.tool("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER])
            .args(["-d", database, "-c", sql])
            .env("PGCONNECT_TIMEOUT", "10")
            .stdin(Stdio::null())
            .output()
            .expect("spawn psql (is postgresql-client installed?)");
        assert!(
            out.status.success(),
            "psql {sql:?} on {database} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Port on 127.0.0.1; the same across `restart`.
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The cluster's data dir (owned by the user the server runs as).
    pub fn data_dir(&self) -> PathBuf {
        self.dir().join("data")
    }

    /// Pid of the postmaster while it runs. Its children (backends, checkpointer, ...) are in
    /// sessions of their own (postgres calls `setsid`), outside its process group.
    pub fn pid(&self) -> Option<u32> {
        self.lock_process().as_ref().map(GroupChild::id)
    }

    /// Whether the server is currently running.
    pub fn is_running(&self) -> bool {
        self.lock_process()
            .as_mut()
            .is_some_and(|p| !p.has_exited())
    }

    /// The server's log (everything it wrote to stderr), after `initdb`'s output.
    pub fn log(&self) -> String {
        let mut log = read_lossy(&self.dir().join("initdb.log"));
        log.push_str("\n--- postgres ---\n");
        log.push_str(&read_lossy(&self.dir().join("postgres.log")));
        log
    }

    /// Stops the server (fast shutdown: sessions are ended, a checkpoint written) and waits
    /// until the port refuses connections. The data and the log stay. Idempotent.
    pub fn stop(&mut self) {
        shut_down(self.process.get_mut().unwrap_or_else(|e| e.into_inner()));
        let deadline = Instant::now() + Duration::from_secs(5);
        while accepts(self.port) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the server again on the same port with the same data (stops it first if it is
    /// running). Retries for a while if the port is briefly unavailable.
    pub fn restart(&mut self) {
        self.stop();
        if let Err(e) = super::start_again(|| self.spawn_and_wait()) {
            self.fail(&format!("PostgreSQL did not restart ({e:?})"));
        }
    }

    fn url_of(&self, database: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{database}", self.port)
    }

    fn lock_process(&self) -> std::sync::MutexGuard<'_, Option<GroupChild>> {
        self.process.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A program of the server's version (`initdb`, `postgres`, `psql`).
    fn tool(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    /// As root, `command` runs as the unprivileged user, in our dir (a cwd it may enter).
    fn as_server_user(&self, command: &mut Command) {
        command.current_dir(self.dir()).env("LC_ALL", "C");
        if let Some((uid, gid)) = self.run_as {
            // std drops the supplementary groups too when it sets the uid as root.
            command.uid(uid).gid(gid);
        }
    }

    /// `initdb` with trust auth (local and loopback) and no fsync; socket dir beside the data.
    fn init_data_dir(&mut self) {
        let data = self.data_dir();
        let run = self.dir().join("run");
        for dir in [&data, &run] {
            fs::create_dir(dir).expect("create a dir in the postgres temp dir");
            if let Some((uid, gid)) = self.run_as {
                std::os::unix::fs::chown(dir, Some(uid), Some(gid))
                    .expect("chown a dir to the server's user");
            }
        }
        let log = File::create(self.dir().join("initdb.log")).expect("create initdb.log");
        let mut cmd = Command::new(self.tool("initdb"));
        cmd.arg("-D")
            .arg(&data)
            .args(["-U", USER, "--auth=trust", "-E", "UTF8", "--locale=C"])
            .args(["--no-sync", "--no-instructions"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup initdb.log"))
            .stderr(log);
        self.as_server_user(&mut cmd);
        let status = cmd
            .status()
            .expect("spawn initdb (is Debian's postgresql installed?)");
        if !status.success() {
            self.fail(&format!("initdb failed ({status})"));
        }
    }

    fn fail(&mut self, what: &str) -> ! {
        shut_down(self.process.get_mut().unwrap_or_else(|e| e.into_inner()));
        self.log_shown = true;
        panic!(
            "{what}: port {}, dir {}, binaries {}\n--- log (last 60 lines) ---\n{}",
            self.port,
            self.dir().display(),
            self.bin.display(),
            last_lines(&self.log(), 60)
        );
    }

    /// Spawns the postmaster and waits until it says it is ready, or until it exits/times out.
    fn spawn_and_wait(&mut self) -> Result<(), StartError> {
        let log_path = self.dir().join("postgres.log");
        let log_len_before = fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
        let log = File::options()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("open postgres.log");
        let mut cmd = Command::new(self.tool("postgres"));
        cmd.arg("-D").arg(self.data_dir());
        for setting in [
            "listen_addresses=127.0.0.1".to_string(),
            format!("port={}", self.port),
            format!(
                "unix_socket_directories={}",
                self.dir().join("run").display()
            ),
            // Throwaway data: no waiting for the disk. A durable server still skips fsync
            // (a killed process loses nothing the OS holds) but writes each commit's WAL
            // before the commit returns.
            "fsync=off".to_string(),
            format!(
                "synchronous_commit={}",
                if self.durable { "on" } else { "off" }
            ),
            "full_page_writes=off".to_string(),
        ] {
            cmd.arg("-c").arg(setting);
        }
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup postgres.log"))
            .stderr(log);
        self.as_server_user(&mut cmd);
        let process = GroupChild::spawn("postgres", cmd).expect("spawn postgres");
        let pid = process.id();
        *self.process.get_mut().unwrap_or_else(|e| e.into_inner()) = Some(process);

        let pid_file = self.data_dir().join("postmaster.pid");
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if !self.is_running() {
                shut_down(self.process.get_mut().unwrap_or_else(|e| e.into_inner()));
                let new_log = tail_from(&log_path, log_len_before);
                return Err(if new_log.contains("Address already in use") {
                    StartError::Bind
                } else {
                    StartError::Exited
                });
            }
            // postmaster.pid: line 1 the pid, line 8 the state; "ready" once it accepts
            // connections (what `pg_ctl start -w` waits for). Our pid there: our server.
            let state = fs::read_to_string(&pid_file).unwrap_or_default();
            let lines: Vec<&str> = state.lines().collect();
            let ours = lines.first().map(|l| l.trim()) == Some(&pid.to_string());
            let ready = lines.get(7).map(|l| l.trim()) == Some("ready");
            if ours && ready && accepts(self.port) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(StartError::Timeout(format!(
                    "postmaster.pid says {:?}",
                    lines.get(7).unwrap_or(&"nothing yet")
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        shut_down(self.process.get_mut().unwrap_or_else(|e| e.into_inner()));
        if std::thread::panicking() && !self.log_shown {
            eprintln!(
                "--- postgres log ({}, port {}) ---\n{}",
                self.dir().display(),
                self.port,
                last_lines(&self.log(), 200)
            );
        }
    }
}

static SHARED: OnceLock<Postgres> = OnceLock::new();

/// Run by `exit`: stops the shared server and removes its dir (unless kept).
extern "C" fn stop_shared() {
    if let Some(postgres) = SHARED.get() {
        shut_down(&mut postgres.lock_process());
        if !keep_dirs() {
            let _ = fs::remove_dir_all(postgres.dir());
        }
    }
}

/// Stops the postmaster: fast shutdown (SIGINT), then immediate (SIGQUIT) if it hangs, then
/// SIGKILL; reaps it and its sentinel. Its children are outside its process group, so a signal
/// to the group would not reach them: the postmaster ends them and waits for them before it
/// exits. Never panics (it runs at exit too). Idempotent.
fn shut_down(process: &mut Option<GroupChild>) {
    let Some(mut process) = process.take() else {
        return;
    };
    let pid = process.id() as libc::pid_t;
    for signal in [libc::SIGINT, libc::SIGQUIT] {
        if process.has_exited() {
            break;
        }
        // SAFETY: kill(2) on our own unreaped child; it cannot name another process.
        unsafe { libc::kill(pid, signal) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !process.has_exited() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    process.stop(Duration::ZERO);
}

/// The newest Debian server binaries (`/usr/lib/postgresql/N/bin`, highest N), else the dir of
/// `postgres` on PATH.
fn bin_dir() -> PathBuf {
    let newest = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").is_file().then_some((version, bin))
        })
        .max_by_key(|(version, _)| *version);
    if let Some((_, bin)) = newest {
        return bin;
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .find(|dir| dir.join("postgres").is_file() && dir.join("initdb").is_file())
        .expect("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin or on PATH (is Debian's postgresql installed?)")
}

/// As root: (uid, gid) of `postgres`, else of `nobody`. Otherwise None (run as ourselves).
fn unprivileged_user() -> Option<(u32, u32)> {
    // SAFETY: geteuid cannot fail and touches no memory.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let passwd = fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    let ids = |name: &str| {
        passwd.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() > 3 && f[0] == name {
                Some((f[2].parse().ok()?, f[3].parse().ok()?))
            } else {
                None
            }
        })
    };
    let user = ids("postgres")
        .or_else(|| ids("nobody"))
        .expect("running as root and /etc/passwd has neither postgres nor nobody");
    Some(user)
}

fn accepts(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

fn tail_from(path: &Path, offset: u64) -> String {
    let text = read_lossy(path);
    text.get(offset as usize..).unwrap_or(&text).to_string()
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
