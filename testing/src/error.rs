//! `HarnessError`: why a test Redis (a server or a cluster) could not be
//! started, worded so that a failing test explains itself.
//!
//! Every variant that involves a running server carries that server's log,
//! because "redis-server exited" alone never tells a reader what went wrong.

use std::fmt;
use std::io;
use std::process::ExitStatus;
use std::time::Duration;

/// Why the harness could not start a Redis server or cluster.
///
/// The `Display` text (which `Debug` repeats, so that `.unwrap()` and
/// `.expect()` print it readably) names the cause and includes the server's
/// log, so a failing test shows Redis's own complaint.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// A program could not be run: most often it is not installed.
    #[error(
        "could not run `{program}`: {source}; is it installed and on PATH? \
         (Debian/Ubuntu: `apt-get install redis-server`, which also brings redis-cli)"
    )]
    NotInstalled {
        /// The program the harness tried to run (`redis-server`, `redis-cli`).
        program: String,
        /// The error from spawning it.
        #[source]
        source: io::Error,
    },

    /// The server process exited before it was ready to serve.
    #[error("redis-server (port {port}) exited during startup ({status}); its log:\n{log}")]
    Exited {
        /// The port the server was asked to listen on.
        port: u16,
        /// How the process ended.
        status: ExitStatus,
        /// The server's log and console output.
        log: String,
    },

    /// The server kept running but did not pass its readiness check in time.
    #[error(
        "redis-server (port {port}) was not ready after {waited:?} \
         (last check: {last_check}); its log:\n{log}"
    )]
    NotReady {
        /// The port the server was asked to listen on.
        port: u16,
        /// How long the harness waited.
        waited: Duration,
        /// What the last readiness check saw.
        last_check: String,
        /// The server's log and console output.
        log: String,
    },

    /// Each attempt lost its port to another process between the moment the
    /// harness found the port free and the moment the server bound it.
    #[error("redis-server found its port taken on each of {attempts} attempts; last log:\n{log}")]
    PortsTaken {
        /// How many ports were tried.
        attempts: u32,
        /// The log of the last attempt.
        log: String,
    },

    /// A cluster was started but did not come together.
    #[error("Redis cluster did not form: {reason}\n{logs}")]
    Cluster {
        /// What went wrong (including `redis-cli`'s output when it failed).
        reason: String,
        /// The logs of every node, each under a header naming its port.
        logs: String,
    },

    /// A Sentinel deployment did not come together, or a failover did not
    /// happen in time.
    #[error("Redis Sentinel: {reason}\n{logs}")]
    Sentinel {
        /// What did not happen.
        reason: String,
        /// Every node's and sentinel's log.
        logs: String,
    },

    /// A process of the test's own did not say it was ready in time.
    #[error(
        "`{program}` did not print its ready line within {waited:?}{}",
        exited_note(.exited)
    )]
    ProcessNotReady {
        /// The program run.
        program: String,
        /// How long the harness waited.
        waited: Duration,
        /// How it ended, if it exited before the deadline.
        exited: Option<String>,
    },

    /// Some other I/O failure (creating the temp dir, spawning, waiting).
    #[error("{context}: {source}")]
    Io {
        /// What the harness was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// How a process that was not ready ended, for the message.
fn exited_note(exited: &Option<String>) -> String {
    match exited {
        Some(status) => format!(" (it exited: {status})"),
        None => " (killed)".to_owned(),
    }
}

impl HarnessError {
    /// Wraps an I/O error with what the harness was doing at the time.
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        HarnessError::Io {
            context: context.into(),
            source,
        }
    }
}

// `Debug` repeats `Display`: test code reports errors through `.unwrap()`,
// which uses `Debug`, and a derived `Debug` would print the log as one
// escaped string literal ("...\n...") that nobody can read.
impl fmt::Debug for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
