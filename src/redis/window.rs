//! The window of one stream on Redis, as its sending side keeps it: what
//! it sent that the other side has not read yet, in messages and in bytes.
//!
//! A stream may have at most `window` messages (the call's
//! `stream_window`) and about [`WINDOW_BYTES`] waiting in Redis, whichever
//! binds first: a window in messages alone lets a stream of large messages
//! make Redis hold (and both sides buffer) megabytes, and one in bytes
//! alone lets a stream of tiny messages stall on round trips. The sender
//! takes a message from its source only while there is room, so its own
//! memory is bounded by the window too, and a slow reader makes the
//! producer wait.

use std::collections::VecDeque;

// A push carries at most a batch (a quarter of the window), so that what
// a sender holds while it pushes stays a fraction of the window, and pushes
// overlap with the reader's acknowledgements.
use crate::redis::batch::BATCH_BYTES;

/// About how many bytes of one stream's messages may wait in Redis for its
/// reader (one message more may go when it alone is larger): four batches.
pub(crate) const WINDOW_BYTES: usize = 4 * BATCH_BYTES;

/// What one side sent that the other has not read.
#[derive(Debug)]
pub(crate) struct Window {
    /// The most messages unread.
    messages: u64,
    /// How many messages were sent.
    sent: u64,
    /// How many the other side has read, as it last said.
    read: u64,
    /// The size of each message sent and not read, oldest first.
    unread: VecDeque<usize>,
    /// Their sum.
    unread_bytes: usize,
}

impl Window {
    /// A window of `messages` messages (at least 1) and [`WINDOW_BYTES`].
    pub(crate) fn new(messages: u32) -> Window {
        Window {
            messages: u64::from(messages.max(1)),
            sent: 0,
            read: 0,
            unread: VecDeque::new(),
            unread_bytes: 0,
        }
    }

    /// How many messages were sent.
    pub(crate) fn sent(&self) -> u64 {
        self.sent
    }

    /// Whether one more message may join a batch of `count` messages and
    /// `bytes` bytes not sent yet: the window and the batch have room (an
    /// empty batch always takes one message when the window has room).
    pub(crate) fn has_room(&self, count: usize, bytes: usize) -> bool {
        let unread = self.sent - self.read + count as u64;
        let unread_bytes = self.unread_bytes + bytes;
        unread < self.messages
            && (unread == 0 || unread_bytes < WINDOW_BYTES)
            && (count == 0 || bytes < BATCH_BYTES)
    }

    /// Records that a message of `len` bytes was sent.
    pub(crate) fn record_sent(&mut self, len: usize) {
        self.sent += 1;
        self.unread.push_back(len);
        self.unread_bytes += len;
    }

    /// Records that the other side has read `read` messages (a count that
    /// goes backwards, or past what was sent, changes nothing: it may come
    /// from anyone who can write the caller's keys).
    pub(crate) fn record_read(&mut self, read: u64) {
        let read = read.min(self.sent);
        while self.read < read {
            self.read += 1;
            if let Some(len) = self.unread.pop_front() {
                self.unread_bytes -= len;
            }
        }
    }
}

/// When a reader says how far it has read: after a quarter of the window
/// in messages or in bytes, so that the sender learns of room well before
/// it runs out.
#[derive(Debug)]
pub(crate) struct AckCadence {
    /// Messages between two acknowledgements.
    step: u64,
    /// The count last acknowledged, and the bytes read by then.
    last: Option<(u64, u64)>,
}

impl AckCadence {
    /// The cadence of a window of `messages` messages.
    pub(crate) fn new(messages: u32) -> AckCadence {
        AckCadence {
            step: u64::from(messages / 4).max(1),
            last: None,
        }
    }

    /// Whether having read `read` messages of `bytes` bytes in all is worth
    /// telling the sender.
    pub(crate) fn due(&self, read: u64, bytes: u64) -> bool {
        match self.last {
            None => true,
            Some((count, at)) => {
                read >= count + self.step || bytes >= at + (WINDOW_BYTES / 4) as u64
            }
        }
    }

    /// Records that `read` messages (`bytes` bytes) were acknowledged.
    pub(crate) fn acknowledged(&mut self, read: u64, bytes: u64) {
        self.last = Some((read, bytes));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_in_messages_binds_for_small_messages() {
        let mut window = Window::new(4);
        assert!(window.has_room(3, 300));
        assert!(!window.has_room(4, 400));
        for _ in 0..4 {
            window.record_sent(100);
        }
        assert!(!window.has_room(0, 0));
        window.record_read(1);
        assert!(window.has_room(0, 0));
        assert!(!window.has_room(1, 100));
    }

    #[test]
    fn the_window_in_bytes_binds_for_large_messages_but_one_always_goes() {
        let mut window = Window::new(1024);
        let large = WINDOW_BYTES / 2;
        assert!(window.has_room(0, 0), "an empty window takes any message");
        window.record_sent(WINDOW_BYTES * 3);
        assert!(
            !window.has_room(0, 0),
            "a message larger than the window fills it"
        );
        window.record_read(1);
        window.record_sent(large);
        assert!(window.has_room(0, 0));
        assert!(!window.has_room(1, large), "a second half fills it");
    }

    #[test]
    fn a_batch_carries_about_a_quarter_of_the_window_in_bytes() {
        let window = Window::new(1024);
        assert!(window.has_room(1, BATCH_BYTES - 1));
        assert!(!window.has_room(1, BATCH_BYTES));
        assert!(window.has_room(0, 0));
    }

    #[test]
    fn counts_from_a_reader_cannot_go_back_or_past_what_was_sent() {
        let mut window = Window::new(2);
        window.record_sent(10);
        window.record_sent(10);
        window.record_read(u64::MAX);
        assert!(window.has_room(1, 10));
        window.record_sent(10);
        window.record_read(0);
        assert!(window.has_room(0, 0), "read 2 of 3 stays read");
    }

    #[test]
    fn a_reader_acknowledges_each_quarter_window_in_messages_or_bytes() {
        let mut cadence = AckCadence::new(64);
        assert!(
            cadence.due(0, 0),
            "the first acknowledgement is due at once"
        );
        cadence.acknowledged(0, 0);
        assert!(!cadence.due(15, 15 * 64));
        assert!(cadence.due(16, 16 * 64));
        cadence.acknowledged(16, 16 * 64);
        let quarter = (WINDOW_BYTES / 4) as u64;
        assert!(cadence.due(17, 16 * 64 + quarter));
    }
}
