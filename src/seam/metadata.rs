//! Metadata: string keys with text or binary values that travel with a
//! call, like gRPC's: an auth token, a tenant, a request id. A caller sets
//! them per call (`CallOptions::metadata`) or for every call of a bus (an
//! interceptor); the handler reads them from its `CallContext`.
//!
//! Keys are 1 to [`MAX_KEY_LEN`] lowercase ASCII letters, digits, `-`, `_`
//! and `.`; a key ending in `-bin` holds bytes, any other UTF-8 text. Keys
//! starting with `rb-` are reserved for redis-bus. A call carries at most
//! [`MAX_ENTRIES`] entries of at most [`MAX_BYTES`] in all: metadata is for
//! small facts about a call, not for its data. A worker checks the same
//! rules on every request it takes (they come from anyone who can push).

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::seam::trace::{MAX_TRACESTATE_LEN, TRACESTATE_KEY};

/// The longest key.
pub const MAX_KEY_LEN: usize = 64;

/// The most entries one call carries.
pub const MAX_ENTRIES: usize = 64;

/// The most bytes, keys and values together, one call carries.
pub const MAX_BYTES: usize = 8 * 1024;

/// The prefix of keys reserved for redis-bus.
pub const RESERVED_PREFIX: &str = "rb-";

/// The metadata of one call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    entries: BTreeMap<String, Bytes>,
}

impl Metadata {
    /// No metadata.
    pub fn new() -> Metadata {
        Metadata::default()
    }

    /// Sets text `value` under `key` (which must not end in `-bin`);
    /// replaces what was there. The error says what is wrong with the key.
    pub fn insert(&mut self, key: &str, value: impl Into<String>) -> Result<(), String> {
        check_key(key)?;
        if key.ends_with("-bin") {
            return Err(format!(
                "metadata key {key:?} ends in -bin, which holds bytes: use insert_bin"
            ));
        }
        self.entries
            .insert(key.to_owned(), Bytes::from(value.into()));
        Ok(())
    }

    /// Sets binary `value` under `key`, which must end in `-bin`.
    pub fn insert_bin(&mut self, key: &str, value: impl Into<Bytes>) -> Result<(), String> {
        check_key(key)?;
        if !key.ends_with("-bin") {
            return Err(format!(
                "metadata key {key:?} holds text; a binary value needs a key ending in -bin"
            ));
        }
        self.entries.insert(key.to_owned(), value.into());
        Ok(())
    }

    /// The text under `key`, if any.
    pub fn get(&self, key: &str) -> Option<&str> {
        if key.ends_with("-bin") {
            return None;
        }
        self.entries
            .get(key)
            .and_then(|value| std::str::from_utf8(value).ok())
    }

    /// The bytes under `key` (text or binary), if any.
    pub fn get_bin(&self, key: &str) -> Option<&[u8]> {
        self.entries.get(key).map(|value| &value[..])
    }

    /// Removes `key`; true when it was there.
    pub fn remove(&mut self, key: &str) -> bool {
        self.entries.remove(key).is_some()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// Adds `other`'s entries, keeping this one's where both have a key.
    pub fn merge_missing(&mut self, other: &Metadata) {
        for (key, value) in &other.entries {
            self.entries
                .entry(key.clone())
                .or_insert_with(|| value.clone());
        }
    }

    /// Sets `value` under reserved `key`, which only redis-bus writes
    /// (the rules of the module docs are for users' keys).
    pub(crate) fn insert_reserved(&mut self, key: &'static str, value: impl Into<Bytes>) {
        debug_assert!(key.starts_with(RESERVED_PREFIX));
        self.entries.insert(key.to_owned(), value.into());
    }

    /// Removes and returns the text under `key`, if any.
    pub(crate) fn take_text(&mut self, key: &str) -> Option<String> {
        let value = self.entries.remove(key)?;
        String::from_utf8(value.to_vec()).ok()
    }

    /// Checks the limits of one call (see the module docs). They bound
    /// what users send: the reserved entries have bounds of their own.
    pub(crate) fn check_limits(&self) -> Result<(), String> {
        let users = || {
            self.entries
                .iter()
                .filter(|(key, _)| !key.starts_with(RESERVED_PREFIX))
        };
        let count = users().count();
        if count > MAX_ENTRIES {
            return Err(format!(
                "the call carries {count} metadata entries, over the limit of {MAX_ENTRIES}"
            ));
        }
        let bytes: usize = users().map(|(k, v)| k.len() + v.len()).sum();
        if bytes > MAX_BYTES {
            return Err(format!(
                "the call carries {bytes} bytes of metadata, over the limit of {MAX_BYTES}"
            ));
        }
        Ok(())
    }

    /// The entries, for the wire.
    pub(crate) fn entries(&self) -> &BTreeMap<String, Bytes> {
        &self.entries
    }

    /// Metadata received from the wire: every key and text value checked
    /// as if it had been set here, and the limits.
    pub(crate) fn from_wire(
        entries: impl IntoIterator<Item = (String, Bytes)>,
    ) -> Result<Metadata, String> {
        let mut metadata = Metadata::new();
        for (key, value) in entries {
            if key == TRACESTATE_KEY {
                check_tracestate(&value)?;
                metadata.entries.insert(key, value);
                continue;
            }
            check_key(&key)?;
            if !key.ends_with("-bin") && std::str::from_utf8(&value).is_err() {
                return Err(format!("metadata {key:?} is not UTF-8 text"));
            }
            metadata.entries.insert(key, value);
        }
        metadata.check_limits()?;
        Ok(metadata)
    }
}

/// Checks a `tracestate` a request carries: text, within its bound.
fn check_tracestate(value: &[u8]) -> Result<(), String> {
    if value.len() > MAX_TRACESTATE_LEN {
        return Err(format!(
            "its tracestate ({TRACESTATE_KEY}) is {} bytes, over the limit of {MAX_TRACESTATE_LEN}",
            value.len()
        ));
    }
    if std::str::from_utf8(value).is_err() {
        return Err(format!(
            "its tracestate ({TRACESTATE_KEY}) is not UTF-8 text"
        ));
    }
    Ok(())
}

/// Checks a key against the naming rules.
fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(format!(
            "metadata key {key:?}: use 1 to {MAX_KEY_LEN} characters"
        ));
    }
    if !key
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(format!(
            "metadata key {key:?}: use lowercase letters, digits, '-', '_' and '.'"
        ));
    }
    if key.starts_with(RESERVED_PREFIX) {
        return Err(format!(
            "metadata key {key:?}: keys starting with {RESERVED_PREFIX:?} are reserved for redis-bus"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_rules_and_values_their_kind() {
        let mut metadata = Metadata::new();
        metadata.insert("authorization", "Bearer x").unwrap();
        metadata.insert_bin("trace-bin", vec![0, 255]).unwrap();
        assert_eq!(metadata.get("authorization"), Some("Bearer x"));
        assert_eq!(metadata.get_bin("trace-bin"), Some(&[0, 255][..]));
        assert_eq!(metadata.get("trace-bin"), None);
        for bad in ["", "Upper", "a b", "rb-deadline", &"k".repeat(65)] {
            assert!(metadata.insert(bad, "v").is_err(), "{bad:?}");
        }
        assert!(metadata.insert("x-bin", "text").is_err());
        assert!(metadata.insert_bin("x", vec![1]).is_err());
    }

    #[test]
    fn what_comes_from_the_wire_is_checked() {
        let ok = Metadata::from_wire([("tenant".to_owned(), Bytes::from_static(b"acme"))]);
        assert_eq!(ok.unwrap().get("tenant"), Some("acme"));
        let not_text = Metadata::from_wire([("tenant".to_owned(), Bytes::from_static(&[0xff]))]);
        assert!(not_text.unwrap_err().contains("not UTF-8"));
        let big = Metadata::from_wire([("k".to_owned(), Bytes::from(vec![b'a'; MAX_BYTES]))]);
        assert!(big.unwrap_err().contains("over the limit"));
        let reserved = Metadata::from_wire([("rb-x".to_owned(), Bytes::new())]);
        assert!(reserved.unwrap_err().contains("reserved"));
        let state = Metadata::from_wire([(TRACESTATE_KEY.to_owned(), Bytes::from("vendor=1"))]);
        assert_eq!(state.unwrap().get(TRACESTATE_KEY), Some("vendor=1"));
        let long = Bytes::from(vec![b'a'; MAX_TRACESTATE_LEN + 1]);
        let too_long = Metadata::from_wire([(TRACESTATE_KEY.to_owned(), long)]);
        assert!(too_long.unwrap_err().contains("tracestate"));
    }
}
