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
//! miss, the request carries the entry key and the generation; the worker
//! takes the entry's lock before running the handler (`ACQUIRE`), so that
//! concurrent identical requests run the handler once: the others wait for
//! the entry. The reply is stored, and the lock released, in the pipeline
//! that sends the reply. Errors are never stored.

use std::sync::LazyLock;

use bytes::Bytes;
use redis::Script;
use redis::aio::ConnectionLike;

use super::keys::CacheKeys;

/// What a lookup found.
#[derive(Debug)]
pub(crate) struct Lookup {
    /// The method's cache generation now.
    pub generation: u64,
    /// The cached reply, if there is a current one.
    pub hit: Option<Bytes>,
}

/// Looks `entry` up, with the method's generation.
pub(crate) async fn lookup(
    connection: &mut impl ConnectionLike,
    keys: &CacheKeys,
    entry: &str,
) -> redis::RedisResult<Lookup> {
    let (generation, value): (Option<u64>, Option<Vec<u8>>) = redis::cmd("MGET")
        .arg(keys.generation())
        .arg(entry)
        .query_async(connection)
        .await?;
    let generation = generation.unwrap_or(0);
    let hit = value.and_then(|value| current(Bytes::from(value), generation));
    Ok(Lookup { generation, hit })
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

/// What a worker may do with a cached method's request.
#[derive(Debug)]
pub(crate) enum Acquired {
    /// The reply is cached (stored by another worker meanwhile).
    Hit(Bytes),
    /// This worker holds the lock: run the handler, then store.
    Lock,
    /// Another worker is computing it: wait, then look again.
    Wait,
}

/// Returns a current entry (`KEYS[1]`, not older than generation `ARGV[1]`;
/// skipped when refreshing, `ARGV[4]` = 1), or takes its lock (`KEYS[2]`,
/// owner `ARGV[2]`, for `ARGV[3]` ms). The lock is also granted when its
/// owner already holds it (an earlier attempt whose answer was lost with
/// the connection), and taken over from a dead worker that held it for this
/// very request (`ARGV[5]`, when the request was reclaimed).
static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local value = ARGV[4] ~= '1' and redis.call('GET', KEYS[1])
if value then
  local generation = tonumber(string.match(value, '^(%d+):'))
  if generation and generation >= tonumber(ARGV[1]) then return {'cached', value} end
end
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return {'lock'} end
local holder = redis.call('GET', KEYS[2])
if holder == ARGV[2] or (ARGV[5] ~= '' and holder == ARGV[5]) then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
  return {'lock'}
end
return {'wait'}
"#,
    )
});

/// The lock a worker asks for before running a cached method's request.
pub(crate) struct LockRequest<'a> {
    /// The entry.
    pub entry: &'a str,
    /// The entry's lock.
    pub lock: &'a str,
    /// The generation the caller saw; older entries do not count.
    pub generation: u64,
    /// Who asks (`<worker>:<call id>`), for debugging from a shell.
    pub owner: &'a str,
    /// How long the lock lasts: the call's remaining budget.
    pub lock_ms: u64,
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
    let generation = request.generation;
    let answer: Vec<Vec<u8>> = ACQUIRE
        .key(request.entry)
        .key(request.lock)
        .arg(generation)
        .arg(request.owner)
        .arg(request.lock_ms.max(1))
        .arg(if request.refresh { "1" } else { "0" })
        .arg(request.dead_owner.unwrap_or(""))
        .invoke_async(connection)
        .await?;
    Ok(match answer.as_slice() {
        [what, value] if what == b"cached" => match current(Bytes::from(value.clone()), generation)
        {
            Some(reply) => Acquired::Hit(reply),
            None => Acquired::Wait,
        },
        [what] if what == b"lock" => Acquired::Lock,
        _ => Acquired::Wait,
    })
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
            generation: 0,
            owner,
            lock_ms: 10_000,
            refresh: false,
            dead_owner: None,
        };
        let mut outcome = async |owner| acquire(&mut connection, request(owner)).await.unwrap();
        assert!(matches!(outcome("worker-a:1").await, Acquired::Lock));
        assert!(matches!(outcome("worker-a:1").await, Acquired::Lock));
        assert!(matches!(outcome("worker-b:7").await, Acquired::Wait));
        assert!(matches!(outcome("worker-a:2").await, Acquired::Wait));
    }
}
