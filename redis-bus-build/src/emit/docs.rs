//! The part of an rpc's docs that the proto's comments cannot give: its
//! redis-bus options, so that a reader of `get_item`'s page learns that its
//! replies are cached, for how long, and what deadline a call gets.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{MethodModel, ServiceModel};

/// `#[doc]` attributes listing the options of `method`, as a paragraph
/// that follows the rest of its docs.
pub(crate) fn method_options(service: &ServiceModel, method: &MethodModel) -> TokenStream {
    let options = &method.options;
    let cache = match (&options.cache_key, options.cache_ttl_seconds) {
        (Some(key), Some(ttl)) => format!(
            " - cached: under the key {}, for {ttl} s (`cache_key`, `cache_ttl_seconds`)",
            code(key)
        ),
        (Some(key), None) => format!(
            " - cached: under the key {}, until cleared (`cache_key`)",
            code(key)
        ),
        _ => " - cached: no".to_owned(),
    };
    let deadline = match options.timeout_ms {
        Some(ms) => format!(" - deadline: {ms} ms unless the call sets one (`timeout_ms`)"),
        None => " - deadline: the bus's default unless the call sets one".to_owned(),
    };
    let idempotent = if method.server_streaming {
        " - streaming: the reply is a stream of messages; fails with `UNAVAILABLE` (after \
         the messages that came) if its worker dies mid-stream, and never runs again"
    } else if method.client_streaming {
        " - streaming: the request is a stream of messages; fails with `UNAVAILABLE` if its \
         worker dies mid-stream, and never runs again"
    } else if options.idempotent {
        " - idempotent: yes, run again if its worker dies while handling it (`idempotent`)"
    } else {
        " - idempotent: no, fails with `UNAVAILABLE` if its worker dies while handling it"
    };
    let version = format!(" - service version: {}", service.version);
    let lines = [
        String::new(),
        " Options:".to_owned(),
        String::new(),
        cache,
        deadline,
        idempotent.to_owned(),
        version,
    ];
    quote!(#( #[doc = #lines] )*)
}

/// `text` as a markdown code span, whatever backticks it holds.
fn code(text: &str) -> String {
    let fence = if text.contains('`') { "``" } else { "`" };
    format!("{fence}{text}{fence}")
}
