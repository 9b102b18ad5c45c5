//! The accounts sample: a service whose handler calls two other services
//! through their generated clients.

use redis_bus::{Bus, Status};

use crate::accounts::accounts_bus::Accounts;
use crate::accounts::{Account, OpenRequest};
use crate::math::NowRequest;
use crate::math::math_bus::MathClient;
use crate::random::random_bus::RandomClient;
use crate::random::{PasswordRequest, UuidRequest};

/// Implements `accounts.Accounts` with the random and math services.
#[derive(Debug, Clone)]
pub struct AccountsService {
    /// Makes ids and passwords.
    random: RandomClient,
    /// Tells the time.
    math: MathClient,
}

impl AccountsService {
    /// The service, calling its peers on `bus`.
    pub fn new(bus: &Bus) -> Self {
        AccountsService {
            random: RandomClient::new(bus),
            math: MathClient::new(bus),
        }
    }
}

#[redis_bus::codegen::async_trait]
impl Accounts for AccountsService {
    async fn open(&self, request: OpenRequest) -> Result<Account, Status> {
        if request.name.trim().is_empty() {
            return Err(Status::invalid_argument("an account needs a name"));
        }
        // Each call below inherits this call's deadline: if the caller
        // gives up, so do they.
        let (id, password) = tokio::try_join!(
            self.random.uuid(UuidRequest {}),
            self.random.password(PasswordRequest {
                length: request.password_length,
            }),
        )?;
        // math.Math/Now is cached per seed: an account id's hash makes
        // each account's opening time its own.
        let seed = id.uuid.bytes().fold(0i64, |hash, byte| {
            hash.wrapping_mul(31).wrapping_add(i64::from(byte))
        });
        let now = self.math.now(NowRequest { seed }).await?;
        Ok(Account {
            id: id.uuid,
            name: request.name,
            password: password.password,
            opened_at: now.time,
        })
    }
}
