//! The random sample: UUIDs (one, or a stream of them), passwords, one
//! item picked from a stream of them, and a method that always fails.

use rand::Rng;
use rand::distr::Alphanumeric;
use std::time::Duration;

use futures_util::StreamExt;
use redis_bus::{ReplyStream, Status, Streaming};

use crate::random::random_bus::Random;
use crate::random::{
    ErrorReply, ErrorRequest, PasswordReply, PasswordRequest, PickReply, PickRequest, UuidReply,
    UuidRequest, UuidsRequest,
};

/// The length of a password whose request gives none.
pub const DEFAULT_PASSWORD_LENGTH: u32 = 12;

/// The longest password the service makes.
pub const MAX_PASSWORD_LENGTH: u32 = 1024;

/// The most UUIDs one `Uuids` call streams.
pub const MAX_UUIDS: u32 = 10_000_000;

/// Implements `random.Random`.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomService;

#[redis_bus::codegen::async_trait]
impl Random for RandomService {
    async fn uuid(&self, _request: UuidRequest) -> Result<UuidReply, Status> {
        Ok(UuidReply {
            uuid: uuid::Uuid::new_v4().to_string(),
        })
    }

    async fn password(&self, request: PasswordRequest) -> Result<PasswordReply, Status> {
        let length = request.length.unwrap_or(DEFAULT_PASSWORD_LENGTH);
        if !(1..=MAX_PASSWORD_LENGTH).contains(&length) {
            return Err(Status::invalid_argument(format!(
                "length must be between 1 and {MAX_PASSWORD_LENGTH}, not {length}"
            )));
        }
        let password = rand::rng()
            .sample_iter(Alphanumeric)
            .take(length as usize)
            .map(char::from)
            .collect();
        Ok(PasswordReply { password })
    }

    async fn uuids(&self, request: UuidsRequest) -> Result<ReplyStream<UuidReply>, Status> {
        if request.count > MAX_UUIDS {
            return Err(Status::invalid_argument(format!(
                "count must be at most {MAX_UUIDS}, not {}",
                request.count
            )));
        }
        let interval = Duration::from_millis(request.interval_ms.into());
        let uuids = futures_util::stream::iter(0..request.count).then(move |index| async move {
            if index > 0 && !interval.is_zero() {
                tokio::time::sleep(interval).await;
            }
            Ok(UuidReply {
                uuid: uuid::Uuid::new_v4().to_string(),
            })
        });
        Ok(Box::pin(uuids))
    }

    async fn pick(&self, mut request: Streaming<PickRequest>) -> Result<PickReply, Status> {
        // Reservoir sampling: the n-th item replaces the pick with
        // probability 1/n, so each is picked with probability 1/count.
        let mut picked = PickReply::default();
        while let Some(next) = request.message().await? {
            picked.count += 1;
            if rand::rng().random_range(0..picked.count) == 0 {
                picked.item = next.item;
            }
        }
        Ok(picked)
    }

    async fn error(&self, request: ErrorRequest) -> Result<ErrorReply, Status> {
        Err(Status::unknown(request.message))
    }
}
