//! Where the shell keeps its history: `$XDG_STATE_HOME/redis-bus/history`,
//! else `~/.local/state/redis-bus/history` (the XDG default for state).

use std::ffi::OsString;
use std::path::PathBuf;

/// The history file, from the environment as `var` reads it; `None` when
/// neither `XDG_STATE_HOME` nor `HOME` is set (the shell then keeps no
/// history).
pub(super) fn path(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    // The XDG spec ignores relative paths: they would depend on where the
    // shell was started.
    let set = |name: &str| var(name).map(PathBuf::from).filter(|p| p.is_absolute());
    let state = set("XDG_STATE_HOME").or_else(|| Some(set("HOME")?.join(".local/state")))?;
    Some(state.join("redis-bus").join("history"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn history_prefers_xdg_state_home() {
        let path = path(env(&[("XDG_STATE_HOME", "/state"), ("HOME", "/home/me")]));
        assert_eq!(path, Some(PathBuf::from("/state/redis-bus/history")));
    }

    #[test]
    fn history_falls_back_to_home() {
        let path = path(env(&[("XDG_STATE_HOME", "relative"), ("HOME", "/home/me")]));
        assert_eq!(
            path,
            Some(PathBuf::from("/home/me/.local/state/redis-bus/history"))
        );
    }

    #[test]
    fn no_home_no_history() {
        assert_eq!(path(env(&[])), None);
    }
}
