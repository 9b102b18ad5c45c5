//! What a scenario's calls did, against the side channel's count of
//! handler runs: the tally each scenario prints, and the checks every
//! scenario makes (no call hangs; a non-idempotent call runs at most once,
//! exactly once when it succeeded; the bus serves new calls within its
//! healing bound).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tokio::time::Instant;

use crate::load::{Ended, Method, Outcome};

/// The outcomes of one scenario, with the handler runs of each call.
pub struct Report {
    scenario: String,
    outcomes: Vec<Outcome>,
    runs: HashMap<(Method, i64), i64>,
    fault: Instant,
}

impl Report {
    /// The report of `scenario`, whose fault struck at `fault`.
    pub fn new(
        scenario: &str,
        outcomes: Vec<Outcome>,
        runs: HashMap<(Method, i64), i64>,
        fault: Instant,
    ) -> Report {
        let report = Report {
            scenario: scenario.to_owned(),
            outcomes,
            runs,
            fault,
        };
        eprintln!("{}", report.tally());
        report
    }

    pub fn outcomes(&self) -> &[Outcome] {
        &self.outcomes
    }

    /// How many times `outcome`'s handler ran.
    pub fn runs_of(&self, outcome: &Outcome) -> i64 {
        self.runs
            .get(&(outcome.method, outcome.key))
            .copied()
            .unwrap_or(0)
    }

    /// Seconds from the fault to `instant` (negative before it).
    fn since_fault(&self, instant: Instant) -> f64 {
        if instant >= self.fault {
            (instant - self.fault).as_secs_f64()
        } else {
            -(self.fault - instant).as_secs_f64()
        }
    }

    /// `<scenario>: N calls, ok X, failed by code {..}, hung Z; R handler
    /// runs; ...`.
    pub fn tally(&self) -> String {
        let ok = self.outcomes.iter().filter(|o| o.is_ok()).count();
        let hung = self
            .outcomes
            .iter()
            .filter(|o| matches!(o.ended, Ended::Hung))
            .count();
        let mut failed: BTreeMap<String, usize> = BTreeMap::new();
        for outcome in &self.outcomes {
            if let Ended::Failed(code, _) = &outcome.ended {
                *failed.entry(format!("{code:?}")).or_default() += 1;
            }
        }
        let runs: i64 = self.runs.values().sum();
        let twice = self
            .outcomes
            .iter()
            .filter(|o| o.method == Method::Now && self.runs_of(o) > 1)
            .count();
        format!(
            "{}: {} calls: ok {ok}, failed by code {failed:?}, hung {hung}; {runs} handler runs, \
             {twice} non-idempotent calls run twice; \
             longest stretch without a success {:.2} s, served again {:.2} s after the fault",
            self.scenario,
            self.outcomes.len(),
            self.longest_outage(),
            self.served_again(),
        )
    }

    /// Every success's end, seconds from the fault, in order.
    fn successes(&self) -> Vec<f64> {
        let mut ends: Vec<f64> = self
            .outcomes
            .iter()
            .filter(|o| o.is_ok())
            .map(|o| self.since_fault(o.ended_at))
            .collect();
        ends.sort_by(f64::total_cmp);
        ends
    }

    /// The stretches between successes ending after the fault: (end,
    /// length), the first one starting at the fault.
    fn stretches_after_fault(&self) -> Vec<(f64, f64)> {
        let mut previous = 0.0;
        let mut stretches = Vec::new();
        for ended in self.successes().into_iter().filter(|at| *at > 0.0) {
            stretches.push((ended, ended - previous));
            previous = ended;
        }
        stretches
    }

    /// How long a successful call usually takes (the median): with slow
    /// handlers, successes come that far apart anyway.
    fn usual_call(&self) -> f64 {
        let mut took: Vec<f64> = self
            .outcomes
            .iter()
            .filter(|o| o.is_ok())
            .map(|o| (o.ended_at - o.started).as_secs_f64())
            .collect();
        took.sort_by(f64::total_cmp);
        took.get(took.len() / 2).copied().unwrap_or(0.0)
    }

    /// The longest stretch after the fault in which no call succeeded.
    pub fn longest_outage(&self) -> f64 {
        self.stretches_after_fault()
            .iter()
            .map(|(_, length)| *length)
            .fold(0.0, f64::max)
    }

    /// The end of the last stretch without a success clearly longer than
    /// a call usually takes (half as long again, and 250 ms at least):
    /// when the bus served again.
    pub fn served_again(&self) -> f64 {
        let usual = (self.usual_call() * 1.5).max(0.25);
        self.stretches_after_fault()
            .iter()
            .filter(|(_, length)| *length > usual)
            .map(|(end, _)| *end)
            .fold(0.0, f64::max)
    }

    /// No call hung past its deadline.
    pub fn no_call_hung(&self) -> &Self {
        let hung: Vec<_> = self
            .outcomes
            .iter()
            .filter(|o| matches!(o.ended, Ended::Hung))
            .map(|o| (o.method, o.key, self.since_fault(o.started)))
            .collect();
        assert!(
            hung.is_empty(),
            "{}: calls hung past their deadline: {hung:?}",
            self.scenario
        );
        self
    }

    /// A non-idempotent call ran at most once, exactly once when it
    /// succeeded, except at most `reruns` that ran twice (what asynchronous
    /// replication cannot rule out at a failover); an answered idempotent
    /// call ran.
    pub fn runs_are_right(&self, reruns: usize) -> &Self {
        let mut twice = Vec::new();
        for outcome in &self.outcomes {
            let runs = self.runs_of(outcome);
            match outcome.method {
                Method::Now => {
                    if runs == 2 {
                        twice.push(outcome.key);
                    }
                    assert!(
                        runs <= 2,
                        "{}: Now {} ran {runs} times",
                        self.scenario,
                        outcome.key
                    );
                    if outcome.is_ok() {
                        assert!(
                            runs >= 1,
                            "{}: an answered Now {} ran",
                            self.scenario,
                            outcome.key
                        );
                    }
                }
                Method::Sum if outcome.is_ok() => assert!(
                    runs >= 1,
                    "{}: an answered Sum {} ran",
                    self.scenario,
                    outcome.key
                ),
                Method::Sum => {}
            }
        }
        assert!(
            twice.len() <= reruns,
            "{}: at most {reruns} non-idempotent calls ran twice: {twice:?}",
            self.scenario
        );
        self
    }

    /// Every call started `bound` after the fault or later succeeded, and
    /// there were some: the bus healed by itself within `bound`.
    pub fn healed_within(&self, bound: Duration) -> &Self {
        let late: Vec<&Outcome> = self
            .outcomes
            .iter()
            .filter(|o| self.since_fault(o.started) >= bound.as_secs_f64())
            .collect();
        let failed: Vec<_> = late
            .iter()
            .filter(|o| !o.is_ok())
            .map(|o| (o.method, o.key, self.since_fault(o.started), &o.ended))
            .collect();
        assert!(
            failed.is_empty(),
            "{}: calls started {bound:?} after the fault or later fail: {failed:?}",
            self.scenario
        );
        assert!(
            late.len() >= 10,
            "{}: the bus serves calls after {bound:?} ({} did)",
            self.scenario,
            late.len()
        );
        self
    }

    /// Every call that failed did so with one of `codes`.
    pub fn failed_only_with(&self, codes: &[redis_bus::Code]) -> &Self {
        for outcome in &self.outcomes {
            if let Ended::Failed(code, message) = &outcome.ended {
                assert!(
                    codes.contains(code),
                    "{}: {:?} {} failed with {code:?}: {message}",
                    self.scenario,
                    outcome.method,
                    outcome.key
                );
            }
        }
        self
    }
}

impl Report {
    /// What a fault that loses calls in flight must leave: no call hung,
    /// runs right (`reruns` twice at the most), failures only
    /// `UNAVAILABLE` or `DEADLINE_EXCEEDED`, and healed within `bound`.
    pub fn survived(&self, reruns: usize, bound: Duration) -> &Self {
        self.no_call_hung()
            .runs_are_right(reruns)
            .failed_only_with(&[
                redis_bus::Code::Unavailable,
                redis_bus::Code::DeadlineExceeded,
            ])
            .healed_within(bound)
    }
}
