//! `Server`: runs service implementations on a bus until told to stop.

use std::future::Future;
use std::sync::Arc;

use crate::api::bus::Bus;
use crate::api::intercepted::Intercepted;
use crate::api::interceptor::{Interceptor, Interceptors};
use crate::seam::error::{Error, ErrorKind};
use crate::seam::server_config::{Mode, ServerConfig};
use crate::seam::service::Service;
use crate::seam::transport::Worker;

/// Serves one or more services on a bus.
///
/// ```no_run
/// # async fn run(bus: redis_bus::Bus, service: impl redis_bus::Service) -> Result<(), redis_bus::Error> {
/// redis_bus::Server::new(&bus).add_service(service).serve().await
/// # }
/// ```
pub struct Server {
    /// The bus to serve on.
    bus: Bus,
    /// The services to serve.
    services: Vec<Arc<dyn Service>>,
    /// How to run.
    config: ServerConfig,
    /// What runs around every call of every service.
    interceptors: Vec<Arc<dyn Interceptor>>,
    /// The `tower` layers around all the services, the first outermost.
    #[cfg(feature = "tower")]
    layers: Vec<crate::api::tower::stack::LayerFn>,
}

impl Server {
    /// A server on `bus`, with no services yet.
    pub fn new(bus: &Bus) -> Self {
        Server {
            bus: bus.clone(),
            services: Vec::new(),
            config: ServerConfig::default(),
            interceptors: Vec::new(),
            #[cfg(feature = "tower")]
            layers: Vec::new(),
        }
    }

    /// Adds a service (a generated `<Name>Server` around an implementation).
    pub fn add_service(mut self, service: impl Service) -> Self {
        self.services.push(Arc::new(service));
        self
    }

    /// Runs `interceptor` around every call of every service of this server
    /// (after the interceptors added before it): it sees the call's
    /// metadata before the handler, and may reject the call.
    pub fn interceptor(mut self, interceptor: impl Interceptor) -> Self {
        self.interceptors.push(Arc::new(interceptor));
        self
    }

    /// Adds a `tower` layer (see `Server::layer`).
    #[cfg(feature = "tower")]
    pub(crate) fn with_layer(mut self, layer: crate::api::tower::stack::LayerFn) -> Self {
        self.layers.push(layer);
        self
    }

    /// Handles at most `limit` calls at once (256 by default).
    pub fn max_concurrency(mut self, limit: usize) -> Self {
        self.config.max_concurrency = limit.max(1);
        self
    }

    /// Refuses requests whose payload is larger than `limit` bytes (4 MiB by
    /// default) with `RESOURCE_EXHAUSTED`.
    pub fn max_request_bytes(mut self, limit: usize) -> Self {
        self.config.max_request_bytes = limit;
        self
    }

    /// Fails, instead of running again, a request that `limit` workers took
    /// and died before answering (3 by default; at least 1): a request that
    /// kills its worker (an abort, running out of memory) is then not
    /// re-run by every worker in turn. Its caller gets `INTERNAL` saying how
    /// many times it was delivered. Only idempotent methods' requests are
    /// ever run twice.
    pub fn max_deliveries(mut self, limit: u32) -> Self {
        self.config.max_deliveries = limit.max(1);
        self
    }

    /// Starts serving and returns once the services are reachable.
    pub async fn start(self) -> Result<RunningServer, Error> {
        if self.services.is_empty() {
            return Err(Error::new(
                ErrorKind::Config,
                "the server has no services: add one with Server::add_service",
            ));
        }
        let mut names: Vec<&str> = self.services.iter().map(|s| s.info().name).collect();
        names.sort_unstable();
        if let Some(twice) = names.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(Error::new(
                ErrorKind::Config,
                format!("service {} was added to the server twice", twice[0]),
            ));
        }
        let services = if self.interceptors.is_empty() {
            self.services
        } else {
            let interceptors: Interceptors = self.interceptors.into();
            self.services
                .into_iter()
                .map(|inner| {
                    Arc::new(Intercepted {
                        inner,
                        interceptors: Arc::clone(&interceptors),
                    }) as Arc<dyn Service>
                })
                .collect()
        };
        #[cfg(feature = "tower")]
        let services = crate::api::tower::server::layered(services, &self.layers);
        let worker = self.bus.transport.start(services, self.config).await?;
        Ok(RunningServer { worker })
    }

    /// Serves until Ctrl-C or SIGTERM, then shuts down gracefully.
    pub async fn serve(self) -> Result<(), Error> {
        self.serve_with_shutdown(shutdown_signal()).await
    }

    /// Serves until `signal` completes, then shuts down gracefully: stops
    /// taking calls, finishes those in flight, deregisters.
    pub async fn serve_with_shutdown(self, signal: impl Future<Output = ()>) -> Result<(), Error> {
        let running = self.start().await?;
        tokio::select! {
            () = signal => {}
            () = running.stopped() => {}
        }
        running.shutdown().await
    }

    /// Handles exactly one request, answers it, and stops (for tests and
    /// debugging).
    pub async fn serve_once(mut self) -> Result<(), Error> {
        self.config.mode = Mode::Once;
        let running = self.start().await?;
        running.stopped().await;
        running.shutdown().await
    }

    /// Serves one request at a time until Ctrl-C or SIGTERM, stopping at
    /// the first handler that fails (returns an error or panics): it prints
    /// the method, the request as JSON, the error and, for a panic, the
    /// backtrace, answers the caller, and returns that failure as an error
    /// of kind [`Handler`](crate::ErrorKind::Handler).
    pub async fn debug(mut self) -> Result<(), Error> {
        self.config.mode = Mode::Debug;
        self.config.max_concurrency = 1;
        self.serve().await
    }
}

/// A server that is serving; shut it down with [`RunningServer::shutdown`].
pub struct RunningServer {
    /// The transport's worker.
    worker: Box<dyn Worker>,
}

impl RunningServer {
    /// The id of this server instance on the bus.
    pub fn instance_id(&self) -> &str {
        self.worker.instance_id()
    }

    /// Completes when the server stops taking calls by itself (`serve_once`
    /// after its request, debug mode after a failure) or is shutting down.
    pub async fn stopped(&self) {
        self.worker.stopped().await;
    }

    /// Stops taking calls at once, then (in the returned future) finishes
    /// those in flight, answers them and deregisters.
    pub fn shutdown(self) -> impl Future<Output = Result<(), Error>> + Send + 'static {
        self.worker.stop_taking();
        self.worker.shutdown()
    }
}

/// Completes on Ctrl-C, or on SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        // Without a signal handler, only SIGTERM (or nothing) can stop us.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
