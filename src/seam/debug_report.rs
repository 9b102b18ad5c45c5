//! What debug mode prints when a handler fails: the method, the request as
//! JSON, the error and, for a panic, where it happened. It is the
//! counterpart of dropping into a debugger at the failing call.

use std::backtrace::Backtrace;
use std::sync::{Mutex, Once};

use prost_reflect::DynamicMessage;

use crate::seam::info::{MethodInfo, ServiceInfo};
use crate::seam::status::Status;

/// The last panic seen while debug mode's hook is installed: its message
/// and backtrace. Debug mode runs one handler at a time, so the last panic
/// is the handler's.
static LAST_PANIC: Mutex<Option<(String, String)>> = Mutex::new(None);

/// Installs (once per process) a panic hook that records each panic's
/// backtrace for the report, then runs the previous hook.
pub(crate) fn capture_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let backtrace = Backtrace::force_capture().to_string();
            if let Ok(mut last) = LAST_PANIC.lock() {
                *last = Some((info.to_string(), backtrace));
            }
            previous(info);
        }));
    });
}

/// How a handler failed.
pub(crate) enum Failure<'a> {
    /// It returned an error.
    Status(&'a Status),
    /// It panicked.
    Panic,
}

/// The report for a failed call of `method` with `request`.
pub(crate) fn report(
    service: &ServiceInfo,
    method: &MethodInfo,
    request: &[u8],
    failure: Failure<'_>,
) -> String {
    let mut text = format!("redis-bus debug: {} failed\n", method.full_name);
    text.push_str(&format!(
        "  request ({}): {}\n",
        method.request_type,
        request_json(service, method, request)
    ));
    match failure {
        Failure::Status(status) => {
            text.push_str(&format!("  error: {status}\n"));
            text.push_str("  backtrace: none, the handler returned this error\n");
        }
        Failure::Panic => {
            let last = LAST_PANIC.lock().ok().and_then(|mut last| last.take());
            let (message, backtrace) =
                last.unwrap_or_else(|| ("a panic".to_owned(), "not captured".to_owned()));
            text.push_str(&format!("  error: the handler panicked: {message}\n"));
            text.push_str(&format!("  backtrace:\n{backtrace}\n"));
        }
    }
    text
}

/// `request` decoded with the service's descriptors, as JSON; or why it
/// cannot be shown.
fn request_json(service: &ServiceInfo, method: &MethodInfo, request: &[u8]) -> String {
    let pool = match service.descriptor_pool() {
        Ok(pool) => pool,
        Err(error) => return format!("<descriptors unavailable: {error}>"),
    };
    let Some(descriptor) = pool.get_message_by_name(method.request_type) else {
        return format!("<{} is not described>", method.request_type);
    };
    match DynamicMessage::decode(descriptor, request) {
        Ok(message) => serde_json::to_string(&message)
            .unwrap_or_else(|error| format!("<cannot be shown as JSON: {error}>")),
        Err(error) => format!("<does not decode: {error}>"),
    }
}

/// The message a panic was raised with.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}
