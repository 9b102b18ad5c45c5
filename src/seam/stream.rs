//! Streamed replies as both sides of the seam see them: a handler of a
//! server-streaming rpc returns a [`ReplyStream`] of messages; the caller
//! reads an encoded stream that ends with the call's final status.

use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;

use crate::seam::status::Status;

/// The messages a server-streaming handler sends, each a message or the
/// status that ends the stream. The stream ends with `OK` when it ends
/// without an error; an `Err` item ends it with that status (later items
/// are not read).
///
/// Build one from any stream with `Box::pin`, e.g.
/// `Box::pin(futures_util::stream::iter(items.into_iter().map(Ok)))`, or
/// from a channel's receiver.
pub type ReplyStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// A streamed reply as a transport carries it to the caller: each item an
/// encoded message, or the status the stream ended with (after which the
/// stream yields nothing). A stream that ends without an `Err` ended `OK`.
pub(crate) type EncodedReplies =
    Pin<Box<dyn Stream<Item = Result<Bytes, Status>> + Send + 'static>>;

/// How many messages a worker may send ahead of those the caller has read,
/// unless the call says otherwise (`CallOptions::stream_window`).
pub const DEFAULT_STREAM_WINDOW: u32 = 64;

/// The largest window a worker grants, whatever a request asks for: what
/// one stream can make Redis hold is at most this many messages.
pub const MAX_STREAM_WINDOW: u32 = 4096;

/// The window a worker grants for a request asking for `asked` (0: the
/// caller said nothing).
pub(crate) fn granted_window(asked: u32) -> u32 {
    match asked {
        0 => DEFAULT_STREAM_WINDOW,
        asked => asked.min(MAX_STREAM_WINDOW),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_grants_the_default_or_at_most_its_limit() {
        assert_eq!(granted_window(0), DEFAULT_STREAM_WINDOW);
        assert_eq!(granted_window(1), 1);
        assert_eq!(granted_window(u32::MAX), MAX_STREAM_WINDOW);
    }
}
