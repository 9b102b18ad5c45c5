//! What the corpus's build generated: only the services of the named
//! files, server-streaming rpcs included, with the rpc options in the docs.

use redis_bus_corpus::acme::platform::inventory::v1::inventory_bus;
use redis_bus_corpus::health::health_bus;
use redis_bus_corpus::keywords::edge_bus;

/// The generated platform packages, as `build.rs` wrote them.
const COMMON: &str = include_str!(concat!(env!("OUT_DIR"), "/acme.platform.common.v1.rs"));
const INVENTORY: &str = include_str!(concat!(env!("OUT_DIR"), "/acme.platform.inventory.v1.rs"));

#[test]
fn imported_files_contribute_messages_not_services() {
    assert!(COMMON.contains("pub struct Origin"), "{COMMON}");
    assert!(
        !COMMON.contains("audit_bus"),
        "the imported file's service must not be generated"
    );
}

#[test]
fn grpc_health_is_served_with_its_streaming_watch() {
    let names: Vec<&str> = health_bus::SERVICE
        .methods
        .iter()
        .map(|method| method.name)
        .collect();
    assert_eq!(names, ["Check", "Watch"]);
    let watch = health_bus::SERVICE.method("Watch").expect("Watch");
    assert!(watch.server_streaming && !watch.client_streaming);
}

#[test]
fn rpc_docs_list_the_rpc_options() {
    assert!(
        INVENTORY.contains("/// - cached: under the key `{key.sku}/{key.warehouse}`, for 30 s"),
        "{INVENTORY}"
    );
    assert!(
        INVENTORY.contains("/// - deadline: 200 ms unless the call sets one"),
        "{INVENTORY}"
    );
    assert!(INVENTORY.contains("/// - service version: 1.4.2"));
    let get_item = inventory_bus::SERVICE.method("GetItem").expect("GetItem");
    assert_eq!(get_item.cache_ttl_seconds, Some(30));
    assert!(get_item.idempotent);
}

#[test]
fn deprecated_rpcs_and_services_are_marked() {
    let lookup = INVENTORY
        .find("pub async fn lookup_item")
        .expect("the client has lookup_item");
    assert!(
        INVENTORY[..lookup].trim_end().ends_with("#[deprecated]"),
        "the deprecated rpc's client method must be #[deprecated]"
    );
    let legacy = INVENTORY
        .find("pub struct LegacyInventoryClient")
        .expect("the legacy client");
    assert!(INVENTORY[..legacy].contains("#[deprecated]\n    #[derive(Debug, Clone)]"));
}

#[test]
fn keyword_names_get_their_own_rust_names() {
    let names: Vec<&str> = edge_bus::SERVICE
        .methods
        .iter()
        .map(|method| method.name)
        .collect();
    assert_eq!(
        names,
        [
            "Type", "Self", "Call", "Info", "CacheKey", "AsRef", "Into", "FromArc"
        ]
    );
    // The message named like the service's module stays a message.
    let message = redis_bus_corpus::keywords::EdgeBus {
        r#loop: "x".to_owned(),
    };
    assert_eq!(message.r#loop, "x");
}
