//! An implementation of `acme.wkt.v1.Echo`, for the tests of this crate
//! and of the `redis-bus` command: each rpc answers with a simple function
//! of its request, so a test knows the reply to expect.

use redis_bus::Status;
use redis_bus::codegen::prost_types::{Any, Duration, ListValue, Struct, Timestamp, Value, value};

use crate::acme::wkt::v1::echo_bus::Echo;

/// Answers each rpc with a simple function of its request: `Later` adds a
/// minute, `Double` doubles whole seconds, `Describe` adds a `count`
/// field, `Wrap` repeats the value, `Unpack` returns the `Any` as it came.
pub struct Echoes;

#[redis_bus::codegen::async_trait]
impl Echo for Echoes {
    async fn ping(&self, _: ()) -> Result<(), Status> {
        Ok(())
    }
    async fn now(&self, _: ()) -> Result<Timestamp, Status> {
        Ok(Timestamp {
            seconds: 1_700_000_000,
            nanos: 0,
        })
    }
    async fn later(&self, time: Timestamp) -> Result<Timestamp, Status> {
        Ok(Timestamp {
            seconds: time.seconds + 60,
            nanos: time.nanos,
        })
    }
    async fn double(&self, d: Duration) -> Result<Duration, Status> {
        Ok(Duration {
            seconds: d.seconds * 2,
            nanos: 0,
        })
    }
    async fn shout(&self, text: String) -> Result<String, Status> {
        Ok(text.to_uppercase())
    }
    async fn increment(&self, n: i64) -> Result<i64, Status> {
        Ok(n + 1)
    }
    async fn widen(&self, n: u32) -> Result<u64, Status> {
        Ok(u64::from(n) << 32)
    }
    async fn negate(&self, b: bool) -> Result<bool, Status> {
        Ok(!b)
    }
    async fn half(&self, x: f64) -> Result<f32, Status> {
        Ok((x / 2.0) as f32)
    }
    async fn reverse(&self, mut bytes: Vec<u8>) -> Result<Vec<u8>, Status> {
        bytes.reverse();
        Ok(bytes)
    }
    async fn describe(&self, mut object: Struct) -> Result<Struct, Status> {
        let count = object.fields.len() as f64;
        object.fields.insert(
            "count".to_owned(),
            Value {
                kind: Some(value::Kind::NumberValue(count)),
            },
        );
        Ok(object)
    }
    async fn wrap(&self, value: Value) -> Result<ListValue, Status> {
        Ok(ListValue {
            values: vec![value.clone(), value],
        })
    }
    async fn unpack(&self, any: Any) -> Result<Any, Status> {
        Ok(any)
    }
}
