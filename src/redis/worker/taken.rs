//! A request a worker took, and where it is filed until acknowledged.

use bytes::Bytes;

use super::core::Served;
use crate::redis::envelope::taken_field;

/// Where a taken request is filed in Redis until it is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// In the worker's `taken` hash, under its id (acknowledged by `HDEL`).
    Taken,
    /// In the worker's `landing` list, where a blocking move put it
    /// (acknowledged by `LREM`).
    Landing,
}

/// One request a worker took from a queue.
#[derive(Debug, Clone)]
pub(crate) struct Taken {
    /// The index of the served service it was queued for.
    pub service: usize,
    /// The queued element: id prefix and envelope.
    pub element: Bytes,
    /// Its field in the `taken` hash.
    pub field: Bytes,
    /// Where it is filed.
    pub origin: Origin,
    /// The dead worker it was reclaimed from, if any.
    pub reclaimed_from: Option<String>,
    /// How many times workers took it: 1, plus one per reclaim.
    pub deliveries: u32,
}

impl Taken {
    /// A request taken from service `service`'s queue.
    pub(crate) fn new(service: usize, element: Bytes, origin: Origin) -> Taken {
        Taken {
            service,
            field: taken_field(&element),
            element,
            origin,
            reclaimed_from: None,
            deliveries: 1,
        }
    }

    /// Adds to `pipe` what puts this request back at the head of its queue
    /// and removes it from where it is filed (run them in one transaction).
    pub(crate) fn give_back(&self, served: &Served, pipe: &mut redis::Pipeline) {
        pipe.cmd("LPUSH")
            .arg(&served.queue)
            .arg(&self.element[..])
            .ignore();
        match self.origin {
            Origin::Taken => pipe.cmd("HDEL").arg(&served.taken).arg(&self.field[..]),
            Origin::Landing => pipe
                .cmd("LREM")
                .arg(&served.landing)
                .arg(1)
                .arg(&self.element[..]),
        }
        .ignore();
    }
}
