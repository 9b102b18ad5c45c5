//! `call SERVICE/METHOD JSON`: a call made from JSON through the
//! descriptors the service published, its reply printed as JSON.

use prost_reflect::{DynamicMessage, ReflectMessage, SerializeOptions};

use crate::failure::Failure;
use crate::session::Session;
use crate::target::Target;

/// Calls `target` with the request `json`; returns the reply as pretty
/// JSON.
pub(super) async fn run(session: &Session, target: &Target, json: &str) -> Result<String, Failure> {
    let client = session.client(&target.service).await?;
    let request = client
        .request_from_json(&target.method, json)
        .map_err(|status| Failure::refused(&status))?;
    let reply = client.call(&target.method, &request).await;
    // Cache hits and misses are counted here, by the caller: send them
    // before this process exits, whether the call went through or not.
    session.flush_stats().await;
    let reply = reply.map_err(|status| Failure::call(target, &status))?;
    let mut out = pretty_json(&reply)?;
    out.push('\n');
    Ok(out)
}

/// `message` in the protobuf JSON mapping, indented, with fields at their
/// default value written out (a reply of `{"sum": "0"}` rather than `{}`).
fn pretty_json(message: &DynamicMessage) -> Result<String, Failure> {
    let mut bytes = Vec::new();
    let mut serializer = serde_json::Serializer::pretty(&mut bytes);
    let options = SerializeOptions::new().skip_default_fields(false);
    message
        .serialize_with_options(&mut serializer, &options)
        .map_err(|error| {
            Failure::new(format!(
                "the {} does not convert to JSON: {error}",
                message.descriptor().full_name()
            ))
        })?;
    String::from_utf8(bytes)
        .map_err(|error| Failure::new(format!("JSON that is not UTF-8: {error}")))
}

#[cfg(test)]
mod tests {
    use generated_examples::math::math_bus;

    use super::*;

    #[test]
    fn replies_print_every_field() {
        let pool = math_bus::SERVICE.descriptor_pool().expect("decodes");
        let reply = DynamicMessage::new(pool.get_message_by_name("math.SumReply").expect("known"));
        assert_eq!(pretty_json(&reply), Ok("{\n  \"sum\": \"0\"\n}".to_owned()));
    }
}
