//! When each live instance of a service last renewed its registration:
//! how a tool tells a worker that beats on time from one that is late.

use std::time::Duration;

/// The last heartbeat of one live instance, in bus time.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Heartbeat {
    /// The instance's id on the bus (as in [`Instance::id`](crate::Instance)).
    pub instance: String,
    /// How long ago it last renewed its registration.
    pub last_beat: Duration,
    /// How long its registration stays live without another beat.
    pub expires_in: Duration,
}
