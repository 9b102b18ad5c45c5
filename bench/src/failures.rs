//! The runs of a benchmark mode that failed: each is reported on standard
//! error as it fails, and the mode fails at its end, naming them all, after
//! the report of the runs that went well.

use std::time::Instant;

use anyhow::{Result, bail};

/// The failed runs of one mode's `runs`.
pub struct Failures {
    /// How many runs the mode makes.
    runs: usize,
    /// What failed, and why.
    failed: Vec<String>,
}

impl Failures {
    /// No failure yet, of `runs` runs.
    pub fn of(runs: usize) -> Failures {
        Failures {
            runs,
            failed: Vec::new(),
        }
    }

    /// Reports that run `what` failed with `error`.
    pub fn record(&mut self, what: &str, error: &anyhow::Error) {
        eprintln!("{what}: FAILED: {error:#}");
        self.failed.push(format!("{what}: {error:#}"));
    }

    /// Says how long the mode took (it started at `started`); fails when a
    /// run failed.
    pub fn finish(self, started: Instant) -> Result<()> {
        eprintln!("the run took {:.0} s", started.elapsed().as_secs_f64());
        if !self.failed.is_empty() {
            bail!(
                "{} of {} runs failed:\n{}",
                self.failed.len(),
                self.runs,
                self.failed.join("\n")
            );
        }
        Ok(())
    }
}
