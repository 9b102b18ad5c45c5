//! How requests and replies are laid out in Redis.
//!
//! A queued request is a 16-byte [`CallId`] followed by a protobuf
//! `redis_bus.wire.Request`. The prefix lets the take script file each
//! request in the worker's `taken` hash under a fixed-size field without
//! parsing protobuf in Lua, and lets the worker acknowledge a whole batch
//! with one `HDEL` of ids instead of sending request bytes back. A reply is
//! a plain `redis_bus.wire.Reply` carrying the same id.

use bytes::Bytes;
use prost::Message;

use crate::seam::status::{Code, Status};
use crate::seam::wire;

/// Length of the id in front of each queued request.
pub(crate) const ID_LEN: usize = 16;

/// The id of one call: 128 random bits, so that no other client can guess
/// a call's id and aim a forged reply at it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct CallId(pub [u8; ID_LEN]);

impl CallId {
    /// A fresh random id.
    pub(crate) fn random() -> CallId {
        CallId(rand::random())
    }

    /// The id at the head of a queued element or in a reply, if it is one.
    pub(crate) fn from_slice(bytes: &[u8]) -> Option<CallId> {
        bytes.try_into().ok().map(CallId)
    }
}

impl std::fmt::Display for CallId {
    /// 32 hex digits, as logs and traces show it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

impl std::fmt::Debug for CallId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CallId({self})")
    }
}

/// A queued request: its id prefix, then the encoded envelope.
pub(crate) fn encode_request(id: CallId, request: &wire::Request) -> Vec<u8> {
    let mut element = Vec::with_capacity(ID_LEN + request.encoded_len());
    element.extend_from_slice(&id.0);
    request
        .encode(&mut element)
        .expect("a Vec grows to fit the request");
    element
}

/// The field under which the take script files `element` in the `taken`
/// hash: its first 16 bytes (the whole element when it is shorter, as Lua's
/// `string.sub` does), so that garbage pushed by hand is filed too.
pub(crate) fn taken_field(element: &Bytes) -> Bytes {
    element.slice(..element.len().min(ID_LEN))
}

/// Why a queued element is not a request.
#[derive(Debug)]
pub(crate) struct Malformed {
    /// What kind of junk it is, for counting: `too short`, `undecodable`.
    pub kind: &'static str,
    /// What exactly is wrong with it.
    pub reason: String,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Decodes a queued request into its id and envelope; the error says why
/// it is not one.
pub(crate) fn decode_request(element: &Bytes) -> Result<(CallId, wire::Request), Malformed> {
    let id =
        CallId::from_slice(&element[..element.len().min(ID_LEN)]).ok_or_else(|| Malformed {
            kind: "too short",
            reason: format!(
                "{} bytes is shorter than the {ID_LEN}-byte request id",
                element.len()
            ),
        })?;
    let request = wire::Request::decode(element.slice(ID_LEN..)).map_err(|error| Malformed {
        kind: "undecodable",
        reason: format!("the envelope does not decode: {error}"),
    })?;
    Ok((id, request))
}

/// The reply of a unary call, or the final reply of a stream that a
/// worker refused or lost before it started.
pub(crate) fn encode_reply(id: CallId, outcome: Result<Vec<u8>, Status>) -> Vec<u8> {
    encode_final(id, outcome, 0)
}

/// The final reply of a call: its outcome and, of a streaming call, how
/// many messages were streamed before it.
pub(crate) fn encode_final(id: CallId, outcome: Result<Vec<u8>, Status>, sent: u64) -> Vec<u8> {
    let outcome = match outcome {
        Ok(payload) => wire::reply::Outcome::Payload(Bytes::from(payload)),
        Err(status) => wire::reply::Outcome::Status(wire::Status {
            code: status.code().as_i32(),
            details: status.details().clone(),
            message: status.into_message(),
        }),
    };
    wire::Reply {
        id: Bytes::copy_from_slice(&id.0),
        outcome: Some(outcome),
        seq: sent,
        streamed: false,
    }
    .encode_to_vec()
}

/// Message `seq` (1, 2, ...) of a server-streaming call.
pub(crate) fn encode_streamed(id: CallId, seq: u64, message: Vec<u8>) -> Vec<u8> {
    wire::Reply {
        id: Bytes::copy_from_slice(&id.0),
        outcome: Some(wire::reply::Outcome::Payload(Bytes::from(message))),
        seq,
        streamed: true,
    }
    .encode_to_vec()
}

/// A reply as the reader hands it on.
#[derive(Debug)]
pub(crate) struct DecodedReply {
    /// The call it belongs to.
    pub id: CallId,
    /// Its payload, or the status of a failed call.
    pub outcome: Result<Bytes, Status>,
    /// Where it stands in its call.
    pub position: Position,
}

/// Where a reply stands in its call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Position {
    /// Message `n` (1, 2, ...) of a stream.
    Streamed(u64),
    /// The call's final reply, after `n` streamed messages (0 for a unary
    /// call, or when the worker that sent it did not serve the stream).
    Final(u64),
}

/// Decodes a reply taken from a reply list.
pub(crate) fn decode_reply(bytes: Bytes) -> Result<DecodedReply, String> {
    let reply =
        wire::Reply::decode(bytes).map_err(|error| format!("a reply does not decode: {error}"))?;
    let id = CallId::from_slice(&reply.id)
        .ok_or_else(|| format!("a reply's id is {} bytes, not {ID_LEN}", reply.id.len()))?;
    let outcome = match reply.outcome {
        Some(wire::reply::Outcome::Payload(payload)) => Ok(payload),
        Some(wire::reply::Outcome::Status(status)) => {
            Err(Status::new(Code::from_i32(status.code), status.message)
                .with_details(status.details))
        }
        None => Err(Status::internal(
            "the worker sent a reply without an outcome",
        )),
    };
    let position = if reply.streamed {
        Position::Streamed(reply.seq)
    } else {
        Position::Final(reply.seq)
    };
    Ok(DecodedReply {
        id,
        outcome,
        position,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_prefix_requests_and_name_their_taken_field() {
        let id = CallId::random();
        let request = wire::Request {
            method: "Sum".into(),
            ..Default::default()
        };
        let element = Bytes::from(encode_request(id, &request));
        assert_eq!(&taken_field(&element)[..], &id.0);
        assert_eq!(decode_request(&element).unwrap(), (id, request));
        assert_ne!(CallId::random(), id, "ids are random per call");
    }

    #[test]
    fn garbage_is_reported_not_panicked_on() {
        let short = Bytes::from_static(b"hello");
        assert_eq!(taken_field(&short), short);
        assert!(
            decode_request(&short)
                .unwrap_err()
                .reason
                .contains("shorter")
        );
        let junk = Bytes::from(vec![0xff; 40]);
        let malformed = decode_request(&junk).unwrap_err();
        assert_eq!(malformed.kind, "undecodable");
        assert!(malformed.reason.contains("does not decode"));
    }

    #[test]
    fn replies_carry_payloads_and_statuses() {
        let (first, second) = (CallId::random(), CallId::random());
        let ok = decode_reply(encode_reply(first, Ok(vec![1, 2])).into()).unwrap();
        assert_eq!(ok.id, first);
        assert_eq!(ok.outcome, Ok(Bytes::from_static(&[1, 2])));
        assert_eq!(ok.position, Position::Final(0));
        let status = Status::not_found("no such user").with_details(vec![9]);
        let failed = decode_reply(encode_final(second, Err(status.clone()), 7).into()).unwrap();
        assert_eq!((failed.id, failed.outcome), (second, Err(status)));
        assert_eq!(failed.position, Position::Final(7));
        let streamed = decode_reply(encode_streamed(first, 3, vec![4]).into()).unwrap();
        assert_eq!(streamed.position, Position::Streamed(3));
        assert_eq!(streamed.outcome, Ok(Bytes::from_static(&[4])));
        let short = wire::Reply {
            id: Bytes::from_static(&[1, 2, 3]),
            ..Default::default()
        };
        assert!(
            decode_reply(short.encode_to_vec().into())
                .unwrap_err()
                .contains("3 bytes")
        );
    }
}
