//! Every Redis key the bus uses, in one place.
//!
//! All keys of a bus start with `rb:{<bus>:` so that one bus never sees
//! another's keys and `cleanup` finds them all with one SCAN pattern. The
//! part in braces is the Redis Cluster hash tag: the keys that one
//! operation touches together share it, so the bus works unchanged on a
//! cluster, and each service's traffic lands on one shard:
//!
//! | key | what |
//! | --- | --- |
//! | `rb:{<bus>:<service>@<major>}:queue` | requests waiting for a worker (list) |
//! | `rb:{<bus>:<service>@<major>}:taken:<instance>` | requests a worker took and has not answered (hash) |
//! | `rb:{<bus>:<service>@<major>}:landing:<instance>` | requests an idle worker took by blocking (list) |
//! | `rb:{<bus>:<service>@<major>}:orphans:<instance>` | requests queued while no worker was live, moved aside by the worker that joined (list) |
//! | `rb:{<bus>:<service>@<major>}:reports` | clients' cache hits and misses, `<hits> <misses> <method>`, for workers to add in (list) |
//! | `rb:{<bus>:<service>@<major>}:joins` | how many times a worker joined (counter, for the atomic version check) |
//! | `rb:{<bus>:<service>@<major>}:deliveries` | how many times each reclaimed request was reclaimed, by id (hash) |
//! | `rb:{<bus>:<service>@<major>}:instances` | live workers and when they expire (sorted set) |
//! | `rb:{<bus>:<service>@<major>}:instance:<instance>` | a worker's registration (hash with a TTL) |
//! | `rb:{<bus>:registry}:services` | every `<service>@<major>` ever served (set) |
//! | `rb:{<bus>:cache:<method>}:<fingerprint>:<key>` | a cached reply, prefixed with its generation (string) |
//! | `rb:{<bus>:cache:<method>}:lock:<fingerprint>:<key>` | the worker computing a cached reply (string with a TTL) |
//! | `rb:{<bus>:cache:<method>}:generation` | bumped to clear every cached reply of a method (string) |
//! | `rb:{<bus>:stats}:methods` | every method with statistics (set) |
//! | `rb:{<bus>:stats}:method:<method>` | a method's counters, added into by every process (hash) |
//! | `rb:{<bus>:stats}:instance:<instance>` | one worker's own counters, `<method> <counter>` fields (hash with the registration's TTL) |
//! | `rb:{<bus>:registry}:events` | workers starting and stopping (capped stream) |
//! | `rb:{<bus>:client:<client>}:replies` | replies to one client (list with a TTL) |
//! | `rb:{<bus>:client:<client>}:batch` | replies the client is dispatching (list with a TTL) |
//!
//! Keys are joined with `concat`, not `format!`: several are built on every
//! call, and `format!` grows its string piece by piece (a cache hit spent a
//! tenth of its client CPU there).

use crate::seam::error::{Error, ErrorKind};

/// The first characters of every key of every bus.
pub(crate) const PREFIX: &str = "rb:{";

/// The keys of one bus.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    /// The bus name, checked by [`Keys::new`].
    bus: String,
}

impl Keys {
    /// The keys of bus `bus`. A bus name is letters, digits, `.`, `_` and
    /// `-`, so that no name is a prefix of another's keys.
    pub(crate) fn new(bus: &str) -> Result<Keys, Error> {
        if !is_name(bus, 64) {
            return Err(Error::new(
                ErrorKind::Config,
                format!("invalid bus name {bus:?}: use 1 to 64 letters, digits, '.', '_' or '-'"),
            ));
        }
        Ok(Keys {
            bus: bus.to_owned(),
        })
    }

    /// The bus name.
    pub(crate) fn bus(&self) -> &str {
        &self.bus
    }

    /// The keys of one service at one major version.
    pub(crate) fn service(&self, service: &str, major: u64) -> ServiceKeys {
        ServiceKeys {
            tag: [
                PREFIX,
                &self.bus,
                ":",
                service,
                "@",
                &major.to_string(),
                "}",
            ]
            .concat(),
        }
    }

    /// The set of every `<service>@<major>` served on the bus.
    pub(crate) fn services(&self) -> String {
        [PREFIX, &self.bus, ":registry}:services"].concat()
    }

    /// The stream of workers starting and stopping.
    pub(crate) fn events(&self) -> String {
        [PREFIX, &self.bus, ":registry}:events"].concat()
    }

    /// The keys of `<service>@<major>` as listed in the services set.
    pub(crate) fn service_entry(&self, entry: &str) -> Option<(String, u64, ServiceKeys)> {
        let (service, major) = entry.rsplit_once('@')?;
        let major = major.parse().ok()?;
        Some((service.to_owned(), major, self.service(service, major)))
    }

    /// The keys of the cache of method `method` (`package.Service/Method`).
    pub(crate) fn cache(&self, method: &str) -> CacheKeys {
        CacheKeys {
            tag: [PREFIX, &self.bus, ":cache:", method, "}"].concat(),
        }
    }

    /// A SCAN pattern matching every key of this bus, and no other bus's
    /// (bus names cannot contain `:` or glob characters).
    pub(crate) fn pattern(&self) -> String {
        [PREFIX, &self.bus, ":*"].concat()
    }

    /// The set of every method with statistics.
    pub(crate) fn stats_methods(&self) -> String {
        [PREFIX, &self.bus, ":stats}:methods"].concat()
    }

    /// The counters of method `method` (`package.Service/Method`).
    pub(crate) fn stats(&self, method: &str) -> String {
        [PREFIX, &self.bus, ":stats}:method:", method].concat()
    }

    /// The own counters of worker `instance`, apart from the other
    /// workers'.
    pub(crate) fn stats_instance(&self, instance: &str) -> String {
        [PREFIX, &self.bus, ":stats}:instance:", instance].concat()
    }

    /// The reply list of client `client`.
    pub(crate) fn replies(&self, client: &str) -> String {
        [PREFIX, &self.bus, ":client:", client, "}:replies"].concat()
    }

    /// The reply list of the client a request names, when `client` is a
    /// client id (1 to [`MAX_CLIENT_ID`] letters, digits, `.`, `_` or `-`):
    /// a worker derives where a reply goes, so that no request can make it
    /// write outside the clients' reply lists.
    pub(crate) fn replies_of(&self, client: &str) -> Option<String> {
        is_name(client, MAX_CLIENT_ID).then(|| self.replies(client))
    }

    /// Where client `client` acknowledges how many messages of its
    /// server-streaming call `call` (32 hex digits) it has read, or that it
    /// cancelled the call. It shares the reply list's hash tag, so that the
    /// worker reads it on the node it sends the messages to.
    pub(crate) fn stream_ack(&self, client: &str, call: &str) -> String {
        [PREFIX, &self.bus, ":client:", client, "}:stream:", call].concat()
    }

    /// The stream that carries the requests of client `client`'s
    /// client-streaming call `call` (32 hex digits) to the worker, in the
    /// client's hash tag like its reply list.
    pub(crate) fn upload(&self, client: &str, call: &str) -> String {
        [PREFIX, &self.bus, ":client:", client, "}:upload:", call].concat()
    }

    /// The batch of replies client `client` is dispatching.
    pub(crate) fn reply_batch(&self, client: &str) -> String {
        [PREFIX, &self.bus, ":client:", client, "}:batch"].concat()
    }
}

/// The longest client id a request may name (a client name of up to 64
/// characters, `-` and 16 hex digits fit).
pub(crate) const MAX_CLIENT_ID: usize = 128;

/// Whether `name` is 1 to `max` letters, digits, `.`, `_` or `-`: no `:`,
/// braces or glob characters, so that it cannot reach into other keys.
fn is_name(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// The keys of one service at one major version; they share a hash tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ServiceKeys {
    /// `rb:{<bus>:<service>@<major>}`.
    tag: String,
}

impl ServiceKeys {
    /// The queue of requests waiting for a worker.
    pub(crate) fn queue(&self) -> String {
        [&self.tag, ":queue"].concat()
    }

    /// The requests that worker `instance` took and has not answered yet.
    pub(crate) fn taken(&self, instance: &str) -> String {
        [&self.tag, ":taken:", instance].concat()
    }

    /// The requests that worker `instance`, while idle, took with a
    /// blocking move (which can only move into a list).
    pub(crate) fn landing(&self, instance: &str) -> String {
        [&self.tag, ":landing:", instance].concat()
    }

    /// The requests that were queued while no worker was live, moved aside
    /// by worker `instance` as it joined.
    pub(crate) fn orphans(&self, instance: &str) -> String {
        [&self.tag, ":orphans:", instance].concat()
    }

    /// Clients' reports of their cache hits and misses, for the service's
    /// workers to add into the statistics.
    pub(crate) fn reports(&self) -> String {
        [&self.tag, ":reports"].concat()
    }

    /// How many times a worker joined the service (a counter): the version
    /// check and the registration compare it, to be one atomic step.
    pub(crate) fn joins(&self) -> String {
        [&self.tag, ":joins"].concat()
    }

    /// How many times each reclaimed request was reclaimed, by id.
    pub(crate) fn deliveries(&self) -> String {
        [&self.tag, ":deliveries"].concat()
    }

    /// The registration of worker `instance`.
    pub(crate) fn instance(&self, instance: &str) -> String {
        [&self.tag, ":instance:", instance].concat()
    }

    /// The live workers, scored by when their registration expires.
    pub(crate) fn instances(&self) -> String {
        [&self.tag, ":instances"].concat()
    }
}

/// The keys of one method's cache; they share a hash tag, so a lookup is
/// one `MGET` of the entry and the generation, even on a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CacheKeys {
    /// `rb:{<bus>:cache:<method>}`.
    tag: String,
}

impl CacheKeys {
    /// The entry of the request whose cache key text is `text`, for schema
    /// `fingerprint` (16 hex digits, so never `lock` or `generation`).
    pub(crate) fn entry(&self, fingerprint: &str, text: &str) -> String {
        [&self.tag, ":", fingerprint, ":", text].concat()
    }

    /// The lock of an entry made by [`CacheKeys::entry`].
    pub(crate) fn lock(&self, entry: &str) -> Option<String> {
        let rest = entry.strip_prefix(&self.tag)?.strip_prefix(':')?;
        Some([&self.tag, ":lock:", rest].concat())
    }

    /// The method's generation counter.
    pub(crate) fn generation(&self) -> String {
        [&self.tag, ":generation"].concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_one_service_share_a_hash_tag() {
        let service = Keys::new("prod").unwrap().service("math.Math", 1);
        for key in [
            service.queue(),
            service.taken("w1"),
            service.landing("w1"),
            service.instances(),
        ] {
            assert!(key.starts_with("rb:{prod:math.Math@1}:"), "{key}");
        }
    }

    #[test]
    fn bus_names_cannot_reach_into_each_others_keys() {
        assert!(Keys::new("a:b").is_err());
        assert!(Keys::new("a}").is_err());
        assert!(Keys::new("").is_err());
        let own = Keys::new("a").unwrap().service("s", 0).queue();
        let other = Keys::new("a.b").unwrap().service("s", 0).queue();
        assert!(own.starts_with("rb:{a:"));
        assert!(!other.starts_with("rb:{a:"));
    }

    #[test]
    fn a_request_can_name_only_a_reply_list() {
        let keys = Keys::new("prod").unwrap();
        assert_eq!(
            keys.replies_of("billing-00ff").as_deref(),
            Some("rb:{prod:client:billing-00ff}:replies")
        );
        for hostile in [
            "",
            "x}:queue",
            "a:b",
            "a*",
            "{other}",
            "é",
            &"a".repeat(MAX_CLIENT_ID + 1),
        ] {
            assert_eq!(keys.replies_of(hostile), None, "{hostile:?}");
        }
    }
}
