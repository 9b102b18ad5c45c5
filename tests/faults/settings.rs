//! The settings every bus of the suite uses, and the healing bounds of
//! `docs/ARCHITECTURE.md` ("Connections and reconnecting") computed from
//! them: what the scenarios hold the bus to.

use std::time::Duration;

use redis_bus::Bus;

/// The heartbeat interval `H`.
pub const HEARTBEAT: Duration = Duration::from_millis(100);

/// The registration lifetime `T`.
pub const LIFETIME: Duration = Duration::from_millis(600);

/// The block time of blocking reads `B`.
pub const BLOCK: Duration = Duration::from_millis(500);

/// The runtime's time limit on an ordinary command `C` (not a setting).
pub const COMMAND_LIMIT: Duration = Duration::from_secs(5);

/// How long past its block time a blocking read may stay silent before
/// its connection is dropped (not a setting).
pub const BLOCK_MARGIN: Duration = Duration::from_secs(2);

/// How long a registration may have lapsed before clients stop counting
/// its worker as live `M` (not a setting).
pub const LIVENESS_MARGIN: Duration = Duration::from_secs(2);

/// What a loaded machine (2 cores shared with builds) adds to any bound:
/// process scheduling, reconnects, a handler's run.
pub const SLACK: Duration = Duration::from_secs(1);

/// A call not back this long after its deadline hangs.
pub const HANG_MARGIN: Duration = Duration::from_secs(2);

/// A connection dropped (`CLIENT KILL`, a restart): the next command
/// reconnects, a worker registers again at its next beat.
pub fn dropped_connection() -> Duration {
    HEARTBEAT + SLACK
}

/// Open connections that forward nothing: the shared connection's command
/// times out (`C`), then the readers' blocks end (`B` + margin).
pub fn silent_network() -> Duration {
    COMMAND_LIMIT + BLOCK + BLOCK_MARGIN + SLACK
}

/// A worker killed: its registration lapses (`T`) and the next beat of a
/// live worker reclaims its calls (`H`).
pub fn worker_killed() -> Duration {
    LIFETIME + HEARTBEAT + SLACK
}

/// The last worker killed: its registration lapses, past the clients'
/// margin, and the clients' next check fails their calls.
pub fn last_worker_killed() -> Duration {
    LIFETIME + LIVENESS_MARGIN + HEARTBEAT + SLACK
}

/// A handle on bus `test` at `url` with the suite's settings.
pub async fn connect(url: &str) -> Bus {
    Bus::builder(url, "test")
        .heartbeat(HEARTBEAT, LIFETIME)
        .block_timeout(BLOCK)
        .connect()
        .await
        .expect("the bus connects")
}
