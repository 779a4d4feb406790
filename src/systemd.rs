//! Talking to systemd: `sd_notify` datagrams on `$NOTIFY_SOCKET` (READY=1, STATUS=…,
//! WATCHDOG=1, STOPPING=1). Outside systemd every call does nothing.
//!
//! Several accounts in one process speak for the process together: READY=1 goes out once
//! every account's first pass has ended (done, or failed and being retried: one seller's
//! wrong password must not hold the team's service in "activating" until systemd gives up),
//! and WATCHDOG=1 only while every running account pings (one hung account is the service
//! hung). An account stopped for good counts for neither.

use std::collections::BTreeMap;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where systemd listens, if it does.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    /// The socket path; a leading '@' names an abstract socket.
    socket: Option<PathBuf>,
    /// Half of `$WATCHDOG_USEC`, when the watchdog is on for this process.
    watchdog: Option<Duration>,
    /// Set for one account of several in one process: its STATUS lines name it, and its
    /// stop is not the service's (STOPPING=1 is left to the process).
    account: Option<String>,
    /// The accounts served together, when there are several.
    team: Option<Arc<Team>>,
}

/// What the accounts of one process told so far.
#[derive(Debug, Default)]
struct Team {
    members: Mutex<TeamState>,
}

#[derive(Debug, Default)]
struct TeamState {
    members: BTreeMap<String, Member>,
    ready_sent: bool,
}

#[derive(Debug, Default, Clone, Copy)]
struct Member {
    /// Its first pass ended (or it stopped).
    settled: bool,
    /// Stopped for good: no longer pings.
    stopped: bool,
    /// Waiting to start again after a failure: not running, so not pinging, and not hung.
    resting: bool,
    /// When it last said it was alive.
    pinged: Option<Instant>,
}

impl Notifier {
    /// Reads `$NOTIFY_SOCKET` and `$WATCHDOG_USEC` (honouring `$WATCHDOG_PID`).
    pub fn from_env() -> Notifier {
        let socket = std::env::var_os("NOTIFY_SOCKET")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from);
        let for_us = std::env::var("WATCHDOG_PID")
            .ok()
            .and_then(|p| p.parse::<u32>().ok())
            .is_none_or(|pid| pid == std::process::id());
        let watchdog = std::env::var("WATCHDOG_USEC")
            .ok()
            .and_then(|u| u.parse::<u64>().ok())
            .filter(|&u| u > 0 && for_us)
            .map(|u| Duration::from_micros(u / 2));
        Notifier {
            socket,
            watchdog,
            account: None,
            team: None,
        }
    }

    /// A notifier for each of several accounts served by one process, in order.
    pub fn for_accounts(&self, emails: &[String]) -> Vec<Notifier> {
        let team = Arc::new(Team::default());
        team.lock().members = emails
            .iter()
            .map(|e| (e.clone(), Member::default()))
            .collect();
        emails
            .iter()
            .map(|email| Notifier {
                account: Some(email.clone()),
                team: Some(team.clone()),
                ..self.clone()
            })
            .collect()
    }

    /// This account waits to start again after a failure: until it pings again, the
    /// watchdog does not wait for it (it is not hung, it is not running).
    pub fn resting(&self) {
        if let (Some(team), Some(account)) = (&self.team, &self.account) {
            if let Some(member) = team.lock().members.get_mut(account) {
                member.resting = true;
            }
        }
    }

    /// This account stopped for good: the others no longer wait for it.
    pub fn stopped(&self) {
        if let (Some(team), Some(account)) = (&self.team, &self.account) {
            let ready = {
                let mut state = team.lock();
                if let Some(member) = state.members.get_mut(account) {
                    member.stopped = true;
                    member.settled = true;
                }
                state.take_ready()
            };
            if ready {
                self.deliver("READY=1");
            }
        }
    }

    /// How often to send WATCHDOG=1, if systemd asked for it.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog
    }

    /// Sends one notification; failures are logged at debug level and otherwise ignored.
    pub fn send(&self, message: &str) {
        if self.socket.is_none() {
            return;
        }
        if let (Some(team), Some(account)) = (&self.team, &self.account) {
            let mut state = team.lock();
            let Some(member) = state.members.get_mut(account) else {
                return;
            };
            match message {
                "READY=1" => {
                    member.settled = true;
                    if !state.take_ready() {
                        return;
                    }
                }
                "WATCHDOG=1" => {
                    member.pinged = Some(Instant::now());
                    member.resting = false;
                    // Half the interval between pings: a member quiet for a whole interval hangs.
                    let interval = self.watchdog.unwrap_or(Duration::ZERO) * 2;
                    let all_alive = state.members.values().all(|m| {
                        m.stopped
                            || m.resting
                            || m.pinged.is_some_and(|at| at.elapsed() <= interval)
                    });
                    if !all_alive {
                        return;
                    }
                }
                _ => {}
            }
        }
        self.deliver(message);
    }

    fn deliver(&self, message: &str) {
        let Some(socket) = &self.socket else {
            return;
        };
        let named;
        let message = match (&self.account, message) {
            (Some(_), "STOPPING=1") => return,
            (Some(account), status) if status.starts_with("STATUS=") => {
                named = format!("STATUS={account}: {}", &status["STATUS=".len()..]);
                named.as_str()
            }
            _ => message,
        };
        if let Err(e) = send_datagram(socket, message) {
            tracing::debug!("sd_notify {message:?} to {}: {e}", socket.display());
        }
    }
}

impl Team {
    fn lock(&self) -> std::sync::MutexGuard<'_, TeamState> {
        // A panic while holding it left plain flags: still usable.
        self.members.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl TeamState {
    /// Whether READY=1 is to go out now: every member settled, and not sent before.
    fn take_ready(&mut self) -> bool {
        if self.ready_sent || !self.members.values().all(|m| m.settled) {
            return false;
        }
        self.ready_sent = true;
        true
    }
}

fn send_datagram(socket: &std::path::Path, message: &str) -> std::io::Result<usize> {
    let datagram = UnixDatagram::unbound()?;
    let text = socket.to_string_lossy();
    match text.strip_prefix('@') {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
            datagram.send_to_addr(message.as_bytes(), &address)
        }
        None => datagram.send_to(message.as_bytes(), socket),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_reach_a_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let listener = UnixDatagram::bind(&path).unwrap();
        let notifier = Notifier {
            socket: Some(path),
            watchdog: None,
            account: None,
            team: None,
        };
        notifier.send("READY=1");
        let mut buffer = [0u8; 64];
        let n = listener.recv(&mut buffer).unwrap();
        assert_eq!(&buffer[..n], b"READY=1");
        Notifier::default().send("READY=1"); // outside systemd: nothing, no error

        // One account of several: its status names it, and its stop is not the service's.
        let one = notifier
            .for_accounts(&["ola@fjordsalg.no".into()])
            .remove(0);
        one.send("STOPPING=1");
        one.send("STATUS=server unreachable; reconnecting");
        let n = listener.recv(&mut buffer).unwrap();
        assert_eq!(
            &buffer[..n],
            b"STATUS=ola@fjordsalg.no: server unreachable; reconnecting"
        );
        listener.set_nonblocking(true).unwrap();
        assert!(listener.recv(&mut buffer).is_err(), "nothing more was sent");
    }

    fn listening() -> (tempfile::TempDir, UnixDatagram, Notifier) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let listener = UnixDatagram::bind(&path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let notifier = Notifier {
            socket: Some(path),
            watchdog: Some(Duration::from_millis(100)),
            account: None,
            team: None,
        };
        (dir, listener, notifier)
    }

    fn received(listener: &UnixDatagram) -> Vec<String> {
        let mut buffer = [0u8; 256];
        let mut got = Vec::new();
        while let Ok(n) = listener.recv(&mut buffer) {
            got.push(String::from_utf8_lossy(&buffer[..n]).into_owned());
        }
        got
    }

    #[test]
    fn several_accounts_are_ready_together_and_a_stopped_one_is_not_waited_for() {
        let (_dir, listener, notifier) = listening();
        let emails = ["kari@a.no", "ola@a.no", "per@a.no"].map(String::from);
        let team = notifier.for_accounts(&emails);
        team[0].send("READY=1");
        team[1].send("READY=1");
        assert!(received(&listener).is_empty(), "Per has not settled yet");
        team[2].stopped();
        assert_eq!(received(&listener), ["READY=1"]);
        // Once only, whoever settles again.
        team[0].send("READY=1");
        team[2].send("READY=1");
        assert!(received(&listener).is_empty());
    }

    #[test]
    fn the_watchdog_is_fed_only_while_every_running_account_pings() {
        let (_dir, listener, notifier) = listening();
        let emails = ["kari@a.no", "ola@a.no", "per@a.no"].map(String::from);
        let team = notifier.for_accounts(&emails);
        team[0].send("WATCHDOG=1");
        team[1].send("WATCHDOG=1");
        assert!(received(&listener).is_empty(), "Per never pinged");
        team[2].send("WATCHDOG=1");
        assert_eq!(received(&listener), ["WATCHDOG=1"]);
        // Ola goes quiet for longer than an interval (2 × 100 ms): his pass hangs.
        std::thread::sleep(Duration::from_millis(250));
        team[0].send("WATCHDOG=1");
        team[2].send("WATCHDOG=1");
        assert!(
            received(&listener).is_empty(),
            "one hung account is the service hung"
        );
        // An account waiting to start again after a failure is not hung either, until it
        // runs (and pings) again.
        team[1].resting();
        team[0].send("WATCHDOG=1");
        assert_eq!(received(&listener), ["WATCHDOG=1"]);
        team[1].send("WATCHDOG=1");
        assert_eq!(received(&listener), ["WATCHDOG=1"], "all three alive");
        std::thread::sleep(Duration::from_millis(250));
        team[0].send("WATCHDOG=1");
        team[2].send("WATCHDOG=1");
        assert!(received(&listener).is_empty(), "running again, and quiet");
        // An account stopped for good is not waited for.
        team[1].stopped();
        team[0].send("WATCHDOG=1");
        assert_eq!(received(&listener), ["WATCHDOG=1"]);
    }
}
