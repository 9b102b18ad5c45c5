//! `cleanup`: removes every key of the bus, after saying how many and
//! asking (unless `--yes`).

use std::collections::HashSet;

use crate::confirm::{Answer, Confirm};
use crate::failure::Failure;
use crate::human;
use crate::session::Session;

/// Removes every key of the bus once confirmed (or with `yes`); refuses
/// when nobody can confirm.
pub(super) async fn run(
    session: &Session,
    yes: bool,
    confirm: &mut dyn Confirm,
) -> Result<String, Failure> {
    let bus = session.bus();
    let name = bus.name();
    let count = bus.count_keys().await?;
    if count == 0 {
        if session.json() {
            return Ok(serde_json::json!({"removed": 0, "live_workers": 0}).to_string());
        }
        return Ok(format!("bus {name:?} holds no keys\n"));
    }
    let keys = human::count(count, "key", "keys");
    if !yes {
        match confirm.confirm(&format!("remove all {keys} of bus {name:?}?")) {
            Answer::Yes => {}
            Answer::No => return Ok("nothing removed\n".to_owned()),
            Answer::NobodyToAsk => {
                return Err(Failure::new(format!(
                    "refusing to remove {keys} of bus {name:?} without confirmation: \
                     stdin is not a terminal (pass --yes to remove them)"
                )));
            }
        }
    }
    // Counted before removing: the registrations go with the keys.
    let workers = live_workers(session).await?;
    let removed = bus.cleanup().await?;
    if session.json() {
        return Ok(serde_json::json!({"removed": removed, "live_workers": workers}).to_string());
    }
    let mut out = format!(
        "removed {} from bus {name:?}\n",
        human::count(removed, "key", "keys")
    );
    if workers > 0 {
        // Their heartbeats register them again: say so, lest the operator
        // believe the bus stays empty.
        let (workers, are, they, them) = match workers {
            1 => ("1 worker".to_owned(), "is", "it registers", "it"),
            n => (format!("{n} workers"), "are", "they register", "them"),
        };
        out.push_str(&format!(
            "{workers} {are} still live on the bus: {they} again with the next heartbeat; \
             stop {them} for the bus to stay empty\n"
        ));
    }
    Ok(out)
}

/// How many distinct workers serve something on the bus (a worker serving
/// two services counts once).
async fn live_workers(session: &Session) -> Result<usize, Failure> {
    let discovery = session.bus().discovery();
    let mut ids = HashSet::new();
    for service in discovery.services().await? {
        for instance in discovery.instances(&service.name).await? {
            ids.insert(instance.id);
        }
    }
    Ok(ids.len())
}
