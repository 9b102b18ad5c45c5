//! The counts a process has not sent yet, and the hash fields they are
//! added into: per method for the bus's hashes, and per method of each
//! worker for the workers' own.

use std::collections::HashMap;

use super::fields::{self, BUCKETS};
use crate::seam::stats::{CODES, code_of};

/// The counts of the bus's hashes and of the workers' own, since the last
/// flush.
#[derive(Debug, Default)]
pub(super) struct Pending {
    pub(super) methods: HashMap<&'static str, Counters>,
    /// By worker id, then method.
    pub(super) instances: HashMap<String, HashMap<&'static str, Own>>,
}

/// The counts of one method since the last flush.
#[derive(Debug, Default, Clone)]
pub(super) struct Counters {
    pub(super) calls: u64,
    pub(super) errors: u64,
    pub(super) by_code: [u64; CODES],
    pub(super) latency: [u64; BUCKETS],
    pub(super) call_latency: [u64; BUCKETS],
    pub(super) last_error: Option<String>,
    pub(super) cache_hits: u64,
    pub(super) cache_misses: u64,
    pub(super) cache_stores: u64,
}

/// One worker's counts of one method since the last flush.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Own {
    pub(super) calls: u64,
    pub(super) errors: u64,
    pub(super) latency: [u64; BUCKETS],
}

/// Adds each count of `theirs` into `mine`.
pub(super) fn add_into<const N: usize>(mine: &mut [u64; N], theirs: &[u64; N]) {
    for (mine, theirs) in mine.iter_mut().zip(theirs) {
        *mine += theirs;
    }
}

impl Counters {
    /// Adds `other` (older counts) into `self`.
    pub(super) fn absorb(&mut self, other: Counters) {
        self.calls += other.calls;
        self.errors += other.errors;
        add_into(&mut self.by_code, &other.by_code);
        add_into(&mut self.latency, &other.latency);
        add_into(&mut self.call_latency, &other.call_latency);
        if self.last_error.is_none() {
            self.last_error = other.last_error;
        }
        self.cache_hits += other.cache_hits;
        self.cache_misses += other.cache_misses;
        self.cache_stores += other.cache_stores;
    }

    /// The counters as hash fields, those that are not zero.
    pub(super) fn fields(&self) -> Vec<(String, u64)> {
        let mut fields = vec![
            ("calls".to_owned(), self.calls),
            ("errors".to_owned(), self.errors),
            ("cache_hits".to_owned(), self.cache_hits),
            ("cache_misses".to_owned(), self.cache_misses),
            ("cache_stores".to_owned(), self.cache_stores),
        ];
        let by_code = self.by_code.iter().enumerate();
        fields.extend(by_code.map(|(index, &n)| (fields::errors_with(code_of(index)), n)));
        let latency = self.latency.iter().enumerate();
        fields.extend(latency.map(|(index, &n)| (fields::latency(index), n)));
        let call_latency = self.call_latency.iter().enumerate();
        fields.extend(call_latency.map(|(index, &n)| (fields::call_latency(index), n)));
        fields.retain(|(_, count)| *count > 0);
        fields
    }
}

impl Own {
    pub(super) fn absorb(&mut self, other: Own) {
        self.calls += other.calls;
        self.errors += other.errors;
        add_into(&mut self.latency, &other.latency);
    }

    /// The counts as fields of the worker's own hash, those that are not
    /// zero.
    pub(super) fn fields(&self, method: &str) -> Vec<(String, u64)> {
        let mut fields = vec![
            (fields::of_method(method, "calls"), self.calls),
            (fields::of_method(method, "errors"), self.errors),
        ];
        let latency = self.latency.iter().enumerate();
        fields.extend(
            latency.map(|(index, &n)| (fields::of_method(method, &fields::latency(index)), n)),
        );
        fields.retain(|(_, count)| *count > 0);
        fields
    }
}
