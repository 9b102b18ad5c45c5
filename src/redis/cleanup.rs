//! Removing every key of a bus: `SCAN` with the bus's key pattern and
//! `UNLINK` in batches, never `KEYS` (which blocks Redis for as long as it
//! walks the whole keyspace).

use redis::aio::ConnectionLike;

use super::keys::Keys;

/// How many keys one `SCAN` step looks at.
const SCAN_COUNT: usize = 1000;

/// Counts the keys of the bus, and removes them unless `dry_run`. Returns
/// how many there were.
pub(crate) async fn cleanup(
    connection: &mut impl ConnectionLike,
    keys: &Keys,
    dry_run: bool,
) -> redis::RedisResult<u64> {
    let pattern = keys.pattern();
    let mut cursor: u64 = 0;
    let mut total = 0;
    loop {
        let (next, found): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(SCAN_COUNT)
            .query_async(connection)
            .await?;
        if !found.is_empty() && !dry_run {
            redis::cmd("UNLINK")
                .arg(&found)
                .query_async::<()>(connection)
                .await?;
        }
        total += found.len() as u64;
        if next == 0 {
            return Ok(total);
        }
        cursor = next;
    }
}
