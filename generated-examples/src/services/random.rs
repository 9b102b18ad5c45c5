//! The random sample: UUIDs, passwords, and a method that always fails.

use rand::Rng;
use rand::distr::Alphanumeric;
use redis_bus::Status;

use crate::random::random_bus::Random;
use crate::random::{
    ErrorReply, ErrorRequest, PasswordReply, PasswordRequest, UuidReply, UuidRequest,
};

/// The length of a password whose request gives none.
pub const DEFAULT_PASSWORD_LENGTH: u32 = 12;

/// The longest password the service makes.
pub const MAX_PASSWORD_LENGTH: u32 = 1024;

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

    async fn error(&self, request: ErrorRequest) -> Result<ErrorReply, Status> {
        Err(Status::unknown(request.message))
    }
}
