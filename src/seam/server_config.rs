//! How a server runs, as the API's `Server` builder sets it and the
//! transports carry it out.

/// Which way a server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Serve until shut down.
    Normal,
    /// Handle exactly one request, then stop.
    Once,
    /// Handle requests one at a time; stop at the first failure, after
    /// printing a report.
    Debug,
}

/// How a server runs; set through `Server`'s builder methods.
#[derive(Debug, Clone)]
pub(crate) struct ServerConfig {
    /// Which way it runs.
    pub mode: Mode,
    /// How many calls the server handles at once.
    pub max_concurrency: usize,
    /// Requests with a larger payload are refused with
    /// `RESOURCE_EXHAUSTED` instead of being handled.
    pub max_request_bytes: usize,
    /// A request taken this many times by workers that died before
    /// answering it is failed instead of run again.
    pub max_deliveries: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            mode: Mode::Normal,
            max_concurrency: 256,
            max_request_bytes: 4 * 1024 * 1024,
            max_deliveries: 3,
        }
    }
}
