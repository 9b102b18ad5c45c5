//! What ran the benchmark: cores, CPU, versions of the servers and of
//! rustc, the date, printed above the results so that a table is never
//! read without its machine.

use std::fmt;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// A description of this machine and run.
pub struct Machine {
    /// The day of the run, UTC, `YYYY-MM-DD`.
    date: String,
    /// Cores available to the benchmark.
    cores: usize,
    /// The CPU model from `/proc/cpuinfo`.
    cpu: String,
    /// The kernel release.
    kernel: String,
    /// `redis-server --version`.
    redis: String,
    /// `nats-server --version`.
    nats: String,
    /// The rustc that built the benchmark.
    rustc: &'static str,
}

impl Machine {
    /// Describes this machine; a fact that cannot be read says so.
    pub fn describe() -> Machine {
        Machine {
            date: today(),
            cores: std::thread::available_parallelism().map_or(0, |cores| cores.get()),
            cpu: cpu_model().unwrap_or_else(|| "unknown CPU".into()),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_or_else(|_| "unknown".into(), |release| release.trim().to_owned()),
            redis: version_of("redis-server"),
            nats: version_of("nats-server"),
            rustc: env!("BENCH_RUSTC_VERSION"),
        }
    }
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "- date: {} (UTC)", self.date)?;
        writeln!(
            f,
            "- machine: {} cores, {}, Linux {}",
            self.cores, self.cpu, self.kernel
        )?;
        writeln!(f, "- {}", self.redis)?;
        writeln!(f, "- {}", self.nats)?;
        write!(f, "- {}", self.rustc)
    }
}

/// The first `model name` of `/proc/cpuinfo`.
fn cpu_model() -> Option<String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map(|(_, model)| model.trim().to_owned())
}

/// The first line `program --version` prints.
fn version_of(program: &str) -> String {
    match Command::new(program).arg("--version").output() {
        Ok(output) => String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .unwrap_or(program)
            .trim()
            .to_owned(),
        Err(error) => format!("{program}: not available ({error})"),
    }
}

/// Today's date, UTC.
fn today() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() / 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The Gregorian date `days` after 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_become_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(20_000), (2024, 10, 4));
    }
}
