//! How requests and replies are laid out in Redis.
//!
//! A queued request is a 16-byte [`RequestId`] followed by a protobuf
//! `redis_bus.wire.Request`. The prefix lets the take script file each
//! request in the worker's `taken` hash under a fixed-size field without
//! parsing protobuf in Lua, and lets the worker acknowledge a whole batch
//! with one `HDEL` of ids instead of sending request bytes back. A reply is
//! a plain `redis_bus.wire.Reply`.

use bytes::Bytes;
use prost::Message;

use crate::seam::status::{Code, Status};
use crate::seam::wire;

/// Length of the id in front of each queued request.
pub(crate) const ID_LEN: usize = 16;

/// The id of a call: the calling client and its call counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RequestId {
    /// Random per client (per bus handle).
    pub client: u64,
    /// Increasing per client.
    pub call: u64,
}

impl RequestId {
    /// The id as it prefixes the queued request.
    pub(crate) fn to_bytes(self) -> [u8; ID_LEN] {
        let mut bytes = [0; ID_LEN];
        bytes[..8].copy_from_slice(&self.client.to_be_bytes());
        bytes[8..].copy_from_slice(&self.call.to_be_bytes());
        bytes
    }
}

/// A queued request: its id prefix, then the encoded envelope.
pub(crate) fn encode_request(id: RequestId, request: &wire::Request) -> Vec<u8> {
    let mut element = Vec::with_capacity(ID_LEN + request.encoded_len());
    element.extend_from_slice(&id.to_bytes());
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

/// Decodes a queued request; the error says why it is not one.
pub(crate) fn decode_request(element: &Bytes) -> Result<wire::Request, String> {
    if element.len() < ID_LEN {
        return Err(format!(
            "{} bytes is shorter than the {ID_LEN}-byte request id",
            element.len()
        ));
    }
    wire::Request::decode(element.slice(ID_LEN..))
        .map_err(|error| format!("the envelope does not decode: {error}"))
}

/// A reply carrying `outcome` for call `call_id`.
pub(crate) fn encode_reply(call_id: u64, outcome: Result<Vec<u8>, Status>) -> Vec<u8> {
    let outcome = match outcome {
        Ok(payload) => wire::reply::Outcome::Payload(Bytes::from(payload)),
        Err(status) => wire::reply::Outcome::Status(wire::Status {
            code: status.code().as_i32(),
            details: status.details().clone(),
            message: status.into_message(),
        }),
    };
    wire::Reply {
        call_id,
        outcome: Some(outcome),
    }
    .encode_to_vec()
}

/// Decodes a reply into its call id and outcome.
pub(crate) fn decode_reply(bytes: Bytes) -> Result<(u64, Result<Bytes, Status>), String> {
    let reply =
        wire::Reply::decode(bytes).map_err(|error| format!("a reply does not decode: {error}"))?;
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
    Ok((reply.call_id, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_prefix_requests_and_name_their_taken_field() {
        let id = RequestId { client: 7, call: 9 };
        let request = wire::Request {
            call_id: 9,
            method: "Sum".into(),
            ..Default::default()
        };
        let element = Bytes::from(encode_request(id, &request));
        assert_eq!(&taken_field(&element)[..], &id.to_bytes());
        assert_eq!(decode_request(&element).unwrap(), request);
    }

    #[test]
    fn garbage_is_reported_not_panicked_on() {
        let short = Bytes::from_static(b"hello");
        assert_eq!(taken_field(&short), short);
        assert!(decode_request(&short).unwrap_err().contains("shorter"));
        let junk = Bytes::from(vec![0xff; 40]);
        assert!(
            decode_request(&junk)
                .unwrap_err()
                .contains("does not decode")
        );
    }

    #[test]
    fn replies_carry_payloads_and_statuses() {
        let ok = encode_reply(3, Ok(vec![1, 2]));
        assert_eq!(
            decode_reply(ok.into()).unwrap(),
            (3, Ok(Bytes::from_static(&[1, 2])))
        );
        let status = Status::not_found("no such user").with_details(vec![9]);
        let failed = encode_reply(4, Err(status.clone()));
        assert_eq!(decode_reply(failed.into()).unwrap(), (4, Err(status)));
    }
}
