//! What `top` shows, apart from how: the last samples of the bus, each
//! method's rates and history, and the order and filter chosen with the
//! keys. Pure, so that it is tested without a terminal.

use std::collections::{BTreeMap, VecDeque};

use crate::sample::{self, Rate, Sample};

/// How many intervals the rates cover: workers send their counts once a
/// second, so a rate over one second would swing between 0 and twice the
/// truth as flushes fall either side of a sample.
const RATE_INTERVALS: usize = 2;

/// How many intervals the latency quantiles cover: enough calls for a p99
/// to mean something, recent enough to show a spike.
const LATENCY_INTERVALS: usize = 10;

/// How many values each history keeps (one per interval).
pub(crate) const HISTORY: usize = 60;

/// One method as a row of the view.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// Rates over the last [`RATE_INTERVALS`] intervals; its counts
    /// (`window`) over the last [`LATENCY_INTERVALS`].
    pub(crate) rate: Rate,
    /// Handling p50 over the last [`LATENCY_INTERVALS`] intervals.
    pub(crate) p50: String,
    /// Handling p99 over the same.
    pub(crate) p99: String,
    /// The whole call's p99 over the same, as callers timed it.
    pub(crate) call_p99: String,
    /// The p99 in microseconds, for sorting (`u64::MAX` beyond the last
    /// bucket, 0 without calls).
    p99_us: u64,
    /// Requests per second, one value per interval, oldest first.
    pub(crate) history: Vec<f64>,
}

/// What the rows are sorted by (the `s` key goes to the next one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sort {
    /// Requests per second, busiest first.
    Requests,
    /// Handler runs per second.
    Runs,
    /// Errors per second.
    Errors,
    /// Handling p99, slowest first.
    P99,
    /// Cache hit ratio, lowest first.
    HitRatio,
    /// The method's name, A to Z.
    Name,
}

impl Sort {
    /// Every order, in the order `s` goes through them.
    const ALL: [Sort; 6] = [
        Sort::Requests,
        Sort::Runs,
        Sort::Errors,
        Sort::P99,
        Sort::HitRatio,
        Sort::Name,
    ];

    /// The name shown in the header.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Sort::Requests => "requests/s",
            Sort::Runs => "runs/s",
            Sort::Errors => "errors/s",
            Sort::P99 => "p99",
            Sort::HitRatio => "hit ratio",
            Sort::Name => "name",
        }
    }

    fn next(self, step: isize) -> Sort {
        let at = Sort::ALL.iter().position(|&sort| sort == self).unwrap_or(0) as isize;
        let count = Sort::ALL.len() as isize;
        Sort::ALL[(at + step).rem_euclid(count) as usize]
    }
}

/// A key, as `top` understands it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    /// A character typed.
    Char(char),
    /// Ctrl-C.
    Interrupt,
    /// Esc.
    Escape,
    /// Enter.
    Enter,
    /// Backspace.
    Backspace,
}

/// What a key asks of the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Draw again.
    Redraw,
    /// Leave `top`.
    Quit,
}

/// The state of the view.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    /// The last samples, oldest first.
    samples: VecDeque<Sample>,
    /// Requests per second of each method, per interval.
    histories: BTreeMap<String, VecDeque<f64>>,
    /// Requests per second of the whole bus, per interval.
    total: VecDeque<f64>,
    /// The rows, sorted and filtered as chosen.
    rows: Vec<Row>,
    /// The order of the rows.
    pub(crate) sort: Sort,
    /// Whether the order is reversed (`r`).
    pub(crate) reversed: bool,
    /// Only methods whose name contains this (case-insensitive).
    pub(crate) filter: String,
    /// Whether keys are going into the filter (after `/`).
    pub(crate) editing: bool,
}

impl Model {
    /// A view with no samples yet, filtered by `filter`.
    pub(crate) fn new(filter: Option<String>) -> Model {
        Model {
            samples: VecDeque::new(),
            histories: BTreeMap::new(),
            total: VecDeque::new(),
            rows: Vec::new(),
            sort: Sort::Requests,
            reversed: false,
            filter: filter.unwrap_or_default(),
            editing: false,
        }
    }

    /// The live instances of the newest sample, to reuse between reads of
    /// the registry.
    pub(crate) fn instances(&self) -> Option<&BTreeMap<String, usize>> {
        self.samples.back().map(|sample| &sample.instances)
    }

    /// Adds a sample: the rates, histories and rows follow it.
    pub(crate) fn push(&mut self, sample: Sample) {
        self.samples.push_back(sample);
        while self.samples.len() > LATENCY_INTERVALS + 1 {
            self.samples.pop_front();
        }
        let newest = self.samples.len() - 1;
        if newest == 0 {
            return;
        }
        let last = sample::rates(&self.samples[newest - 1], &self.samples[newest]);
        let total: f64 = last.iter().map(|rate| rate.requests).sum();
        keep(&mut self.total, total);
        for rate in &last {
            keep(
                self.histories.entry(rate.method.clone()).or_default(),
                rate.requests,
            );
        }
        let recent = &self.samples[newest.saturating_sub(RATE_INTERVALS)];
        let long = &self.samples[0];
        let latencies: BTreeMap<String, Rate> = sample::rates(long, &self.samples[newest])
            .into_iter()
            .map(|rate| (rate.method.clone(), rate))
            .collect();
        self.rows = sample::rates(recent, &self.samples[newest])
            .into_iter()
            .map(|mut rate| {
                // The quantiles (shown, and in `--json`) need more calls
                // than the rates do.
                rate.window = latencies[&rate.method].window.clone();
                let window = &rate.window;
                let recorded: u64 = window.latency.iter().map(|(_, count)| count).sum();
                let p99_us = match window.latency_quantile(0.99) {
                    Some(latency) => latency.as_micros() as u64,
                    None if recorded > 0 => u64::MAX,
                    None => 0,
                };
                Row {
                    p50: sample::quantile(window, 0.5),
                    p99: sample::quantile(window, 0.99),
                    call_p99: sample::call_quantile(window, 0.99),
                    p99_us,
                    history: self.histories[&rate.method].iter().copied().collect(),
                    rate,
                }
            })
            .collect();
    }

    /// Whether there are rates to show yet (two samples).
    pub(crate) fn ready(&self) -> bool {
        self.samples.len() > 1
    }

    /// The bus's requests per second, one value per interval.
    pub(crate) fn total(&self) -> Vec<f64> {
        self.total.iter().copied().collect()
    }

    /// Live instances of every service, in the newest sample.
    pub(crate) fn live_instances(&self) -> usize {
        self.instances()
            .map_or(0, |instances| instances.values().sum())
    }

    /// The rows to show: filtered, in the chosen order.
    pub(crate) fn rows(&self) -> Vec<&Row> {
        let filter = self.filter.to_lowercase();
        let mut rows: Vec<&Row> = self
            .rows
            .iter()
            .filter(|row| row.rate.method.to_lowercase().contains(&filter))
            .collect();
        let by = |row: &Row| -> f64 {
            match self.sort {
                Sort::Requests => -row.rate.requests,
                Sort::Runs => -row.rate.runs,
                Sort::Errors => -row.rate.errors,
                Sort::P99 => -(row.p99_us as f64),
                Sort::HitRatio => row.rate.hit_ratio.unwrap_or(f64::INFINITY),
                Sort::Name => 0.0,
            }
        };
        rows.sort_by(|a, b| {
            by(a)
                .total_cmp(&by(b))
                .then_with(|| a.rate.method.cmp(&b.rate.method))
        });
        if self.reversed {
            rows.reverse();
        }
        rows
    }

    /// Acts on a key: `q`, Esc or Ctrl-C quit; `s`/`S` sort by the
    /// next/previous column, `r` reverses, `/` edits the filter (Enter
    /// keeps it, Esc clears it), `c` clears it.
    pub(crate) fn key(&mut self, key: Key) -> Action {
        if key == Key::Interrupt {
            return Action::Quit;
        }
        if self.editing {
            match key {
                Key::Char(c) => self.filter.push(c),
                Key::Backspace => {
                    self.filter.pop();
                }
                Key::Enter => self.editing = false,
                Key::Escape => {
                    self.filter.clear();
                    self.editing = false;
                }
                Key::Interrupt => return Action::Quit,
            }
            return Action::Redraw;
        }
        match key {
            Key::Char('q') | Key::Escape => return Action::Quit,
            Key::Char('s') => self.sort = self.sort.next(1),
            Key::Char('S') => self.sort = self.sort.next(-1),
            Key::Char('r') => self.reversed = !self.reversed,
            Key::Char('/') => self.editing = true,
            Key::Char('c') => self.filter.clear(),
            _ => {}
        }
        Action::Redraw
    }
}

/// Appends `value` to `history`, dropping the oldest beyond [`HISTORY`].
fn keep(history: &mut VecDeque<f64>, value: f64) {
    history.push_back(value);
    while history.len() > HISTORY {
        history.pop_front();
    }
}

/// A history as a line of block characters, scaled to its largest value:
/// `▁▁▂▅█▃`.
pub(crate) fn sparkline(values: &[f64]) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let largest = values.iter().copied().fold(0.0, f64::max);
    values
        .iter()
        .map(|&value| {
            if largest <= 0.0 {
                BLOCKS[0]
            } else {
                BLOCKS[((value / largest) * 7.0).round().clamp(0.0, 7.0) as usize]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use redis_bus::MethodStats;

    use super::*;

    fn sample(at: Instant, counts: &[(&str, u64, u64)]) -> Sample {
        Sample {
            at,
            methods: counts
                .iter()
                .map(|&(method, calls, errors)| {
                    let mut stats = MethodStats::default();
                    stats.method = method.to_owned();
                    stats.calls = calls;
                    stats.errors = errors;
                    stats.latency = vec![(Some(100), calls), (None, 0)];
                    (method.to_owned(), stats)
                })
                .collect(),
            instances: [("math.Math".to_owned(), 1)].into(),
            queued: [("math.Math".to_owned(), 3)].into(),
        }
    }

    fn model() -> Model {
        let start = Instant::now();
        let mut model = Model::new(None);
        model.push(sample(
            start,
            &[("math.Math/Sum", 0, 0), ("math.Math/Now", 0, 0)],
        ));
        model.push(sample(
            start + Duration::from_secs(1),
            &[
                ("math.Math/Sum", 10, 0),
                ("math.Math/Now", 40, 4),
                ("random.Random/Uuid", 1, 0),
            ],
        ));
        model
    }

    fn names(model: &Model) -> Vec<&str> {
        model
            .rows()
            .iter()
            .map(|row| row.rate.method.as_str())
            .collect()
    }

    #[test]
    fn rows_sort_by_the_busiest_first_and_keys_change_it() {
        let mut model = model();
        assert!(model.ready());
        assert_eq!(
            names(&model),
            ["math.Math/Now", "math.Math/Sum", "random.Random/Uuid"]
        );
        assert_eq!(model.rows()[0].rate.errors, 4.0);
        model.key(Key::Char('r'));
        assert_eq!(names(&model)[0], "random.Random/Uuid");
        model.key(Key::Char('r'));
        for _ in 0..5 {
            model.key(Key::Char('s'));
        }
        assert_eq!(model.sort, Sort::Name);
        assert_eq!(
            names(&model),
            ["math.Math/Now", "math.Math/Sum", "random.Random/Uuid"]
        );
        model.key(Key::Char('S'));
        assert_eq!(model.sort, Sort::HitRatio);
    }

    #[test]
    fn the_filter_is_typed_after_a_slash() {
        let mut model = model();
        for key in [
            Key::Char('/'),
            Key::Char('s'),
            Key::Char('U'),
            Key::Char('x'),
        ] {
            assert_eq!(model.key(key), Action::Redraw);
        }
        model.key(Key::Backspace);
        model.key(Key::Enter);
        assert_eq!(model.filter, "sU");
        assert_eq!(names(&model), ["math.Math/Sum"]);
        // `q` in the filter is text; out of it, it quits.
        model.key(Key::Char('/'));
        assert_eq!(model.key(Key::Char('q')), Action::Redraw);
        model.key(Key::Escape);
        assert_eq!(model.filter, "");
        assert_eq!(names(&model).len(), 3);
        assert_eq!(model.key(Key::Char('q')), Action::Quit);
        assert_eq!(model.key(Key::Escape), Action::Quit);
        assert_eq!(model.key(Key::Interrupt), Action::Quit);
    }

    #[test]
    fn histories_keep_one_value_per_interval() {
        let model = model();
        let now = model
            .rows()
            .into_iter()
            .find(|row| row.rate.method == "math.Math/Now");
        assert_eq!(now.map(|row| row.history.clone()), Some(vec![40.0]));
        assert_eq!(model.total(), vec![51.0]);
        assert_eq!(model.live_instances(), 1);
    }

    #[test]
    fn sparklines_scale_to_their_largest_value() {
        assert_eq!(sparkline(&[0.0, 1.0, 2.0, 4.0]), "▁▃▅█");
        assert_eq!(sparkline(&[0.0, 0.0]), "▁▁");
    }
}
