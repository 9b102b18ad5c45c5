//! `call SERVICE/METHOD [JSON | -d JSON|@FILE|@- | --lines]`: calls made
//! from JSON through the descriptors the service published, replies
//! printed as JSON.

use prost_reflect::{DynamicMessage, MessageDescriptor, ReflectMessage, SerializeOptions};
use redis_bus::{DynamicClient, Status};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use crate::failure::Failure;
use crate::output::print;
use crate::session::Session;
use crate::target::Target;

use super::streaming;

/// The request's JSON: the argument, else `--data` (text, `@FILE` or
/// `@-` for stdin), else `{}`.
pub(super) async fn request_text(
    json: Option<&str>,
    data: Option<&str>,
) -> Result<String, Failure> {
    match (json, data) {
        (Some(json), _) => Ok(json.to_owned()),
        (None, Some("@-")) => {
            let mut text = String::new();
            tokio::io::stdin()
                .read_to_string(&mut text)
                .await
                .map_err(|error| {
                    Failure::new(format!("cannot read the request from stdin: {error}"))
                })?;
            Ok(text)
        }
        (None, Some(data)) => match data.strip_prefix('@') {
            Some(path) => tokio::fs::read_to_string(path).await.map_err(|error| {
                Failure::new(format!("cannot read the request from {path}: {error}"))
            }),
            None => Ok(data.to_owned()),
        },
        (None, None) => Ok("{}".to_owned()),
    }
}

/// Calls `target` with the request of `json` or `data` (see
/// [`request_text`]); returns the reply as pretty JSON (one line with
/// `--json`). Streaming rpcs go through `streaming`.
pub(super) async fn run(
    session: &Session,
    target: &Target,
    json: Option<&str>,
    data: Option<&str>,
) -> Result<String, Failure> {
    let (client, target) = session.method(target).await?;
    let (server_streaming, client_streaming) = client
        .info()
        .method(&target.method)
        .map_or((false, false), |method| {
            (method.server_streaming, method.client_streaming)
        });
    let outcome = if client_streaming {
        streaming::requests(&client, &target, json, data, !session.json()).await
    } else {
        let text = request_text(json, data).await?;
        if server_streaming {
            streaming::replies(&client, &target, &text).await
        } else {
            call_one(&client, &target, &text).await.and_then(|reply| {
                let mut out = to_json(&reply, !session.json())?;
                out.push('\n');
                Ok(out)
            })
        }
    };
    // Cache hits and misses are counted here, by the caller: send them
    // before this process exits, whether the call went through or not.
    session.flush_stats().await;
    outcome
}

/// Calls `target` once per line of stdin, printing one JSON line per
/// request as its reply comes: `{"reply": ...}` or `{"error": ...}`.
/// Blank lines are skipped. Fails at the end when any call failed, with
/// the exit status of the first failure.
pub(super) async fn lines(session: &Session, target: &Target) -> Result<String, Failure> {
    let (client, target) = session.method(target).await?;
    if client
        .info()
        .method(&target.method)
        .is_some_and(|method| method.server_streaming || method.client_streaming)
    {
        return Err(Failure::usage(format!(
            "{target} is a streaming rpc: call it without --lines (a client stream reads \
             its requests from standard input, one JSON per line)"
        )));
    }
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let (mut count, mut failed, mut first_failure) = (0u64, 0u64, None::<Failure>);
    while let Some(line) = lines
        .next_line()
        .await
        .map_err(|error| Failure::new(format!("cannot read stdin: {error}")))?
    {
        if line.trim().is_empty() {
            continue;
        }
        count += 1;
        let result = match call_one(&client, &target, &line).await {
            Ok(reply) => to_json(&reply, false).map(|reply| format!("{{\"reply\":{reply}}}")),
            Err(failure) => Err(failure),
        };
        match result {
            Ok(out) => print(&out),
            Err(failure) => {
                failed += 1;
                print(&failure.to_json().to_string());
                first_failure.get_or_insert(failure);
            }
        }
    }
    session.flush_stats().await;
    match first_failure {
        None => Ok(String::new()),
        Some(first) => {
            Err(first.with_message(format!("{failed} of {count} calls of {target} failed")))
        }
    }
}

/// One call of `target` with the request `json`.
async fn call_one(
    client: &DynamicClient,
    target: &Target,
    json: &str,
) -> Result<DynamicMessage, Failure> {
    let request = client
        .request_from_json(&target.method, json)
        .map_err(|status| misfit(client, target, &status))?;
    client
        .call(&target.method, &request)
        .await
        .map_err(|status| Failure::call(target, &status))
}

/// JSON that does not fit the request: the runtime's reason, and what a
/// request of this method looks like.
pub(super) fn misfit(client: &DynamicClient, target: &Target, status: &Status) -> Failure {
    let Ok(descriptor) = client.request_type(&target.method) else {
        return Failure::refused(status);
    };
    match example(&descriptor) {
        Some(example) => Failure::with_code(
            status.code(),
            format!("{} (a request looks like {example})", status.message()),
        ),
        None => Failure::refused(status),
    }
}

/// A request of `descriptor` with every field at its default value, as
/// one line of JSON: `{"a": "0", "b": "0"}`.
pub(crate) fn example(descriptor: &MessageDescriptor) -> Option<String> {
    let json = to_json(&DynamicMessage::new(descriptor.clone()), false).ok()?;
    let value: serde_json::Value = serde_json::from_str(&json).ok()?;
    let fields: Vec<String> = value
        .as_object()?
        .iter()
        .map(|(name, value)| format!("{}: {value}", serde_json::Value::from(name.as_str())))
        .collect();
    Some(format!("{{{}}}", fields.join(", ")))
}

/// `message` in the protobuf JSON mapping, indented when `pretty`, with
/// fields at their default value written out (a reply of `{"sum": "0"}`
/// rather than `{}`).
pub(super) fn to_json(message: &DynamicMessage, pretty: bool) -> Result<String, Failure> {
    let mut bytes = Vec::new();
    let options = SerializeOptions::new().skip_default_fields(false);
    let written = if pretty {
        let mut serializer = serde_json::Serializer::pretty(&mut bytes);
        message.serialize_with_options(&mut serializer, &options)
    } else {
        let mut serializer = serde_json::Serializer::new(&mut bytes);
        message.serialize_with_options(&mut serializer, &options)
    };
    written.map_err(|error| {
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
        assert_eq!(
            to_json(&reply, true),
            Ok("{\n  \"sum\": \"0\"\n}".to_owned())
        );
        assert_eq!(to_json(&reply, false), Ok("{\"sum\":\"0\"}".to_owned()));
    }

    #[test]
    fn examples_show_the_methods_own_fields() {
        let pool = math_bus::SERVICE.descriptor_pool().expect("decodes");
        let request = pool.get_message_by_name("math.SumRequest").expect("known");
        assert_eq!(
            example(&request).as_deref(),
            Some(r#"{"a": "0", "b": "0"}"#)
        );
    }
}
