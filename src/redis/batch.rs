//! How much one batch of the transport carries: the writer's requests, the
//! replier's replies.
//!
//! Batches are capped in bytes as well as in count. A batch is held a few
//! times over while it is written (the queued elements, the command's
//! arguments, the encoded pipeline, the connection's buffer), so 256
//! requests of 4 KiB made each side's peak memory grow by megabytes; a
//! quarter of a megabyte per batch already divides the commands per call
//! by dozens for messages of that size.

/// About the most bytes one batch carries (the message that crosses it
/// still goes in).
pub(crate) const BATCH_BYTES: usize = 256 << 10;
