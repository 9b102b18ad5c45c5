//! The benchmark's own processes: this executable started again with a
//! hidden subcommand (`serve` or `measure`), talked to through its standard
//! streams, and killed if it is dropped while still running (on an error or
//! Ctrl-C of the orchestrator).

use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// A running process of the benchmark.
pub struct Subprocess {
    /// The process; killed on drop.
    child: Child,
    /// Its standard output, line by line.
    stdout: Lines<BufReader<ChildStdout>>,
    /// What it is, for messages.
    what: String,
}

impl Subprocess {
    /// Starts this executable with `args`. Its standard error goes to ours,
    /// so that whatever it reports reaches the user.
    pub fn spawn(args: &[String], what: String) -> Result<Subprocess> {
        let program = std::env::current_exe().context("cannot find the benchmark's executable")?;
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start the {what}"))?;
        let stdout = child
            .stdout
            .take()
            .expect("standard output is piped just above");
        Ok(Subprocess {
            child,
            stdout: BufReader::new(stdout).lines(),
            what,
        })
    }

    /// The operating system's id of the process.
    pub fn pid(&self) -> Result<u32> {
        self.child
            .id()
            .ok_or_else(|| anyhow!("the {} has already exited", self.what))
    }

    /// The next line the process prints, waiting at most `within`.
    pub async fn next_line(&mut self, within: Duration) -> Result<String> {
        let line = tokio::time::timeout(within, self.stdout.next_line())
            .await
            .map_err(|_| anyhow!("the {} printed nothing within {within:?}", self.what))?
            .with_context(|| format!("cannot read the output of the {}", self.what))?;
        match line {
            Some(line) => Ok(line),
            None => {
                let status = self.child.wait().await?;
                bail!("the {} exited ({status}) without answering", self.what)
            }
        }
    }

    /// Closes the process's standard input (a worker's signal to stop) and
    /// waits at most `within` for it to exit successfully.
    pub async fn finish(mut self, within: Duration) -> Result<()> {
        drop(self.child.stdin.take());
        match tokio::time::timeout(within, self.child.wait()).await {
            Ok(status) => {
                let status = status.with_context(|| format!("waiting for the {}", self.what))?;
                if !status.success() {
                    bail!("the {} failed ({status})", self.what);
                }
                Ok(())
            }
            Err(_) => {
                // Dropping `self` kills it.
                bail!("the {} did not exit within {within:?}; killed", self.what)
            }
        }
    }
}
