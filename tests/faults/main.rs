//! The project's own fault suite: real worker processes (this binary run
//! as a worker), a real redis-server (or a Sentinel deployment, or a
//! cluster), callers in the test process, and one fault per scenario.
//! Workers count every handler run per call in a side channel, a second
//! redis-server no fault touches, so each scenario checks, and prints in a
//! tally, what users rely on: no call hangs past its deadline; a
//! non-idempotent call runs at most once, exactly once when it succeeded;
//! an idempotent call succeeds after its worker died; the bus serves new
//! calls within the healing bound `docs/ARCHITECTURE.md` states, computed
//! from the suite's settings (`settings`).
//!
//! Run it alone with `cargo test --test faults`, one scenario with e.g.
//! `cargo test --test faults silent_cut::`; `-- --nocapture` shows the
//! tallies.

mod load;
mod report;
mod scenario;
mod settings;
mod side;
mod worker;

mod client_kill;
mod cluster;
mod flushall;
mod last_worker;
mod redis_restart;
mod saturated_reaper;
mod sentinel;
mod silent_cut;
mod worker_killed;

/// The entry point of the worker processes the scenarios start: the test
/// binary runs itself with `--ignored --exact worker_process`.
#[test]
#[ignore = "entry point of the worker processes that the scenarios start"]
fn worker_process() {
    worker::worker_main();
}
