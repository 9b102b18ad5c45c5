//! Streams as both sides of the seam see them: a handler of a
//! server-streaming rpc returns a [`ReplyStream`] of messages, which its
//! caller reads as [`EncodedMessages`] that end with the call's status; a
//! client-streaming call sends [`EncodedRequests`], which its handler reads
//! as [`EncodedMessages`].

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

/// A stream of encoded messages as a transport carries it: the replies of
/// a server-streaming call to its caller, the requests of a
/// client-streaming call to its handler. Each item is a message, or the
/// status the stream ended with (after which it yields nothing); a stream
/// that ends without an `Err` ended well.
pub type EncodedMessages = Pin<Box<dyn Stream<Item = Result<Bytes, Status>> + Send + 'static>>;

/// The requests of a client-streaming call on their way out, encoded.
pub(crate) type EncodedRequests = Pin<Box<dyn Stream<Item = Vec<u8>> + Send + 'static>>;

/// How many messages one side of a stream may send ahead of those the
/// other has read, unless the call says otherwise
/// (`CallOptions::stream_window`). On Redis a stream also never has more
/// than about 1 MiB of messages waiting, whatever its window: the window
/// binds for small messages, the megabyte for large ones.
pub const DEFAULT_STREAM_WINDOW: u32 = 1024;

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
