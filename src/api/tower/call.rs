//! What a `tower` layer sees of a call, and how its errors become statuses.

use bytes::Bytes;
use tokio::time::Instant;

use crate::seam::call::OutgoingCall;
use crate::seam::context::CallContext;
use crate::seam::info::{MethodInfo, ServiceInfo};
use crate::seam::metadata::Metadata;
use crate::seam::status::Status;

/// The error type of the services layers make: any error, boxed, as tower's
/// own layers return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A call as a `tower` layer sees it.
#[derive(Debug)]
#[non_exhaustive]
pub struct CallRequest {
    /// The service called.
    pub service: &'static ServiceInfo,
    /// The method called.
    pub method: &'static MethodInfo,
    /// The call's metadata, which a layer may read or change.
    pub metadata: Metadata,
    /// When the caller stops waiting.
    pub deadline: Instant,
    /// What the innermost service needs to make the call.
    pub(crate) body: Body,
}

/// The part of a call that only the innermost service reads.
#[derive(Debug)]
pub(crate) enum Body {
    /// A call on its way out, to hand to the transport; its `tracestate`
    /// is kept apart, so that layers see users' metadata only.
    Outgoing {
        call: OutgoingCall,
        tracestate: Option<String>,
    },
    /// A call a worker took, to run in its context.
    Incoming {
        context: CallContext,
        payload: Bytes,
    },
}

/// The reply of a call as a `tower` layer sees it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CallReply {
    /// The encoded reply.
    pub payload: Bytes,
}

impl CallReply {
    /// A reply of `payload`.
    pub(crate) fn new(payload: impl Into<Bytes>) -> Self {
        CallReply {
            payload: payload.into(),
        }
    }
}

/// The status a call of `method` fails with when a layer returned `error`.
pub(crate) fn into_status(error: BoxError, method: &MethodInfo) -> Status {
    let error = match error.downcast::<Status>() {
        Ok(status) => return *status,
        Err(error) => error,
    };
    if error.is::<tower::timeout::error::Elapsed>() {
        return Status::deadline_exceeded(format!(
            "{} did not finish within the timeout of a tower layer",
            method.full_name
        ));
    }
    if error.is::<tower::load_shed::error::Overloaded>() {
        return Status::resource_exhausted(format!(
            "{} was shed: the service is at its limit",
            method.full_name
        ));
    }
    Status::unknown(format!(
        "a tower layer around {} failed: {error}",
        method.full_name
    ))
}
