//! What the sample workers share: their flags, connecting to the bus
//! named by the environment (with a helpful message when Redis is not
//! there), logging, saying "serving" once registered, and errors shown as
//! one readable line.

// Each example uses the part it needs.
#![allow(dead_code)]

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use redis_bus::{Bus, Server};

/// How a sample worker serves, from its command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Until Ctrl-C or SIGTERM (no flag).
    Serve,
    /// One request, then exit (`--once`): `Server::serve_once`.
    Once,
    /// One request at a time, stopping at the first failing handler with
    /// a report of it (`--debug`): `Server::debug`.
    Debug,
}

/// What `--help` prints.
const USAGE: &str = "usage: WORKER [--once | --debug]\n  \
    --once   handle one request, then exit\n  \
    --debug  one request at a time; stop at the first failing handler, printing the method, \
    the request as JSON and the error\n\
    Redis and bus from REDIS_URL (default redis://127.0.0.1:6379) and REDIS_BUS (default \
    \"default\"); NO_COLOR turns colour off.";

/// Reads the worker's flags, or prints the usage and exits (status 0 for
/// `--help`, 2 for anything it does not know).
pub fn mode() -> Mode {
    match parse(std::env::args().skip(1)) {
        Ok(Some(mode)) => mode,
        Ok(None) => {
            println!("{USAGE}");
            std::process::exit(0);
        }
        Err(message) => {
            eprintln!("error: {message}\n{USAGE}");
            std::process::exit(2);
        }
    }
}

/// The mode named by `args`, `None` for `--help`, or what is wrong.
fn parse(args: impl Iterator<Item = String>) -> Result<Option<Mode>, String> {
    let mut mode = Mode::Serve;
    for arg in args {
        let wanted = match arg.as_str() {
            "--once" => Mode::Once,
            "--debug" => Mode::Debug,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        };
        if mode != Mode::Serve && mode != wanted {
            return Err("--once and --debug do not go together".to_owned());
        }
        mode = wanted;
    }
    Ok(Some(mode))
}

/// The Redis URL: `REDIS_URL`, or a local Redis.
pub fn url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// The bus name: `REDIS_BUS`, or `default` (the `redis-bus` command's
/// default too).
pub fn bus_name() -> String {
    std::env::var("REDIS_BUS").unwrap_or_else(|_| "default".to_owned())
}

/// Connects to the bus, or explains how to get a Redis.
pub async fn connect() -> Result<Bus, Box<dyn std::error::Error>> {
    let (url, name) = (url(), bus_name());
    match Bus::connect(&url, &name).await {
        Ok(bus) => Ok(bus),
        Err(error) if error.is_connection() => Err(format!(
            "{error}\nStart a Redis (e.g. `redis-server --port 6379 --save \"\"`) or point \
             REDIS_URL at one."
        )
        .into()),
        Err(error) => Err(error.into()),
    }
}

/// Whether to write colour: only to a terminal, and never when `NO_COLOR`
/// is set to anything but the empty string (<https://no-color.org>).
pub fn colour() -> bool {
    let disabled = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    !disabled && std::io::stderr().is_terminal()
}

/// Logs to stderr at `info`, so that a worker says what it does; in colour
/// only when [`colour`] says so, so that a log file holds plain text.
pub fn log() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(colour())
        .with_max_level(tracing::Level::INFO)
        .init();
}

/// Serves `server` (whose service is `service`) in `mode`, printing
/// `serving SERVICE ...` on stderr once the registry lists this process.
pub async fn serve(
    bus: &Bus,
    server: Server,
    service: &str,
    mode: Mode,
) -> Result<(), Box<dyn std::error::Error>> {
    let serving = async {
        match mode {
            Mode::Serve => server.serve().await,
            Mode::Once => server.serve_once().await,
            Mode::Debug => server.debug().await,
        }
    };
    tokio::pin!(serving);
    tokio::select! {
        result = &mut serving => return Ok(result?),
        registered = registered(bus, service) => {
            let how = match mode {
                Mode::Serve => "",
                Mode::Once => " for one request",
                Mode::Debug => " in debug mode",
            };
            match registered {
                Ok(()) => eprintln!(
                    "serving {service}{how} on bus {:?} at {}",
                    bus_name(),
                    url()
                ),
                Err(error) => eprintln!("warning: {error}"),
            }
        }
    }
    Ok(serving.await?)
}

/// How long a worker waits to see its own registration before saying it
/// could not.
const REGISTRATION_PATIENCE: Duration = Duration::from_secs(10);

/// Completes once the registry lists an instance of `service` run by this
/// process: "serving" is then true for callers too.
async fn registered(bus: &Bus, service: &str) -> Result<(), String> {
    let deadline = Instant::now() + REGISTRATION_PATIENCE;
    let pid = std::process::id();
    loop {
        let instances = bus.discovery().instances(service).await;
        if instances.is_ok_and(|instances| instances.iter().any(|i| i.pid == pid)) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{service} not in the registry after {}s",
                REGISTRATION_PATIENCE.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The exit of a worker: 0, or 1 after printing the error with its
/// message (`Display`), never its `Debug` form.
pub fn exit(result: Result<(), Box<dyn std::error::Error>>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Result<Option<Mode>, String> {
        parse(args.iter().map(|arg| (*arg).to_owned()))
    }

    #[test]
    fn flags_name_the_mode() {
        assert_eq!(parsed(&[]), Ok(Some(Mode::Serve)));
        assert_eq!(parsed(&["--once"]), Ok(Some(Mode::Once)));
        assert_eq!(parsed(&["--debug"]), Ok(Some(Mode::Debug)));
        assert_eq!(parsed(&["--help"]), Ok(None));
        assert_eq!(
            parsed(&["--dbug"]),
            Err("unknown argument \"--dbug\"".into())
        );
        assert!(parsed(&["--once", "--debug"]).is_err());
    }
}
