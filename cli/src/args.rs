//! The command line, as clap reads it. The bus subcommands (`BusCommand`)
//! are shared with the shell, which parses each of its lines with the same
//! definitions, so a command reads the same in both places.

use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::target::Target;

/// Reads the command line (exiting with clap's message when it does not
/// parse). `--help` shows `[env: REDIS_BUS=value]` only when the variable
/// is set: an empty `REDIS_BUS=` would look like a bus named "".
pub(crate) fn parse() -> Cli {
    let mut command = Cli::command();
    if std::env::var_os("REDIS_BUS").is_none() {
        command = command.mut_arg("bus", |arg| arg.hide_env_values(true));
    }
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
}

/// Look at a redis-bus bus and poke it: services, descriptions, calls from
/// JSON, caches, statistics, cleanup, and an interactive shell.
#[derive(Debug, Parser)]
#[command(name = "redis-bus", version)]
pub(crate) struct Cli {
    /// Where the bus is.
    #[command(flatten)]
    pub(crate) connection: Connection,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Which Redis and bus to use, and how long calls may take.
#[derive(Debug, Clone, Args)]
pub(crate) struct Connection {
    /// The Redis URL, e.g. redis://host:6379 or
    /// redis://user:password@host:6379/0 (rediss:// for TLS).
    #[arg(
        long,
        env = "REDIS_URL",
        // The URL may hold a password: `--help` must not show it.
        hide_env_values = true,
        default_value = "redis://127.0.0.1:6379",
        global = true
    )]
    pub(crate) url: String,
    /// The bus name: services on other buses of the same Redis are not seen.
    #[arg(long, env = "REDIS_BUS", default_value = "default", global = true)]
    pub(crate) bus: String,
    /// The deadline of each call, and of connecting, in milliseconds
    /// (default: the method's timeout_ms option, else 30 s; connecting:
    /// 10 s).
    #[arg(long, value_name = "MS", global = true)]
    pub(crate) timeout: Option<u64>,
    /// Print data and errors as JSON (errors as one line on stderr).
    // Its own id: the requests of `call` and `cache clear` are `json` too.
    #[arg(long = "json", id = "output_json", global = true)]
    pub(crate) json: bool,
}

/// The subcommands of `redis-bus`.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Commands that look at or act on the bus (also available in the shell).
    #[command(flatten)]
    Bus(BusCommand),
    /// An interactive shell on the bus, with completion of services,
    /// methods and request fields; reads commands line by line when stdin
    /// is not a terminal.
    Shell,
    /// A live view of every method, refreshed every second: requests and
    /// handler runs per second, errors, latency, cache hit ratio, live
    /// instances, with a history; keys sort and filter (q quits).
    Top(TopArgs),
}

/// How `top` shows the bus.
#[derive(Debug, Clone, Args)]
pub(crate) struct TopArgs {
    /// Print one frame as text (or, with --json, one sample) after one
    /// interval, and exit: for scripts and tests.
    #[arg(long)]
    pub(crate) once: bool,
    /// Seconds between samples (1 to 60).
    #[arg(long, value_name = "S", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub(crate) interval: u64,
    /// Only methods whose name contains this text (`/` changes it live).
    #[arg(long, value_name = "TEXT")]
    pub(crate) filter: Option<String>,
}

/// The commands on a bus, from the command line or from a shell line.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub(crate) enum BusCommand {
    /// The live services: versions, instances, methods, cached methods.
    Services,
    /// A service's methods with their options, the messages they take and
    /// return, and its live instances; or one method, or one message or
    /// enum; with the comments of the proto files when the descriptors
    /// kept them.
    Describe {
        /// A service (math.Math, or Math when only one live service has
        /// that name), a method (math.Math/Sum) or a message or enum
        /// (math.SumRequest).
        name: String,
    },
    /// Calls a method with a request given as JSON and prints the reply as
    /// JSON.
    Call {
        /// The method, e.g. math.Math/Sum, or Math/Sum when only one live
        /// service is called Math.
        target: Target,
        /// The request in the protobuf JSON mapping (`{}` when left out);
        /// `describe SERVICE` shows the fields.
        #[arg(conflicts_with_all = ["data", "lines"])]
        json: Option<String>,
        /// The request: JSON, @FILE to read it from a file, or @- to read
        /// it from stdin.
        #[arg(short, long, value_name = "JSON|@FILE|@-", conflicts_with = "lines")]
        data: Option<String>,
        /// One request per line of stdin (JSON lines), one result per line
        /// on stdout: {"reply": ...} or {"error": ...}.
        #[arg(long)]
        lines: bool,
    },
    /// Cached replies.
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Per-method statistics: requests, handler runs, errors by code,
    /// cache hits and misses, latency of the whole call and of handling,
    /// last error.
    Stats {
        /// Only this service's methods, e.g. math.Math.
        service: Option<String>,
        /// Rates over a window instead of counts since the bus began: two
        /// samples this far apart, e.g. 10s (1s to 1h).
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
        window: Option<Duration>,
        /// Each live worker's own counts instead: its handler runs, errors
        /// and handling time, per method.
        #[arg(long, conflicts_with = "window")]
        instances: bool,
    },
    /// Services and instances coming and going (with their versions), one
    /// line each as they happen, until Ctrl-C.
    Watch,
    /// Each live instance of a service with its last heartbeat (how long
    /// ago it renewed its registration, how long that lasts) and the round
    /// trip to Redis.
    Ping {
        /// The service, e.g. math.Math (or Math).
        service: String,
    },
    /// Removes every key of the bus (queues, registrations, cache,
    /// statistics), after saying how many.
    Cleanup {
        /// Do not ask for confirmation (needed when stdin is not a
        /// terminal).
        #[arg(long, short)]
        yes: bool,
    },
}

/// What `cache` does.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub(crate) enum CacheCommand {
    /// Clears the cached reply of one request, or without JSON every cached
    /// reply of the method.
    Clear {
        /// The method, e.g. math.Math/Now.
        target: Target,
        /// The request whose cached reply to clear, e.g. '{"seed": 1}'.
        json: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn options_read_after_the_subcommand_too() {
        let cli = Cli::try_parse_from([
            "redis-bus",
            "services",
            "--url",
            "redis://h:1",
            "--bus",
            "b",
            "--timeout",
            "50",
        ])
        .expect("parses");
        assert_eq!(cli.connection.url, "redis://h:1");
        assert_eq!(cli.connection.bus, "b");
        assert_eq!(cli.connection.timeout, Some(50));
        assert!(matches!(cli.command, Command::Bus(BusCommand::Services)));
    }
}
