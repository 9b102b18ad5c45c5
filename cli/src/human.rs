//! Numbers for people: durations, latencies, counts with their noun.

use std::time::Duration;

/// A span such as an uptime or a TTL, to the two largest units:
/// `45s`, `3m05s`, `2h03m`, `4d02h`; an exact hour or minute drops the
/// zero (`1h`, `2m`).
pub(crate) fn span(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let (minutes, hours, days) = (seconds / 60, seconds / 3600, seconds / 86_400);
    let two = |big: u64, big_unit: &str, small: u64, small_unit: &str| {
        if small == 0 {
            format!("{big}{big_unit}")
        } else {
            format!("{big}{big_unit}{small:02}{small_unit}")
        }
    };
    if days > 0 {
        two(days, "d", hours % 24, "h")
    } else if hours > 0 {
        two(hours, "h", minutes % 60, "m")
    } else if minutes > 0 {
        two(minutes, "m", seconds % 60, "s")
    } else {
        format!("{seconds}s")
    }
}

/// A latency: `250µs`, `2.5ms`, `1s`.
pub(crate) fn latency(duration: Duration) -> String {
    let micros = duration.as_micros();
    if micros < 1_000 {
        format!("{micros}µs")
    } else if micros < 1_000_000 {
        format!("{}ms", trim_decimal(micros as f64 / 1_000.0))
    } else {
        format!("{}s", trim_decimal(micros as f64 / 1_000_000.0))
    }
}

/// `n` with one decimal, without a trailing `.0`.
fn trim_decimal(n: f64) -> String {
    let text = format!("{n:.1}");
    text.strip_suffix(".0").unwrap_or(&text).to_owned()
}

/// `1 key`, `2 keys`.
pub(crate) fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_show_the_two_largest_units() {
        let cases = [
            (0, "0s"),
            (45, "45s"),
            (120, "2m"),
            (185, "3m05s"),
            (3_600, "1h"),
            (7_380, "2h03m"),
            (86_400 * 4 + 7_200, "4d02h"),
        ];
        for (seconds, text) in cases {
            assert_eq!(span(Duration::from_secs(seconds)), text);
        }
    }

    #[test]
    fn latencies_pick_their_unit() {
        assert_eq!(latency(Duration::from_micros(250)), "250µs");
        assert_eq!(latency(Duration::from_micros(2_500)), "2.5ms");
        assert_eq!(latency(Duration::from_millis(10)), "10ms");
        assert_eq!(latency(Duration::from_secs(1)), "1s");
        assert_eq!(latency(Duration::from_millis(2_500)), "2.5s");
    }

    #[test]
    fn counts_agree_with_their_noun() {
        assert_eq!(count(1u32, "key", "keys"), "1 key");
        assert_eq!(count(0u32, "key", "keys"), "0 keys");
        assert_eq!(count(2u64, "key", "keys"), "2 keys");
    }
}
