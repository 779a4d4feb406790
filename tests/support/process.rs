//! Server child processes in their own process group, with a watchdog so that nothing outlives
//! the test process.
//!
//! Each server is spawned as the leader of a new process group (`process_group(0)`); a tiny
//! `/bin/sh` "sentinel" joins that group and blocks reading a pipe from us. When the test process
//! goes away for any reason (even SIGKILL, where no `Drop` runs), the pipe closes and the sentinel
//! kills the whole group: SIGTERM, then SIGKILL after a grace period. [`GroupChild::stop`]
//! does the same from our side, with a bounded wait.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Blocks on stdin; at EOF, SIGTERM to its own process group, then SIGKILL. It ignores SIGTERM
/// itself so that it survives long enough to send the SIGKILL.
const SENTINEL: &str = "trap '' TERM INT HUP; read _ignored; kill -TERM 0; sleep 3; kill -9 0";

pub struct GroupChild {
    name: String,
    child: Child,
    sentinel: Option<Child>,
    sentinel_stdin: Option<ChildStdin>,
    exit: Option<ExitStatus>,
}

impl GroupChild {
    /// Spawns `cmd` as the leader of a new process group, plus the sentinel in that group.
    pub fn spawn(name: &str, mut cmd: Command) -> io::Result<GroupChild> {
        cmd.process_group(0);
        let child = cmd.spawn()?;
        let pgid = child.id() as i32;
        // If the server died at once, joining its group can fail; then there is nothing to guard.
        let mut sentinel = Command::new("/bin/sh")
            .arg("-c")
            .arg(SENTINEL)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(pgid)
            .spawn()
            .ok();
        let sentinel_stdin = sentinel.as_mut().and_then(|s| s.stdin.take());
        Ok(GroupChild {
            name: name.to_string(),
            child,
            sentinel,
            sentinel_stdin,
            exit: None,
        })
    }

    /// The leader's `Child` (e.g. to take its piped stdin/stdout).
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The leader's exit status if it has exited (non-blocking).
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().unwrap_or(None);
        }
        self.exit
    }

    /// Whether the group has been stopped or the leader has exited.
    pub fn has_exited(&mut self) -> bool {
        self.try_wait().is_some()
    }

    /// Stops the whole group: SIGTERM to every member (the sentinel ignores it), up to `grace`
    /// for the leader to exit, then SIGKILL to whatever is left in the group, the sentinel
    /// included. A zero `grace` goes straight to SIGKILL. Reaps the leader and the sentinel.
    /// Idempotent.
    ///
    /// (SIGTERM to Dovecot's master alone shuts down more quietly but takes about a second;
    /// SIGTERM to the group takes a few milliseconds.)
    pub fn stop(&mut self, grace: Duration) {
        let pgid = self.child.id();
        if self.try_wait().is_none() && !grace.is_zero() {
            signal(&format!("-{pgid}"), "TERM");
            let deadline = Instant::now() + grace;
            while self.try_wait().is_none() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(10));
            }
        }
        signal(&format!("-{pgid}"), "KILL");
        if self.exit.is_none() {
            let _ = self.child.kill();
            self.exit = self.child.wait().ok();
        }
        drop(self.sentinel_stdin.take());
        if let Some(mut sentinel) = self.sentinel.take() {
            let _ = sentinel.kill();
            let _ = sentinel.wait();
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for GroupChild {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(2));
    }
}

/// Sends a signal to a pid, or to a process group when `target` is `-PGID`; ESRCH (already
/// gone) is fine. Uses dash's kill builtin, which takes `kill -9 -PGID` (it has no `--`).
fn signal(target: &str, signal: &str) {
    let signal = if signal == "KILL" { "9" } else { signal };
    let _ = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("kill -{signal} {target} 2>/dev/null"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}
