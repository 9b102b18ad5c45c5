//! The side channel: a Redis of its own, which no fault touches, where the
//! worker processes count each handler run per call.

use std::collections::HashMap;

use redis_bus_testing::RedisServer;

use crate::load::{Method, Outcome};

/// The side channel's server.
pub struct Side {
    server: RedisServer,
}

impl Side {
    pub fn start() -> Side {
        Side {
            server: RedisServer::start().expect("the side channel's redis-server starts"),
        }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// How many times the handler ran for each of `outcomes`.
    pub async fn runs(&self, outcomes: &[Outcome]) -> HashMap<(Method, i64), i64> {
        let client = redis::Client::open(self.url()).expect("the side channel's URL");
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .expect("the side channel connects");
        let mut runs = HashMap::new();
        for chunk in outcomes.chunks(500) {
            let keys: Vec<String> = chunk.iter().map(run_key).collect();
            let counts: Vec<Option<i64>> = redis::cmd("MGET")
                .arg(&keys)
                .query_async(&mut connection)
                .await
                .expect("MGET of the runs");
            for (outcome, count) in chunk.iter().zip(counts) {
                runs.insert((outcome.method, outcome.key), count.unwrap_or(0));
            }
        }
        runs
    }
}

/// The side channel's key counting `outcome`'s runs (see the worker).
fn run_key(outcome: &Outcome) -> String {
    match outcome.method {
        Method::Sum => format!("runs:sum:{}", outcome.key),
        Method::Now => format!("runs:now:{}", outcome.key),
    }
}
