//! Hand-written implementations of the sample services: what a team writes
//! after the generator ran. The example workers serve them, and the tests
//! run them as real workers.

mod accounts;
mod math;
mod random;

pub use accounts::AccountsService;
pub use math::MathService;
pub use random::RandomService;
