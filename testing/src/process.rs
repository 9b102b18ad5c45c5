//! `spawn_ready`: starts a process of the test's own (a worker, a service
//! binary) and returns once it says it serves, with a bound on the wait.
//!
//! The process says so by printing a line that contains a marker of the
//! test's choosing on stdout. Its stdout is read by a thread of its own for
//! as long as the process runs, so the wait has a deadline and the pipe
//! never fills up (a process blocked on a full pipe would stop serving).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::error::HarnessError;

/// Spawns `command` with its stdout piped and waits until it prints a line
/// containing `ready`, for at most `limit`. A process that exits first, or
/// is still silent at the deadline, is killed and reported.
///
/// ```no_run
/// use std::process::Command;
/// use std::time::Duration;
///
/// let mut command = Command::new("my-worker");
/// command.env("REDIS_URL", "redis://127.0.0.1:6400/");
/// let mut worker = redis_bus_testing::spawn_ready(&mut command, "serving", Duration::from_secs(10))?;
/// worker.kill()?; // SIGKILL, as a crash
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn spawn_ready(
    command: &mut Command,
    ready: &str,
    limit: Duration,
) -> Result<Child, HarnessError> {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|error| super::server::spawn_error(command.get_program(), error))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let (said, heard) = mpsc::channel();
    let ready = ready.to_owned();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.contains(&ready) {
                let _ = said.send(());
            }
        }
    });
    let started = Instant::now();
    let closed = match heard.recv_timeout(limit) {
        Ok(()) => return Ok(child),
        Err(mpsc::RecvTimeoutError::Disconnected) => true,
        Err(mpsc::RecvTimeoutError::Timeout) => false,
    };
    // Its stdout closed before the line: it is exiting, most likely; give
    // it a moment so that the error can say how it ended.
    let mut exited = child.try_wait().ok().flatten();
    while closed && exited.is_none() && started.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(10));
        exited = child.try_wait().ok().flatten();
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(HarnessError::ProcessNotReady {
        program,
        waited: started.elapsed(),
        exited: exited.map(|status| status.to_string()),
    })
}
