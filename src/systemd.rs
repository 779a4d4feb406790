//! Talking to systemd: `sd_notify` datagrams on `$NOTIFY_SOCKET` (READY=1, STATUS=…,
//! WATCHDOG=1, STOPPING=1). Outside systemd every call does nothing.

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::Duration;

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
        }
    }

    /// This notifier for one account of several served by one process.
    pub fn for_account(&self, email: &str) -> Notifier {
        Notifier {
            account: Some(email.to_string()),
            ..self.clone()
        }
    }

    /// How often to send WATCHDOG=1, if systemd asked for it.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog
    }

    /// Sends one notification; failures are logged at debug level and otherwise ignored.
    pub fn send(&self, message: &str) {
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
        };
        notifier.send("READY=1");
        let mut buffer = [0u8; 64];
        let n = listener.recv(&mut buffer).unwrap();
        assert_eq!(&buffer[..n], b"READY=1");
        Notifier::default().send("READY=1"); // outside systemd: nothing, no error

        // One account of several: its status names it, and its stop is not the service's.
        let one = notifier.for_account("ola@fjordsalg.no");
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
}
