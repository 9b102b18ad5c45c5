//! The calling side of the Redis transport: one per bus handle.
//!
//! A call gets an id, is registered as pending, goes to the writer (which
//! queues it), and waits for the reader to hand it its reply; a
//! server-streaming call reads its messages through `stream`. See `writer`
//! and `reader` for how requests and replies are batched.

mod acknowledger;
mod lookup;
mod pending;
mod reader;
mod reads;
mod schema_check;
mod stream;
mod upload;
mod watcher;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use self::acknowledger::Acknowledger;
use self::lookup::{CacheLookup, Looked};
use self::pending::Pending;
use self::reader::Reader;
use self::reads::Reads;
use self::schema_check::SchemaCheck;
use self::stream::Incoming;
use self::upload::Upload;
use self::watcher::Watcher;
use self::writer::{Outgoing, Writer};
use crate::redis::clock::BusClock;
use crate::redis::connection::Connector;
use crate::redis::envelope::{CallId, encode_request};
use crate::redis::keys::Keys;
use crate::redis::shared::SharedConnection;
use crate::redis::stats::Stats;
use crate::seam::call::OutgoingCall;
use crate::seam::status::Status;
use crate::seam::stream::{EncodedMessages, EncodedRequests, granted_window};
use crate::seam::wire;

/// Sends calls and receives their replies for one client.
#[derive(Debug)]
pub(crate) struct Caller {
    /// This client's id in its reply lists' keys, which requests name.
    client: String,
    /// Calls waiting for their reply.
    pending: Arc<Pending>,
    /// Requests on their way to the writer.
    outbox: mpsc::UnboundedSender<Outgoing>,
    /// The bus's keys.
    keys: Keys,
    /// Converts deadlines to bus time.
    clock: Arc<BusClock>,
    /// The shared connection, for the schema check.
    connection: SharedConnection,
    /// Verdicts of the schema check.
    schema_check: SchemaCheck,
    /// Looks in the result cache.
    lookup: CacheLookup,
    /// The reader, writer and watcher tasks, stopped when the caller is
    /// dropped.
    tasks: [JoinHandle<()>; 3],
}

/// What a caller needs from its transport.
pub(crate) struct CallerParts {
    /// Opens dedicated connections.
    pub connector: Connector,
    /// The shared connection.
    pub connection: SharedConnection,
    /// The bus's keys.
    pub keys: Keys,
    /// The bus clock.
    pub clock: Arc<BusClock>,
    /// Where cache hits and misses are counted.
    pub stats: Arc<Stats>,
    /// How long one blocking wait for replies lasts.
    pub block: Duration,
    /// Whether cache lookups go through the near cache.
    pub near_cache: bool,
    /// The name that prefixes this client's id in its keys, if any.
    pub client_name: Option<String>,
    /// How often the watcher looks.
    pub watch_interval: Duration,
}

impl Caller {
    /// Starts the reader and writer of a new client.
    pub(crate) fn start(parts: CallerParts) -> Caller {
        let CallerParts {
            connector,
            connection,
            keys,
            clock,
            stats,
            block,
            near_cache,
            client_name,
            watch_interval,
        } = parts;
        let client_id: u64 = rand::random();
        // A client name prefixes the id, so that an ACL can give each
        // application its own reply lists (`rb:{<bus>:client:<name>-*`).
        let client = match &client_name {
            Some(name) => format!("{name}-{client_id:016x}"),
            None => format!("{client_id:016x}"),
        };
        let pending = Arc::new(Pending::default());
        let (outbox, inbox) = mpsc::unbounded_channel();
        let writer = Writer {
            connection: connection.clone(),
            clock: Arc::clone(&clock),
            pending: Arc::clone(&pending),
            keys: keys.clone(),
            down: Default::default(),
        };
        let lookup = CacheLookup {
            reads: Reads::start(connection.clone()),
            connector: connector.clone(),
            near_cache,
            near: Default::default(),
            stats,
        };
        let watcher = Watcher {
            connection: connection.clone(),
            clock: Arc::clone(&clock),
            pending: Arc::clone(&pending),
            keys: keys.clone(),
            interval: watch_interval,
            unserved: Vec::new(),
        };
        let reader = Reader {
            connector,
            connection: writer.connection.clone(),
            replies: keys.replies(&client),
            batch: keys.reply_batch(&client),
            pending: Arc::clone(&pending),
            block,
        };
        Caller {
            client,
            pending,
            outbox,
            keys,
            clock,
            connection,
            schema_check: SchemaCheck::default(),
            lookup,
            tasks: [
                tokio::spawn(writer.run(inbox)),
                tokio::spawn(reader.run()),
                tokio::spawn(watcher.run()),
            ],
        }
    }

    /// Queues `call` and waits for its reply. The caller bounds the wait by
    /// the call's deadline.
    pub(crate) async fn call(&self, call: OutgoingCall) -> Result<Bytes, Status> {
        if let Some(cache) = &call.cache {
            let keys = self.keys.cache(call.method.full_name);
            let method = call.method;
            // Boxed, so that an uncached call's future stays small.
            let looked = Box::pin(self.lookup.look(
                &keys,
                call.service,
                method.full_name,
                method.schema_fingerprint,
                &cache.text,
                cache.bypass,
            ))
            .await;
            match looked {
                Looked::Hit(reply) => return Ok(reply),
                // The worker works out the entry itself from the request.
                Looked::Miss | Looked::Unavailable => {}
                Looked::Refused(status) => return Err(status),
            }
        }
        let id = CallId::random();
        let (outgoing, watched) = self.outgoing(id, call, 0).await?;
        let (reply, _forget_on_drop) = self.pending.register(id, watched);
        if self.outbox.send(outgoing).is_err() {
            return Err(Status::unavailable("the bus's writer has stopped"));
        }
        reply
            .await
            .unwrap_or_else(|_| Err(Status::unavailable("the bus's reply reader has stopped")))
    }

    /// Queues a call of a server-streaming method and returns its stream
    /// of messages.
    pub(crate) async fn call_streaming(
        &self,
        call: OutgoingCall,
    ) -> Result<EncodedMessages, Status> {
        let id = CallId::random();
        let method = call.method;
        // As the worker grants it, so that both sides count the same window.
        let window = granted_window(call.stream_window);
        let (outgoing, watched) = self.outgoing(id, call, window).await?;
        let (replies, registered) = self.pending.register_stream(id, watched);
        let ack_key = self.keys.stream_ack(&self.client, &id.to_string());
        let incoming = Incoming::start(
            replies,
            registered,
            method,
            self.connection.clone(),
            ack_key,
            window,
        );
        if self.outbox.send(outgoing).is_err() {
            return Err(Status::unavailable("the bus's writer has stopped"));
        }
        Ok(Box::pin(incoming))
    }

    /// Queues a call of a client-streaming method, sends its requests as
    /// they come and waits for its reply.
    pub(crate) async fn call_client_streaming(
        &self,
        call: OutgoingCall,
        requests: EncodedRequests,
    ) -> Result<Bytes, Status> {
        let id = CallId::random();
        let window = granted_window(call.stream_window);
        let deadline = call.deadline;
        let (outgoing, watched) = self.outgoing(id, call, window).await?;
        let (reply, _forget_on_drop) = self.pending.register(id, watched);
        let call_id = id.to_string();
        // Tells the worker this caller is there, and when it gave up.
        let alive = Acknowledger::start(
            self.connection.clone(),
            self.keys.stream_ack(&self.client, &call_id),
            window,
        );
        let upload = Upload {
            connection: self.connection.clone(),
            key: self.keys.upload(&self.client, &call_id),
            window,
            deadline,
        };
        if self.outbox.send(outgoing).is_err() {
            return Err(Status::unavailable("the bus's writer has stopped"));
        }
        let stopped = || Err(Status::unavailable("the bus's reply reader has stopped"));
        let sending = upload.send_all(requests);
        tokio::pin!(sending, reply);
        let outcome = tokio::select! {
            // The handler may answer before it read every request.
            outcome = &mut reply => outcome.unwrap_or_else(|_| stopped()),
            sent = &mut sending => match sent {
                Ok(()) => reply.await.unwrap_or_else(|_| stopped()),
                Err(status) => Err(status),
            },
        };
        alive.ended();
        outcome
    }

    /// Checks `call`'s schema and makes what the writer queues for it under
    /// `id`, with the live-worker set to watch for a call that does not
    /// wait for a worker.
    async fn outgoing(
        &self,
        id: CallId,
        call: OutgoingCall,
        stream_window: u32,
    ) -> Result<(Outgoing, Option<Arc<str>>), Status> {
        let cache_refresh = call.cache.as_ref().is_some_and(|cache| cache.bypass);
        self.schema_check
            .check(
                call.service,
                call.method,
                &mut self.connection.clone(),
                &self.keys,
                &self.clock,
            )
            .await?;
        // The client's span of this call, which the call runs in.
        tracing::Span::current().record("call_id", tracing::field::display(id));
        let remaining = call
            .deadline
            .saturating_duration_since(tokio::time::Instant::now());
        let request = wire::Request {
            method: call.method.name.to_owned(),
            payload: Bytes::from(call.payload),
            reply_client: self.client.clone(),
            deadline_ms: self.clock.to_bus_ms(call.deadline).max(0) as u64,
            timeout_ms: u32::try_from(remaining.as_millis()).unwrap_or(u32::MAX),
            traceparent: call.traceparent.map(|t| t.to_string()).unwrap_or_default(),
            cache_refresh,
            wait_for_worker: call.wait_for_worker,
            metadata: call
                .metadata
                .entries()
                .iter()
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
            stream_window,
        };
        let service = self
            .keys
            .service(call.service.name, call.service.major_version());
        let instances: Arc<str> = service.instances().into();
        let watched = (!call.wait_for_worker).then(|| Arc::clone(&instances));
        let outgoing = Outgoing {
            service: call.service,
            queue: service.queue().into(),
            instances,
            deadline: call.deadline,
            // The element holds the request now; its payload is not kept
            // while the call waits for its reply.
            element: encode_request(id, &request),
            id,
            wait_for_worker: call.wait_for_worker,
            retries: u8::from(call.method.idempotent),
            retried: false,
        };
        Ok((outgoing, watched))
    }
}

impl Caller {
    /// The near-cache connection, when this client has opened one.
    pub(crate) fn open_near_cache(&self) -> Option<redis::aio::MultiplexedConnection> {
        self.lookup.open_near()
    }
}

impl Drop for Caller {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
