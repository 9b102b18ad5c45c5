//! `ROLE`: whether a node is a master, and how many replicas it lists.
//!
//! A worker that must know its writes survive a failover asks the master
//! it writes to how many replicas copy it (a `WAIT` for that many), and
//! asks again when they do not all answer: a node that is no longer a
//! master lost, or will lose, what it was sent.

use redis::aio::ConnectionLike;
use redis::{RedisResult, Value};

/// The replicas the node behind `connection` lists if it is a master
/// (`ROLE` lists those connected to it now), `None` if it is not one.
pub(crate) async fn replicas_of_master(
    connection: &mut impl ConnectionLike,
) -> RedisResult<Option<usize>> {
    let role: Vec<Value> = redis::cmd("ROLE").query_async(connection).await?;
    Ok(match role.first() {
        Some(Value::BulkString(kind)) if kind == b"master" => Some(match role.get(2) {
            Some(Value::Array(replicas)) => replicas.len(),
            _ => 0,
        }),
        _ => None,
    })
}
