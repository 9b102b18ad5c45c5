//! What a worker registers and discovery reads back: live instances, the
//! rpcs they serve, and services summarised over their instances.

use std::collections::BTreeMap;
use std::time::SystemTime;

use bytes::Bytes;
use prost_reflect::{DescriptorError, DescriptorPool};
use serde::{Deserialize, Serialize};

use crate::seam::info::MethodInfo;
use crate::seam::versions::{compare_versions, major_of};

/// One live instance of a service: one worker serving it.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// The worker's id on the bus.
    pub id: String,
    /// The service's full name, e.g. `math.Math`.
    pub service: String,
    /// The service's semantic version, e.g. `1.2.0`.
    pub version: String,
    /// The host the worker runs on.
    pub host: String,
    /// The worker's process id.
    pub pid: u32,
    /// When the worker started.
    pub started_at: SystemTime,
    /// The rpcs it serves, with their options.
    pub methods: Vec<MethodRecord>,
    /// The encoded `FileDescriptorSet` of the service (our options kept,
    /// `google/protobuf/*` left out).
    pub descriptors: Bytes,
}

impl Instance {
    /// The major version: clients reach only instances of their own.
    pub fn major_version(&self) -> u64 {
        major_of(&self.version)
    }

    /// The instance's descriptors, in a pool with the well-known google
    /// types: for dynamic calls and JSON.
    pub fn descriptor_pool(&self) -> Result<DescriptorPool, DescriptorError> {
        let mut pool = DescriptorPool::global();
        pool.decode_file_descriptor_set(self.descriptors.clone())?;
        Ok(pool)
    }
}

/// An rpc as a worker registered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodRecord {
    /// The proto name, e.g. `Sum`.
    pub name: String,
    /// The `cache_key` template, when replies are cached.
    pub cache_key: Option<String>,
    /// The `cache_ttl_seconds` option.
    pub cache_ttl_seconds: Option<u32>,
    /// The `timeout_ms` option.
    pub timeout_ms: Option<u32>,
    /// The `idempotent` option.
    pub idempotent: bool,
    /// Whether the rpc streams its reply. Absent from records of workers
    /// that predate streaming, which had no streaming rpcs.
    #[serde(default)]
    pub server_streaming: bool,
    /// Whether the rpc takes a stream of requests; absent like
    /// `server_streaming`.
    #[serde(default)]
    pub client_streaming: bool,
    /// The fingerprint of the request and reply schemas.
    pub schema_fingerprint: String,
}

impl From<&MethodInfo> for MethodRecord {
    fn from(method: &MethodInfo) -> Self {
        MethodRecord {
            name: method.name.to_owned(),
            cache_key: method.cache_key.map(str::to_owned),
            cache_ttl_seconds: method.cache_ttl_seconds,
            timeout_ms: method.timeout_ms,
            idempotent: method.idempotent,
            server_streaming: method.server_streaming,
            client_streaming: method.client_streaming,
            schema_fingerprint: method.schema_fingerprint.to_owned(),
        }
    }
}

/// A service on the bus and its live instances.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSummary {
    /// The full name, e.g. `math.Math`.
    pub name: String,
    /// Each live version and how many instances run it, newest first.
    pub versions: Vec<(String, usize)>,
    /// How many instances are live, all versions together.
    pub instances: usize,
    /// The rpcs of the newest live version.
    pub methods: Vec<MethodRecord>,
}

/// Groups instances into services.
pub(crate) fn summarize(instances: Vec<Instance>) -> Vec<ServiceSummary> {
    let mut by_service: BTreeMap<String, Vec<Instance>> = BTreeMap::new();
    for instance in instances {
        by_service
            .entry(instance.service.clone())
            .or_default()
            .push(instance);
    }
    by_service
        .into_iter()
        .map(|(name, instances)| {
            let mut versions: Vec<(String, usize)> = Vec::new();
            for instance in &instances {
                match versions.iter_mut().find(|(v, _)| *v == instance.version) {
                    Some((_, count)) => *count += 1,
                    None => versions.push((instance.version.clone(), 1)),
                }
            }
            versions.sort_by(|a, b| compare_versions(&b.0, &a.0));
            let newest = instances
                .iter()
                .max_by(|a, b| compare_versions(&a.version, &b.version))
                .expect("a service here has an instance");
            ServiceSummary {
                methods: newest.methods.clone(),
                instances: instances.len(),
                name,
                versions,
            }
        })
        .collect()
}

/// One instance per distinct schema among `live`.
pub(crate) fn distinct_schemas(live: &[Instance]) -> Vec<&Instance> {
    let mut distinct: Vec<&Instance> = Vec::new();
    for instance in live {
        if !distinct.iter().any(|d| same_schema(d, instance)) {
            distinct.push(instance);
        }
    }
    distinct
}

/// `1.2.0 on 2 instances`: the versions of the instances of `live` that
/// share `schema`'s schema.
pub(crate) fn versions_with_schema(live: &[Instance], schema: &Instance) -> String {
    let sharing: Vec<Instance> = live
        .iter()
        .filter(|instance| same_schema(instance, schema))
        .cloned()
        .collect();
    summarize(sharing)
        .first()
        .map(|service| describe_versions(&service.versions))
        .unwrap_or_default()
}

fn same_schema(a: &Instance, b: &Instance) -> bool {
    a.descriptors == b.descriptors && a.methods == b.methods
}

/// `2.0.1 on 3 instances, 1.2.0 on 1 instance`.
pub(crate) fn describe_versions(versions: &[(String, usize)]) -> String {
    versions
        .iter()
        .map(|(version, count)| {
            let noun = if *count == 1 { "instance" } else { "instances" };
            format!("{version} on {count} {noun}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_versions_read_naturally() {
        let versions = vec![("2.0.1".to_owned(), 3), ("1.2.0".to_owned(), 1)];
        assert_eq!(
            describe_versions(&versions),
            "2.0.1 on 3 instances, 1.2.0 on 1 instance"
        );
    }
}
