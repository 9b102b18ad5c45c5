//! The Lua scripts of the transport. Each touches only keys of one service
//! (one hash tag), so each runs atomically on one node of a cluster too.
//!
//! Scripts are used where atomicity matters for not losing requests; plain
//! commands elsewhere, because request bytes passed through Lua cost Redis
//! several times what a plain RPUSH of the same bytes costs (measured: see
//! docs/ARCHITECTURE.md).

use std::sync::LazyLock;

use redis::Script;

/// Takes up to `ARGV[1]` requests from the queue `KEYS[1]` and files each in
/// the worker's `taken` hash `KEYS[2]` under its 16-byte id, in one atomic
/// step: a request is always either queued or filed under a worker.
pub(crate) static TAKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local items = redis.call('LPOP', KEYS[1], ARGV[1])
if not items then return {} end
local fields = {}
for i, item in ipairs(items) do
  fields[2 * i - 1] = string.sub(item, 1, 16)
  fields[2 * i] = item
end
redis.call('HSET', KEYS[2], unpack(fields))
return items
"#,
    )
});

/// Moves the requests of a dead worker (`ARGV[1]`) to the reclaiming worker:
/// from the dead one's `taken` hash `KEYS[2]` and `landing` list `KEYS[3]`
/// into the reclaimer's `taken` hash `KEYS[4]`, counting each request's
/// deliveries in the `deliveries` hash `KEYS[5]`; moves the dead one's
/// orphans (`KEYS[6]`) onto the reclaimer's (`KEYS[7]`); then forgets the
/// dead one in `instances` (`KEYS[1]`). Returns each request followed by how
/// many times it was reclaimed. Does nothing when the worker's registration
/// is still live at bus time `ARGV[2]`, so a slow worker is never robbed,
/// and two reclaimers never both get a request.
pub(crate) static RECLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if expiry and tonumber(expiry) > tonumber(ARGV[2]) then return {} end
local items = redis.call('HVALS', KEYS[2])
for _, item in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
  items[#items + 1] = item
end
local out = {}
for first = 1, #items, 100 do
  local fields = {}
  for i = first, math.min(first + 99, #items) do
    local id = string.sub(items[i], 1, 16)
    fields[#fields + 1] = id
    fields[#fields + 1] = items[i]
    out[#out + 1] = items[i]
    out[#out + 1] = redis.call('HINCRBY', KEYS[5], id, 1)
  end
  redis.call('HSET', KEYS[4], unpack(fields))
end
while redis.call('LMOVE', KEYS[6], KEYS[7], 'LEFT', 'RIGHT') do end
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('ZREM', KEYS[1], ARGV[1])
return out
"#,
    )
});

/// Registers worker `ARGV[1]` as live until bus time `ARGV[2]` in
/// `instances` (`KEYS[1]`); `ARGV[3]` is the bus time now minus the
/// liveness margin (`clock::LIVENESS_MARGIN_MS`).
///
/// A worker joining for the first time passes in `ARGV[4]` the service's
/// join count (`KEYS[4]`) that it read before checking that its schema fits
/// the live workers': when another worker joined since, nothing is done and
/// the answer is -1, and the worker checks again. So the check and the
/// registration are one atomic step, and two incompatible schemas can never
/// both be live. (Renewals pass an empty `ARGV[4]`.)
///
/// When no worker was live
/// (this one's registration lapsed too, or it is the first), the requests
/// queued meanwhile (`KEYS[2]`) may belong to callers told that no worker
/// was live: they move onto this worker's orphans list `KEYS[3]`, to be
/// answered without running (or requeued, for callers that wait). Returns
/// the length of the orphans list.
///
/// Pipelines run it with `EVAL` and its source: a pipeline cannot fall back
/// from `EVALSHA` when Redis has lost its script cache (a restart).
pub(crate) const JOIN: &str = r#"
if ARGV[4] ~= '' then
  if (redis.call('GET', KEYS[4]) or '0') ~= ARGV[4] then return -1 end
  redis.call('INCR', KEYS[4])
end
if redis.call('ZCOUNT', KEYS[1], ARGV[3], '+inf') == 0 and redis.call('EXISTS', KEYS[2]) == 1 then
  if redis.call('EXISTS', KEYS[3]) == 0 then
    redis.call('RENAME', KEYS[2], KEYS[3])
  else
    while redis.call('LMOVE', KEYS[2], KEYS[3], 'LEFT', 'RIGHT') do end
  end
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return redis.call('LLEN', KEYS[3])
"#;

/// Deregisters worker `ARGV[1]` from `instances` (`KEYS[1]`) on a clean
/// stop and deletes its registration `KEYS[5]`. Requests still filed under
/// it in `taken` (`KEYS[2]`) or `landing` (`KEYS[3]`) were never answered:
/// they go back to the head of the queue `KEYS[4]` for another worker.
///
/// When no other worker was live within the liveness margin (`ARGV[2]` is
/// the bus time now minus the margin), this was the last one: the queue moves onto its orphans list `KEYS[6]`, for the stopping
/// worker to answer at once (`UNAVAILABLE`, or queued again for callers
/// that wait) instead of leaving every caller to its deadline. When another
/// worker is live and orphans are left that the stopping worker could not
/// sort, it stays in `instances`, expired, so that the live one reclaims
/// them. The last worker also deletes the service's join count (`KEYS[7]`),
/// which only orders workers that are live together. Returns how many
/// requests went back, and how many orphans there are.
pub(crate) static DEREGISTER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local items = redis.call('HVALS', KEYS[2])
for _, item in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
  items[#items + 1] = item
end
for first = 1, #items, 100 do
  redis.call('LPUSH', KEYS[4], unpack(items, first, math.min(first + 99, #items)))
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[5])
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('ZCOUNT', KEYS[1], ARGV[2], '+inf') > 0 then
  if redis.call('EXISTS', KEYS[6]) == 1 then
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
  end
  return {#items, 0}
end
redis.call('DEL', KEYS[7])
if redis.call('EXISTS', KEYS[4]) == 1 then
  if redis.call('EXISTS', KEYS[6]) == 0 then
    redis.call('RENAME', KEYS[4], KEYS[6])
  else
    while redis.call('LMOVE', KEYS[4], KEYS[6], 'LEFT', 'RIGHT') do end
  end
end
return {#items, redis.call('LLEN', KEYS[6])}
"#,
    )
});

/// Hands a client the replies waiting for it, without letting any be lost
/// if the answer to the command is: deletes the client's previous batch
/// `KEYS[2]` (already dispatched), then renames the reply list `KEYS[1]` to
/// be the new batch (keeping its TTL). The caller reads the batch with
/// `LRANGE` in the same pipeline. Returns whether there was a batch.
pub(crate) static NEXT_REPLIES: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
redis.call('DEL', KEYS[2])
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[2])
  return 1
end
return 0
"#,
    )
});
