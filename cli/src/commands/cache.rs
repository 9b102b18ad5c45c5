//! `cache clear SERVICE/METHOD [JSON]`: forgets cached replies, shared by
//! every caller of the method (generated clients included).

use crate::failure::Failure;
use crate::session::Session;
use crate::target::Target;

/// Clears the cached reply of `target` for the request `json`, or every
/// cached reply of `target` without one.
pub(super) async fn clear(
    session: &Session,
    target: &Target,
    json: Option<&str>,
) -> Result<String, Failure> {
    let (client, target) = session.method(target).await?;
    let target = &target;
    let Some(json) = json else {
        client
            .clear_cache(&target.method, None)
            .await
            .map_err(|status| Failure::refused(&status))?;
        if session.json() {
            return Ok(
                serde_json::json!({"method": target.to_string(), "cleared": "all"}).to_string(),
            );
        }
        return Ok(format!("cleared every cached reply of {target}\n"));
    };
    let request = client
        .request_from_json(&target.method, json)
        .map_err(|status| Failure::refused(&status))?;
    let cleared = client
        .clear_cache(&target.method, Some(&request))
        .await
        .map_err(|status| Failure::refused(&status))?;
    let json = json.trim();
    if session.json() {
        return Ok(
            serde_json::json!({"method": target.to_string(), "cleared": cleared}).to_string(),
        );
    }
    Ok(if cleared {
        format!("cleared the cached reply of {target} for {json}\n")
    } else {
        format!("{target} had no cached reply for {json}\n")
    })
}
