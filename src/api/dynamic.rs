//! Calling a service without its generated code, through the descriptors
//! its workers published: what tools (the `redis-bus` command, a shell)
//! use. Requests and replies are `prost_reflect::DynamicMessage`s, or JSON
//! by the protobuf JSON mapping; cached methods share their cache with
//! generated clients.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, ServiceDescriptor};

use crate::api::bus::Bus;
use crate::api::call_options::CallOptions;
use crate::api::client::{Client, cached};
use crate::api::streaming::Streaming;
use crate::seam::cache_key::CacheKeyWriter;
use crate::seam::error::{Error, ErrorKind};
use crate::seam::info::{MethodInfo, ServiceInfo};
use crate::seam::instance::Instance;
use crate::seam::status::Status;
use crate::seam::versions::compare_versions;

/// Calls one service as its newest live version describes itself.
#[derive(Debug, Clone)]
pub struct DynamicClient {
    /// Carries the calls.
    client: Client,
    /// The service, as its workers registered it.
    info: &'static ServiceInfo,
    /// Its descriptors.
    pool: DescriptorPool,
}

impl DynamicClient {
    /// A client of `service` (its full name, e.g. `math.Math`), described
    /// by its newest live version. Fails when no worker serves it, naming
    /// the services that are live.
    pub async fn connect(bus: &Bus, service: &str) -> Result<DynamicClient, Error> {
        let discovery = bus.discovery();
        let instances = discovery.instances(service).await?;
        let Some(newest) = instances
            .iter()
            .max_by(|a, b| compare_versions(&a.version, &b.version))
        else {
            let live: Vec<String> = discovery
                .services()
                .await?
                .into_iter()
                .map(|service| service.name)
                .collect();
            let live = if live.is_empty() {
                "none".to_owned()
            } else {
                live.join(", ")
            };
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "no live worker serves {service} on bus {:?} (live services: {live})",
                    bus.name()
                ),
            ));
        };
        let pool = newest.descriptor_pool().map_err(|error| {
            Error::new(
                ErrorKind::Incompatible,
                format!(
                    "the descriptors that {service} {} published do not decode",
                    newest.version
                ),
            )
            .with_source(error)
        })?;
        let info = registered_service(newest, &pool)?;
        Ok(DynamicClient {
            client: Client::new(bus, info),
            info,
            pool,
        })
    }

    /// The same client, with `options` for every call.
    pub fn with_options(mut self, options: CallOptions) -> Self {
        self.client = self.client.with_options(options);
        self
    }

    /// The service as registered: version, methods and their options.
    pub fn info(&self) -> &'static ServiceInfo {
        self.info
    }

    /// The service's descriptor.
    pub fn descriptor(&self) -> ServiceDescriptor {
        self.pool
            .get_service_by_name(self.info.name)
            .expect("checked when the client was made")
    }

    /// The descriptors the service published.
    pub fn pool(&self) -> &DescriptorPool {
        &self.pool
    }

    /// The request type of `method`.
    pub fn request_type(&self, method: &str) -> Result<MessageDescriptor, Status> {
        let info = self.method(method)?;
        self.message(info.request_type)
    }

    /// A request of `method` from JSON (protobuf JSON mapping); the error
    /// names the field that does not fit.
    pub fn request_from_json(&self, method: &str, json: &str) -> Result<DynamicMessage, Status> {
        let descriptor = self.request_type(method)?;
        let mut deserializer = serde_json::Deserializer::from_str(json);
        let request = DynamicMessage::deserialize(descriptor.clone(), &mut deserializer)
            .and_then(|request| deserializer.end().map(|()| request))
            .map_err(|error| {
                let why = serde_json::from_str(json)
                    .ok()
                    .and_then(|value| misfit(&descriptor, &value))
                    .unwrap_or_else(|| error.to_string());
                Status::invalid_argument(format!(
                    "the JSON does not fit {}: {why}",
                    descriptor.full_name()
                ))
            })?;
        Ok(request)
    }

    /// Calls `method` (its proto name, e.g. `Sum`) with `request`.
    pub async fn call(
        &self,
        method: &str,
        request: &DynamicMessage,
    ) -> Result<DynamicMessage, Status> {
        let info = self.method(method)?;
        let cache_text = match info.cache_key {
            Some(template) => {
                Some(CacheKeyWriter::dynamic(template, request).map_err(Status::invalid_argument)?)
            }
            None => None,
        };
        let reply = self
            .client
            .call_encoded(info, request.encode_to_vec(), cache_text)
            .await?;
        self.decode_reply(info, reply)
    }

    /// The described message type `name`.
    fn message(&self, name: &str) -> Result<MessageDescriptor, Status> {
        self.pool
            .get_message_by_name(name)
            .ok_or_else(|| Status::internal(format!("{name} is not described")))
    }

    /// Decodes a reply of `info`.
    fn decode_reply(&self, info: &MethodInfo, reply: Bytes) -> Result<DynamicMessage, Status> {
        let descriptor = self.message(info.reply_type)?;
        DynamicMessage::decode(descriptor, reply).map_err(|error| {
            Status::internal(format!(
                "the reply of {} does not decode as {}: {error}",
                info.full_name, info.reply_type
            ))
        })
    }

    /// Calls server-streaming `method` with `request` and returns the
    /// stream of its replies, as [`Client::server_streaming`] does.
    pub async fn call_server_streaming(
        &self,
        method: &str,
        request: &DynamicMessage,
    ) -> Result<Streaming<DynamicMessage>, Status> {
        let info = self.method(method)?;
        let (deadline, timeout) = self.client.deadline(info);
        let replies = self
            .client
            .stream_encoded(info, request.encode_to_vec())
            .await?;
        let descriptor = self.message(info.reply_type)?;
        let decode = Box::new(move |encoded| DynamicMessage::decode(descriptor.clone(), encoded));
        Ok(Streaming::new(
            replies,
            info,
            info.reply_type,
            deadline,
            timeout,
            decode,
        ))
    }

    /// Calls client-streaming `method`, sending each of `requests` as it
    /// comes, and returns its reply, as [`Client::client_streaming`] does.
    pub async fn call_client_streaming<S>(
        &self,
        method: &str,
        requests: S,
    ) -> Result<DynamicMessage, Status>
    where
        S: Stream<Item = DynamicMessage> + Send + 'static,
    {
        let info = self.method(method)?;
        let requests = Box::pin(requests.map(|request| request.encode_to_vec()));
        let reply = self.client.client_streaming_encoded(info, requests).await?;
        self.decode_reply(info, reply)
    }

    /// Clears the cached reply of `method` for `request`, or every cached
    /// reply of `method` when `request` is `None`; true when something was
    /// cleared (always for a whole method).
    pub async fn clear_cache(
        &self,
        method: &str,
        request: Option<&DynamicMessage>,
    ) -> Result<bool, Status> {
        let info = self.method(method)?;
        let template = cached(info)?;
        match request {
            Some(request) => {
                let text =
                    CacheKeyWriter::dynamic(template, request).map_err(Status::invalid_argument)?;
                self.client.clear_cache(info, Some(&text)).await
            }
            None => self.client.clear_cache(info, None).await,
        }
    }

    fn method(&self, method: &str) -> Result<&'static MethodInfo, Status> {
        self.info.method(method).ok_or_else(|| {
            let known: Vec<&str> = self.info.methods.iter().map(|m| m.name).collect();
            Status::not_found(format!(
                "{} {} has no method {method:?} (its methods: {})",
                self.info.name,
                self.info.version,
                known.join(", ")
            ))
        })
    }
}

/// Which field of `value` does not fit `descriptor`, and why: each field is
/// tried alone, and a misfit inside a nested message is followed down, so
/// that the error names the field path (`field `user.id`: ...`).
fn misfit(descriptor: &MessageDescriptor, value: &serde_json::Value) -> Option<String> {
    misfit_path(descriptor, value).map(|(path, why)| format!("field `{path}`: {why}"))
}

fn misfit_path(
    descriptor: &MessageDescriptor,
    value: &serde_json::Value,
) -> Option<(String, String)> {
    let serde_json::Value::Object(fields) = value else {
        return None;
    };
    for (name, value) in fields {
        let alone =
            serde_json::Value::Object([(name.clone(), value.clone())].into_iter().collect());
        let Err(error) = DynamicMessage::deserialize(descriptor.clone(), alone) else {
            continue;
        };
        let field = descriptor
            .get_field_by_json_name(name)
            .or_else(|| descriptor.get_field_by_name(name));
        if let Some(prost_reflect::Kind::Message(inner)) = field.as_ref().map(|f| f.kind()) {
            if let Some((path, why)) = misfit_path(&inner, value) {
                return Some((format!("{name}.{path}"), why));
            }
        }
        return Some((name.clone(), error.to_string()));
    }
    None
}

/// The `ServiceInfo` of a registered service, made once per distinct
/// registration and kept for the life of the process (the bus runtime takes
/// `'static` metadata, as generated code provides it; a tool meets few
/// distinct registrations).
fn registered_service(
    instance: &Instance,
    pool: &DescriptorPool,
) -> Result<&'static ServiceInfo, Error> {
    type Known = Mutex<HashMap<(String, String, Vec<u8>), &'static ServiceInfo>>;
    static KNOWN: OnceLock<Known> = OnceLock::new();
    let key = (
        instance.service.clone(),
        instance.version.clone(),
        instance.descriptors.to_vec(),
    );
    let known = KNOWN.get_or_init(Default::default);
    if let Some(info) = known.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(info);
    }
    let service = pool.get_service_by_name(&instance.service).ok_or_else(|| {
        Error::new(
            ErrorKind::Incompatible,
            format!("the descriptors of {} do not describe it", instance.service),
        )
    })?;
    let leak = |text: String| -> &'static str { Box::leak(text.into_boxed_str()) };
    let methods: Vec<MethodInfo> = instance
        .methods
        .iter()
        .filter_map(|record| {
            let descriptor = service.methods().find(|m| m.name() == record.name)?;
            Some(MethodInfo {
                name: leak(record.name.clone()),
                full_name: leak(format!("{}/{}", instance.service, record.name)),
                request_type: leak(descriptor.input().full_name().to_owned()),
                reply_type: leak(descriptor.output().full_name().to_owned()),
                cache_key: record.cache_key.clone().map(leak),
                cache_ttl_seconds: record.cache_ttl_seconds,
                timeout_ms: record.timeout_ms,
                idempotent: record.idempotent,
                // From the descriptors, which say what the wire carries.
                server_streaming: descriptor.is_server_streaming(),
                client_streaming: descriptor.is_client_streaming(),
                schema_fingerprint: leak(record.schema_fingerprint.clone()),
            })
        })
        .collect();
    let info: &'static ServiceInfo = Box::leak(Box::new(ServiceInfo {
        name: leak(instance.service.clone()),
        version: leak(instance.version.clone()),
        methods: Box::leak(methods.into_boxed_slice()),
        file_descriptor_set: Box::leak(instance.descriptors.to_vec().into_boxed_slice()),
    }));
    known
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, info);
    Ok(info)
}
