//! Peak resident memory of a process, from `/proc/<pid>/status` (`VmHWM`),
//! and resetting it so that a peak belongs to one phase of a run.

use std::fs;
use std::io;

use anyhow::{Context, Result, anyhow};

/// The peak resident set size of process `pid` so far, in KiB.
pub fn peak_rss_kib(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    parse_vm_hwm(&status).ok_or_else(|| anyhow!("{path} has no VmHWM line"))
}

/// Resets the peak of process `pid` to its current resident set size
/// (Linux 4.0+: writing `5` to `clear_refs`).
pub fn reset_peak(pid: u32) -> io::Result<()> {
    fs::write(format!("/proc/{pid}/clear_refs"), "5")
}

/// The value of `VmHWM:   1234 kB`.
fn parse_vm_hwm(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_peak_from_a_status_file() {
        let status = "Name:\tbench\nVmPeak:\t  99 kB\nVmHWM:\t    1234 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(1234));
        assert_eq!(parse_vm_hwm("Name:\tbench\n"), None);
    }

    #[test]
    fn this_process_has_a_peak() {
        assert!(peak_rss_kib(std::process::id()).expect("readable") > 0);
    }
}
