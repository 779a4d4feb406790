//! `nudge run` as a child process, with its log in a file.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::nudge::{nudge_binary, Nudge, PASSWORD};

pub struct Daemon {
    child: Child,
    pub log: PathBuf,
}

impl Daemon {
    /// Starts `nudge run` with the test password (or `password`) and extra environment.
    pub fn start(nudge: &Nudge, password: &str, env: &[(&str, &str)]) -> Daemon {
        let config = nudge.config.to_string_lossy().into_owned();
        let mut all = vec![("NUDGE_TEST_PASSWORD", password)];
        all.extend_from_slice(env);
        Daemon::start_with_args(nudge, &["--config", &config], &all)
    }

    /// Starts `nudge ARGS run` (ARGS: which configs) with the test password and `env`; its
    /// log goes beside `nudge`'s config.
    pub fn start_with_args(nudge: &Nudge, args: &[&str], env: &[(&str, &str)]) -> Daemon {
        Daemon::start_in(nudge.dir.path(), args, env)
    }

    /// [`Daemon::start_with_args`] with its log in `dir`: for configs the harness did not
    /// write (a team's folder of them).
    pub fn start_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Daemon {
        let log = dir.join(format!("daemon-{}.log", fastrand::u32(..)));
        let file = File::create(&log).expect("daemon log file");
        let mut command = Command::new(nudge_binary());
        command
            .args(args)
            .arg("run")
            .env("NUDGE_TEST_PASSWORD", PASSWORD)
            .env("RUST_LOG", "nudge=debug")
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file);
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().expect("nudge run starts");
        Daemon { child, log }
    }

    /// The default password of the test account.
    pub fn start_default(nudge: &Nudge) -> Daemon {
        Daemon::start(nudge, PASSWORD, &[])
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name} failed");
    }

    /// The exit status, if it exited within `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Still running?
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// CPU time (user + system) used so far, from /proc.
    pub fn cpu_time(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        // Fields after the ")" of the command name: utime is the 12th, stime the 13th.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0)
            + fields
                .get(12)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0);
        Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `check` every 50 ms until it is true or `limit` passes; returns the time it took.
pub fn wait_until(limit: Duration, mut check: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// The lines of a daemon's log (`nudge run` outside the journal stamps each line, in
/// microseconds): each line's time and its text after the stamp. Lines without a stamp are
/// left out.
pub fn log_lines(log: &str) -> Vec<(DateTime<Utc>, String)> {
    log.lines()
        .filter_map(|line| {
            let (stamp, rest) = line.split_once(' ')?;
            let at = DateTime::parse_from_rfc3339(stamp).ok()?.to_utc();
            Some((at, rest.trim_start().to_string()))
        })
        .collect()
}

/// Every notification waiting on `socket` (systemd's side of `$NOTIFY_SOCKET`), without
/// waiting for more.
pub fn notifications(socket: &std::os::unix::net::UnixDatagram) -> Vec<String> {
    socket.set_nonblocking(true).expect("a socket");
    let mut told = Vec::new();
    let mut buffer = [0u8; 512];
    while let Ok(n) = socket.recv(&mut buffer) {
        told.push(String::from_utf8_lossy(&buffer[..n]).into_owned());
    }
    told
}
