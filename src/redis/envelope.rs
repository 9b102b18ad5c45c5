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

/// A reply carrying `outcome` for call `id`.
pub(crate) fn encode_reply(id: CallId, outcome: Result<Vec<u8>, Status>) -> Vec<u8> {
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
    }
    .encode_to_vec()
}

/// Decodes a reply into its call id and outcome.
pub(crate) fn decode_reply(bytes: Bytes) -> Result<(CallId, Result<Bytes, Status>), String> {
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
    Ok((id, outcome))
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
        let ok = encode_reply(first, Ok(vec![1, 2]));
        assert_eq!(
            decode_reply(ok.into()).unwrap(),
            (first, Ok(Bytes::from_static(&[1, 2])))
        );
        let status = Status::not_found("no such user").with_details(vec![9]);
        let failed = encode_reply(second, Err(status.clone()));
        assert_eq!(decode_reply(failed.into()).unwrap(), (second, Err(status)));
        let short = wire::Reply {
            id: Bytes::from_static(&[1, 2, 3]),
            outcome: None,
        };
        assert!(
            decode_reply(short.encode_to_vec().into())
                .unwrap_err()
                .contains("3 bytes")
        );
    }
}
