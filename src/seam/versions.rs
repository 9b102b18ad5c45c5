//! Service versions: semantic versions as the `redis_bus.version` option
//! gives them, parsed and ordered by the `semver` crate (so `1.0.0-rc.1`
//! comes before `1.0.0`, and `1.10.0` after `1.9.0`).

use std::cmp::Ordering;

use semver::Version;

/// The major version of a semantic version (0 when it is not one):
/// requests are queued per major version.
pub(crate) fn major_of(version: &str) -> u64 {
    Version::parse(version).map_or(0, |version| version.major)
}

/// Orders versions by semantic-version precedence; a text that is not a
/// version sorts before every version (the generator refuses such versions,
/// so only a hand-written registration can have one), and two equal
/// versions that differ only in build metadata sort by their text.
pub(crate) fn compare_versions(a: &str, b: &str) -> Ordering {
    match (Version::parse(a), Version::parse(b)) {
        (Ok(a_version), Ok(b_version)) => {
            a_version.cmp_precedence(&b_version).then_with(|| a.cmp(b))
        }
        (Ok(_), Err(_)) => Ordering::Greater,
        (Err(_), Ok(_)) => Ordering::Less,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_by_semver_precedence() {
        let mut versions = vec![
            "1.10.0",
            "1.0.0",
            "1.9.0",
            "2.0.0",
            "1.0.0-rc.1",
            "0.1.0",
            "junk",
        ];
        versions.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(
            versions,
            vec![
                "junk",
                "0.1.0",
                "1.0.0-rc.1",
                "1.0.0",
                "1.9.0",
                "1.10.0",
                "2.0.0"
            ]
        );
    }

    #[test]
    fn majors_come_from_the_version() {
        assert_eq!(major_of("2.3.4"), 2);
        assert_eq!(major_of("1.0.0-rc.1"), 1);
        assert_eq!(major_of("not a version"), 0);
    }
}
