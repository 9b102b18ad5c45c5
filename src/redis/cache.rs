//! The result cache in Redis.
//!
//! A cached reply is stored under a key made of the method, its schema
//! fingerprint and the request's cache key text, prefixed with the method's
//! cache generation at the time the caller missed (`"<generation>:"`).
//! Clearing one request deletes its entry; clearing a whole method bumps
//! the generation, in O(1): every older entry reads as a miss from then on,
//! and goes away with its TTL or when it is stored again.
//!
//! Clients look up with one `MGET` of the entry and the generation. On a
//! miss, the worker works the entry out from the request itself (its
//! generated cache-key writer), never from anything the request says, and
//! takes the entry's lock before running the handler (`ACQUIRE`, which also
//! reads the generation the reply will be stamped with), so that concurrent
//! identical requests run the handler once: the others wait for the entry.
//! The lock is a short lease that its holder renews while the handler runs,
//! so a holder that dies is replaced within [`LOCK_LEASE`]; it is released
//! by compare-and-delete, so a late release never frees the next holder's
//! lock. The reply is stored, and the lock released, in the pipeline that
//! sends the reply. Errors are never stored.

use std::sync::LazyLock;
use std::time::Duration;

use bytes::Bytes;
use redis::aio::ConnectionLike;
use redis::{Script, Value};

use super::keys::CacheKeys;

/// How long a cache lock lasts unless its holder renews it: what a
/// stampede's followers wait at most when the holder dies.
pub(crate) const LOCK_LEASE: Duration = Duration::from_secs(2);

/// What a lookup found.
#[derive(Debug)]
pub(crate) struct Lookup {
    /// The cached reply, if there is a current one.
    pub hit: Option<Bytes>,
}

/// Looks `entry` up, with the method's generation.
pub(crate) async fn lookup(
    connection: &mut impl ConnectionLike,
    keys: &CacheKeys,
    entry: &str,
) -> redis::RedisResult<Lookup> {
    let found = lookup_command(&keys.generation(), entry)
        .query_async(connection)
        .await?;
    read_lookup(found)
}

/// The command that looks `entry` up with its method's `generation` key.
pub(crate) fn lookup_command(generation: &str, entry: &str) -> redis::Cmd {
    let mut mget = redis::cmd("MGET");
    mget.arg(generation).arg(entry);
    mget
}

/// What the answer to a [`lookup_command`] says (a refusal as its error).
pub(crate) fn read_lookup(answer: Value) -> redis::RedisResult<Lookup> {
    if let Value::ServerError(error) = answer {
        return Err(error.into());
    }
    let (generation, value): (Option<u64>, Option<Vec<u8>>) = redis::from_redis_value(answer)?;
    let generation = generation.unwrap_or(0);
    let hit = value.and_then(|value| current(Bytes::from(value), generation));
    Ok(Lookup { hit })
}

/// The reply in a stored entry, if it is not older than `generation`.
pub(crate) fn current(value: Bytes, generation: u64) -> Option<Bytes> {
    let colon = value.iter().position(|&b| b == b':')?;
    let stored: u64 = std::str::from_utf8(&value[..colon]).ok()?.parse().ok()?;
    (stored >= generation).then(|| value.slice(colon + 1..))
}

/// An entry holding `reply`, stamped with `generation`.
pub(crate) fn entry_value(generation: u64, reply: &[u8]) -> Vec<u8> {
    let mut value = format!("{generation}:").into_bytes();
    value.extend_from_slice(reply);
    value
}

/// Deletes one entry; true when there was one.
pub(crate) async fn clear(
    connection: &mut impl ConnectionLike,
    entry: &str,
) -> redis::RedisResult<bool> {
    let deleted: i64 = redis::cmd("DEL").arg(entry).query_async(connection).await?;
    Ok(deleted > 0)
}

/// Makes every entry of the method stale, in O(1).
pub(crate) async fn clear_all(
    connection: &mut impl ConnectionLike,
    keys: &CacheKeys,
) -> redis::RedisResult<()> {
    redis::cmd("INCR")
        .arg(keys.generation())
        .query_async(connection)
        .await
}

/// Clears like `clear` or `clear_all`, through the near-cache connection
/// `near`, and returns once this process's near cache has forgotten what
/// was cleared. Redis sends a connection the invalidation of a key it wrote
/// itself right after the write's answer, not before: a `PING` behind the
/// write is answered after the invalidation, which the connection has then
/// applied.
pub(crate) async fn clear_near(
    near: &mut impl ConnectionLike,
    keys: &CacheKeys,
    method: &crate::seam::info::MethodInfo,
    text: Option<&str>,
) -> redis::RedisResult<bool> {
    let mut pipe = redis::pipe();
    match text {
        Some(text) => pipe
            .cmd("DEL")
            .arg(keys.entry(method.schema_fingerprint, text)),
        None => pipe.cmd("INCR").arg(keys.generation()),
    };
    pipe.cmd("PING").ignore();
    let (changed,): (i64,) = pipe.query_async(near).await?;
    Ok(text.is_none() || changed > 0)
}

/// What a worker may do with a cached method's request.
#[derive(Debug)]
pub(crate) enum Acquired {
    /// The reply is cached (stored by another worker meanwhile).
    Hit(Bytes),
    /// This worker holds the lock: run the handler, then store the reply
    /// stamped with this generation.
    Lock {
        /// The method's cache generation when the lock was taken.
        generation: u64,
    },
    /// Another worker is computing it: wait, then look again.
    Wait,
}

/// Returns a current entry (`KEYS[1]`, not older than the generation in
/// `KEYS[3]`; skipped when refreshing, `ARGV[3]` = 1), or takes its lock
/// (`KEYS[2]`, owner `ARGV[1]`, for `ARGV[2]` ms) and returns the
/// generation. The lock is also granted when its owner already holds it
/// (an earlier attempt whose answer was lost with the connection), and
/// taken over from a dead worker that held it for this very request
/// (`ARGV[4]`, when the request was reclaimed).
static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local generation = tonumber(redis.call('GET', KEYS[3]) or '0') or 0
local value = ARGV[3] ~= '1' and redis.call('GET', KEYS[1])
if value then
  local stored = tonumber(string.match(value, '^(%d+):'))
  if stored and stored >= generation then return {'cached', value} end
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'lock', generation} end
local holder = redis.call('GET', KEYS[2])
if holder == ARGV[1] or (ARGV[4] ~= '' and holder == ARGV[4]) then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
  return {'lock', generation}
end
return {'wait'}
"#,
    )
});

/// Deletes the lock `KEYS[1]` if owner `ARGV[1]` still holds it.
/// Run with `EVAL` from the replier's pipeline (see `scripts::JOIN`).
pub(crate) const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;

/// Extends the lock `KEYS[1]` to `ARGV[2]` ms if owner `ARGV[1]` still
/// holds it; returns whether it did.
static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"#,
    )
});

/// The lock a worker asks for before running a cached method's request.
pub(crate) struct LockRequest<'a> {
    /// The entry, which the worker derived from the request.
    pub entry: &'a str,
    /// The entry's lock.
    pub lock: &'a str,
    /// The method's generation counter.
    pub generation: &'a str,
    /// Who asks (`<worker>:<call id>`), for debugging from a shell.
    pub owner: &'a str,
    /// Whether the caller bypassed the cache: a cached entry does not count.
    pub refresh: bool,
    /// For a reclaimed request, the lock owner its dead worker was: its
    /// lock is taken over rather than waited for.
    pub dead_owner: Option<&'a str>,
}

/// Looks at an entry for a worker about to run its request.
pub(crate) async fn acquire(
    connection: &mut impl ConnectionLike,
    request: LockRequest<'_>,
) -> redis::RedisResult<Acquired> {
    let answer: Vec<redis::Value> = ACQUIRE
        .key(request.entry)
        .key(request.lock)
        .key(request.generation)
        .arg(request.owner)
        .arg(LOCK_LEASE.as_millis() as u64)
        .arg(if request.refresh { "1" } else { "0" })
        .arg(request.dead_owner.unwrap_or(""))
        .invoke_async(connection)
        .await?;
    Ok(match answer.as_slice() {
        [
            redis::Value::BulkString(what),
            redis::Value::BulkString(value),
        ] if what == b"cached" => {
            let value = Bytes::from(value.clone());
            match value.iter().position(|&b| b == b':') {
                Some(colon) => Acquired::Hit(value.slice(colon + 1..)),
                None => Acquired::Wait,
            }
        }
        [
            redis::Value::BulkString(what),
            redis::Value::Int(generation),
        ] if what == b"lock" => Acquired::Lock {
            generation: u64::try_from(*generation).unwrap_or(0),
        },
        _ => Acquired::Wait,
    })
}

/// Extends `lock` while `owner` holds it; false when it no longer does.
pub(crate) async fn renew(
    connection: &mut impl ConnectionLike,
    lock: &str,
    owner: &str,
) -> redis::RedisResult<bool> {
    let renewed: i64 = RENEW
        .key(lock)
        .arg(owner)
        .arg(LOCK_LEASE.as_millis() as u64)
        .invoke_async(connection)
        .await?;
    Ok(renewed == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_carry_their_generation() {
        let value = Bytes::from(entry_value(3, b"reply:with:colons"));
        assert_eq!(
            current(value.clone(), 3).as_deref(),
            Some(&b"reply:with:colons"[..])
        );
        assert_eq!(
            current(value.clone(), 2).as_deref(),
            Some(&b"reply:with:colons"[..])
        );
        assert_eq!(
            current(value, 4),
            None,
            "a clear of the method since makes it stale"
        );
        assert_eq!(current(Bytes::from_static(b"garbage"), 0), None);
    }

    /// A worker whose `ACQUIRE` answer was lost with its connection asks
    /// again; it must get the lock it holds, not wait for it until its TTL
    /// (with every identical call behind it).
    #[tokio::test]
    async fn an_owner_asking_again_gets_its_own_lock() {
        let redis = redis_bus_testing::RedisServer::start().unwrap();
        let client = redis::Client::open(redis.url()).unwrap();
        let mut connection = client.get_multiplexed_async_connection().await.unwrap();
        let request = |owner| LockRequest {
            entry: "entry",
            lock: "lock",
            generation: "generation",
            owner,
            refresh: false,
            dead_owner: None,
        };
        let mut outcome = async |owner| acquire(&mut connection, request(owner)).await.unwrap();
        assert!(matches!(
            outcome("worker-a:1").await,
            Acquired::Lock { generation: 0 }
        ));
        assert!(matches!(outcome("worker-a:1").await, Acquired::Lock { .. }));
        assert!(matches!(outcome("worker-b:7").await, Acquired::Wait));
        assert!(matches!(outcome("worker-a:2").await, Acquired::Wait));
    }

    /// A release by a worker whose lease ran out must not free the lock of
    /// the worker that holds it now.
    #[tokio::test]
    async fn only_the_holder_releases_or_renews_a_lock() {
        let redis = redis_bus_testing::RedisServer::start().unwrap();
        let client = redis::Client::open(redis.url()).unwrap();
        let mut connection = client.get_multiplexed_async_connection().await.unwrap();
        let _: () = redis::cmd("SET")
            .arg("lock")
            .arg("worker-b:2")
            .query_async(&mut connection)
            .await
            .unwrap();
        let released: i64 = redis::cmd("EVAL")
            .arg(RELEASE)
            .arg(1)
            .arg("lock")
            .arg("worker-a:1")
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(released, 0);
        assert!(!renew(&mut connection, "lock", "worker-a:1").await.unwrap());
        assert!(renew(&mut connection, "lock", "worker-b:2").await.unwrap());
        let holder: String = redis::cmd("GET")
            .arg("lock")
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(holder, "worker-b:2");
    }
}
