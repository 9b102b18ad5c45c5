//! The math sample: a pure sum and a clock.

use std::time::{SystemTime, UNIX_EPOCH};

use redis_bus::Status;
use redis_bus::codegen::prost_types::Timestamp;

use crate::math::math_bus::Math;
use crate::math::{NowReply, NowRequest, SumReply, SumRequest};

/// Implements `math.Math`.
#[derive(Debug, Default, Clone, Copy)]
pub struct MathService;

#[redis_bus::codegen::async_trait]
impl Math for MathService {
    async fn sum(&self, request: SumRequest) -> Result<SumReply, Status> {
        let sum = request.a.checked_add(request.b).ok_or_else(|| {
            Status::out_of_range(format!(
                "{} + {} does not fit in 64 bits",
                request.a, request.b
            ))
        })?;
        Ok(SumReply { sum })
    }

    async fn now(&self, _request: NowRequest) -> Result<NowReply, Status> {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Status::internal("the worker's clock is before 1970"))?;
        Ok(NowReply {
            time: Some(Timestamp {
                seconds: since_epoch.as_secs() as i64,
                nanos: since_epoch.subsec_nanos() as i32,
            }),
        })
    }
}
