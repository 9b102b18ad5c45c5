//! Removing every key of a bus: `SCAN` with the bus's key pattern and
//! `UNLINK`, never `KEYS` (which blocks Redis for as long as it walks the
//! whole keyspace). On a cluster, every master is scanned, and keys are
//! unlinked one per command, since one command may not span slots.

use redis::aio::ConnectionLike;

use super::connection::Connector;
use super::keys::Keys;
use super::shared::SharedConnection;

/// How many keys one `SCAN` step looks at.
const SCAN_COUNT: usize = 1000;

/// Counts the keys of the bus, and removes them unless `dry_run`. Returns
/// how many there were.
pub(crate) async fn cleanup(
    connector: &Connector,
    connection: &SharedConnection,
    keys: &Keys,
    dry_run: bool,
) -> Result<u64, crate::seam::error::Error> {
    let fail = |error| connector.error("cannot clean up the bus at", error);
    if !connector.is_cluster() {
        return scan(&mut connection.clone(), keys, dry_run)
            .await
            .map_err(fail);
    }
    let nodes: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query_async(&mut connection.clone())
        .await
        .map_err(fail)?;
    let mut total = 0;
    for (host, port) in masters(&nodes) {
        let mut node = connector.node(&host, port).await?;
        total += scan(&mut node, keys, dry_run).await.map_err(fail)?;
    }
    Ok(total)
}

/// Scans one node, unlinking what matches unless `dry_run`.
async fn scan(
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
            let mut pipe = redis::pipe();
            for key in &found {
                pipe.cmd("UNLINK").arg(key).ignore();
            }
            pipe.query_async::<()>(connection).await?;
        }
        total += found.len() as u64;
        if next == 0 {
            return Ok(total);
        }
        cursor = next;
    }
}

/// The `host:port` of each master in a `CLUSTER NODES` answer.
fn masters(nodes: &str) -> Vec<(String, u16)> {
    nodes
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (address, flags) = (fields.get(1)?, fields.get(2)?);
            if !flags.split(',').any(|flag| flag == "master") || flags.contains("fail") {
                return None;
            }
            let address = address.split('@').next()?;
            let (host, port) = address.rsplit_once(':')?;
            Some((host.to_owned(), port.parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masters_are_read_from_cluster_nodes() {
        let nodes = "a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460\n\
                     b2 127.0.0.1:7001@17001 slave a1 0 0 1 connected\n\
                     c3 127.0.0.1:7002@17002 master,fail - 0 0 2 disconnected\n\
                     d4 127.0.0.1:7003@17003 master - 0 0 3 connected 5461-16383\n";
        assert_eq!(
            masters(nodes),
            vec![
                ("127.0.0.1".to_owned(), 7000),
                ("127.0.0.1".to_owned(), 7003)
            ]
        );
    }
}
