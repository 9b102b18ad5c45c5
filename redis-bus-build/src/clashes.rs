//! Names the generated code would define twice, found before any code is
//! written, so that the build fails with the proto's names instead of a
//! rustc error in generated code.
//!
//! The naming scheme (see the README's "Build" section):
//!
//! - per service, a module `<service>_bus` (snake case) in the package's
//!   module, next to prost-build's messages;
//! - in it `SERVICE`, `FILE_DESCRIPTOR_SET`, `methods`, the trait
//!   `<Service>`, `<Service>Server`, `<Service>Client` and
//!   `<Service>CacheClearer`: fixed or derived from the one service, so they
//!   cannot clash with each other;
//! - per rpc, a trait and client method `<rpc>` (snake case), a type
//!   `methods::<Rpc>` (upper camel case) and a constant `methods::<RPC>`;
//!   per cached rpc, cache-clearer methods `<rpc>` and `<rpc>_all`.
//!
//! The server calls the trait with `Trait::method(&*inner, ..)`, so rpc
//! names never meet the methods of `Arc` or of the server. What remains is
//! checked here: two rpcs spelled alike in Rust, an rpc named like a method
//! the client defines itself, a `_all` clearer meeting another rpc, and a
//! service module meeting a module of prost-build's.

use std::collections::{HashMap, HashSet};

use prost_reflect::{DescriptorPool, MessageDescriptor};

use crate::model::{MethodModel, ServiceModel};
use crate::names;

/// The methods a generated client defines or derives besides its rpcs.
const CLIENT_METHODS: [&str; 7] = [
    "new",
    "with_options",
    "with_timeout",
    "clear_cache",
    "clone",
    "clone_from",
    "fmt",
];

/// Every clash among `services` (and between them and the messages of
/// their packages in `pool`), one message each.
pub(crate) fn check_names(
    pool: &DescriptorPool,
    services: &HashMap<String, ServiceModel>,
) -> Vec<String> {
    let mut sorted: Vec<&ServiceModel> = services.values().collect();
    sorted.sort_by(|a, b| a.location.cmp(&b.location));
    let mut problems = Vec::new();
    let mut modules: HashMap<(String, String), &ServiceModel> = HashMap::new();
    for service in sorted {
        let module = module_name(service);
        let key = (service.package.clone(), module.clone());
        if let Some(other) = modules.get(&key) {
            problems.push(format!(
                "{}: service {}: its module `{module}` is also that of service {} ({}); \
                 rename one of the services",
                service.location, service.full_name, other.full_name, other.location
            ));
        } else {
            modules.insert(key, service);
        }
        if let Some(message) = message_module_named(pool, &service.package, &module) {
            problems.push(format!(
                "{}: service {}: its module `{module}` is also the module prost-build \
                 writes for the nested types of message {}; rename the service or the message",
                service.location,
                service.full_name,
                message.full_name()
            ));
        }
        check_methods(service, &mut problems);
    }
    problems
}

/// The module generated for a service, e.g. `math_bus`.
pub(crate) fn module_name(service: &ServiceModel) -> String {
    names::snake_ident(&format!("{}_bus", service.proto_name)).to_string()
}

/// The top-level message of `package` for which prost-build writes a
/// module called `module` (it does for messages with nested messages,
/// enums or oneofs).
fn message_module_named(
    pool: &DescriptorPool,
    package: &str,
    module: &str,
) -> Option<MessageDescriptor> {
    pool.all_messages().find(|message| {
        message.package_name() == package
            && message.parent_message().is_none()
            && names::snake_ident(message.name()) == module
            && (message.child_messages().any(|child| !child.is_map_entry())
                || message.child_enums().next().is_some()
                || message.oneofs().any(|oneof| !oneof.is_synthetic()))
    })
}

fn check_methods(service: &ServiceModel, problems: &mut Vec<String>) {
    let context = |method: &MethodModel| {
        format!(
            "{}: service {}, method {}",
            method.location, service.full_name, method.proto_name
        )
    };
    // Each Rust name an rpc takes, by kind, with the rpc that took it first.
    let mut taken: HashMap<(&str, String), &MethodModel> = HashMap::new();
    // One message per pair of rpcs, for the first name they share.
    let mut reported: HashSet<(&str, &str)> = HashSet::new();
    for method in &service.methods {
        let snake = names::snake_ident(&method.proto_name).to_string();
        if CLIENT_METHODS.contains(&snake.as_str()) {
            problems.push(format!(
                "{}: its client method would be `{snake}`, which the generated client \
                 already defines (it has {}); rename the rpc",
                context(method),
                CLIENT_METHODS.join(", ")
            ));
        }
        let mut spelled = vec![
            ("method", snake.clone()),
            ("type", names::type_ident(&method.proto_name).to_string()),
            (
                "constant",
                names::const_ident(&method.proto_name).to_string(),
            ),
        ];
        if method.cache_key.is_some() {
            spelled.push(("cache-clearer method", snake.clone()));
            spelled.push(("cache-clearer method", format!("{snake}_all")));
        }
        for (kind, name) in spelled {
            match taken.get(&(kind, name.clone())) {
                Some(first)
                    if first.proto_name != method.proto_name
                        && reported.insert((&first.proto_name, &method.proto_name)) =>
                {
                    problems.push(format!(
                        "{}: its {kind} `{name}` is also generated for method {} ({}); \
                         rename one of the rpcs",
                        context(method),
                        first.proto_name,
                        first.location
                    ));
                }
                Some(_) => {}
                None => {
                    taken.insert((kind, name), method);
                }
            }
        }
    }
}
