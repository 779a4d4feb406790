//! Timing a child process for the benchmarks: wall time and peak memory.

use std::process::{Command, Stdio};
use std::time::Instant;

/// The median of `values` (the upper one of an even count).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    values[values.len() / 2]
}

/// Runs a command to its end: wall seconds, its own peak RSS in KiB, and its stdout followed
/// by its stderr. Panics when it fails, with its output.
///
/// The peak is read from the child's `/proc/PID/status` (VmHWM) while it runs. wait4's
/// `ru_maxrss` cannot be used: Linux carries the RSS the process had before `exec` into it,
/// and a child spawned by this process had this process's memory then (the benchmark's
/// generated mailbox and the output of earlier runs), not nudge's.
pub fn measure(command: Command) -> (f64, u64, String) {
    let (seconds, peak, _, text) = measure_with_cpu(command);
    (seconds, peak, text)
}

/// [`measure`], and the CPU time the command used (user and system, seconds): its own time,
/// apart from what it waited for (wait4's `ru_utime` and `ru_stime`).
#[expect(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, which also reports its CPU time"
)]
pub fn measure_with_cpu(mut command: Command) -> (f64, u64, f64, String) {
    command.stdout(Stdio::piped());
    command.stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let pid = child.id() as libc::pid_t;
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let watcher = {
        let peak = peak.clone();
        std::thread::spawn(move || {
            // VmHWM only grows; once the child exits (a zombie has no memory) the last
            // reading stands.
            while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                let Some(kib) = status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                else {
                    break;
                };
                peak.fetch_max(kib, std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        })
    };
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child, not yet waited for; the pointers are valid for the call.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(waited, pid, "wait4");
    let _ = watcher.join();
    let text = format!(
        "{}{}",
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default()
    );
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "failed:\n{text}"
    );
    let cpu = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (
        seconds,
        peak.load(std::sync::atomic::Ordering::Relaxed),
        cpu(usage.ru_utime) + cpu(usage.ru_stime),
        text,
    )
}
