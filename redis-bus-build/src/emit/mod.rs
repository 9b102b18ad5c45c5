//! Emits the Rust for each service: metadata, server trait, server and
//! client, as tokens that prost-build appends to the package's file.
//!
//! prost-build calls [`BusServiceGenerator`] once per service with its own
//! view of the service (Rust type paths of the messages, comments); the
//! checked [`ServiceModel`] adds what prost-build dropped (our options).

mod client;
mod docs;
mod metadata;
mod server;

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

use crate::model::{MethodModel, ServiceModel};
use crate::names;

/// The prost-build hook that writes redis-bus code for every service.
pub(crate) struct BusServiceGenerator {
    /// The checked services, by full name.
    pub models: HashMap<String, ServiceModel>,
    /// The path of the `redis_bus` crate as the generated code sees it.
    pub bus_crate: TokenStream,
    /// What to emit, from the builder.
    pub settings: EmitSettings,
}

/// The builder's choices that change what is emitted.
#[derive(Debug, Clone)]
pub(crate) struct EmitSettings {
    /// Emit the client and cache clearer.
    pub build_client: bool,
    /// Emit the trait and server.
    pub build_server: bool,
    /// prost-build paths whose comments are left out.
    pub disable_comments: Vec<String>,
}

impl prost_build::ServiceGenerator for BusServiceGenerator {
    fn generate(&mut self, service: prost_build::Service, buf: &mut String) {
        let full_name = if service.package.is_empty() {
            service.proto_name.clone()
        } else {
            format!("{}.{}", service.package, service.proto_name)
        };
        let model = self
            .models
            .get(&full_name)
            .unwrap_or_else(|| panic!("service {full_name} was checked before generation"));
        let service = ServiceContext::new(&service, model, &self.bus_crate, &self.settings);
        buf.push_str(&service.emit().to_string());
        buf.push('\n');
    }
}

/// Everything the emitters need to know about one service.
pub(crate) struct ServiceContext<'a> {
    /// prost-build's view: Rust names, message paths, comments.
    pub service: &'a prost_build::Service,
    /// Our checked model: options, version, fingerprints.
    pub model: &'a ServiceModel,
    /// `<bus crate>::codegen`.
    pub codegen: TokenStream,
    /// The service's methods, both views side by side (the streaming ones
    /// the build skips left out).
    pub methods: Vec<MethodContext<'a>>,
    /// What to emit.
    pub settings: &'a EmitSettings,
}

/// One rpc, both views side by side.
pub(crate) struct MethodContext<'a> {
    /// prost-build's view of the rpc.
    pub method: &'a prost_build::Method,
    /// Our checked model of the rpc.
    pub model: &'a MethodModel,
}

impl<'a> ServiceContext<'a> {
    fn new(
        service: &'a prost_build::Service,
        model: &'a ServiceModel,
        bus_crate: &TokenStream,
        settings: &'a EmitSettings,
    ) -> Self {
        // The model has every rpc prost-build sees, but the skipped ones.
        let methods = service
            .methods
            .iter()
            .filter_map(|method| {
                let model = model
                    .methods
                    .iter()
                    .find(|m| m.proto_name == method.proto_name)?;
                Some(MethodContext { method, model })
            })
            .collect();
        ServiceContext {
            service,
            model,
            codegen: quote!(#bus_crate::codegen),
            methods,
            settings,
        }
    }

    /// The proto comments of the service, or none when the build disables
    /// them for it.
    pub fn service_comments(&self) -> prost_build::Comments {
        self.comments_of(&self.model.full_name, &self.service.comments)
    }

    /// The proto comments of one rpc, or none when disabled.
    pub fn method_comments(&self, method: &MethodContext<'_>) -> prost_build::Comments {
        let path = format!("{}.{}", self.model.full_name, method.model.proto_name);
        self.comments_of(&path, &method.method.comments)
    }

    fn comments_of(&self, path: &str, comments: &prost_build::Comments) -> prost_build::Comments {
        let disabled = self
            .settings
            .disable_comments
            .iter()
            .any(|disabled| crate::prost_options::path_matches(disabled, path));
        if disabled {
            prost_build::Comments::default()
        } else {
            comments.clone()
        }
    }

    /// `#[allow(clippy::wrong_self_convention)]` when an rpc's Rust name
    /// starts like a conversion (`from_`, `into_`, `to_`, `as_`, `is_`):
    /// clippy expects those to take `self` in a set way, and rpc methods
    /// always take `&self`.
    pub fn self_convention_allow(&self) -> TokenStream {
        let conversion = self.methods.iter().any(|method| {
            let name = names::snake_ident(&method.model.proto_name).to_string();
            ["from_", "into_", "to_", "as_", "is_"]
                .iter()
                .any(|prefix| name.starts_with(prefix))
        });
        if conversion {
            quote!(#[allow(clippy::wrong_self_convention)])
        } else {
            TokenStream::new()
        }
    }

    /// `#[deprecated]` when the service is, and the `#[allow(deprecated)]`
    /// that the generated code's own uses of it then need.
    pub fn deprecation(&self) -> (TokenStream, TokenStream) {
        if self.model.deprecated {
            (quote!(#[deprecated]), quote!(#[allow(deprecated)]))
        } else {
            (TokenStream::new(), TokenStream::new())
        }
    }

    fn emit(&self) -> TokenStream {
        let module = names::snake_ident(&format!("{}_bus", self.service.proto_name));
        let doc = format!(
            " Generated by redis-bus-build for the `{}` service: its metadata, the \
             trait to implement, its server and its client.",
            self.model.full_name
        );
        let metadata = metadata::emit(self);
        let server = if self.settings.build_server {
            server::emit(self)
        } else {
            TokenStream::new()
        };
        let client = if self.settings.build_client {
            client::emit(self)
        } else {
            TokenStream::new()
        };
        quote! {
            #[doc = #doc]
            pub mod #module {
                #metadata
                #server
                #client
            }
        }
    }

    /// The trait's name, e.g. `Math`.
    pub fn trait_ident(&self) -> proc_macro2::Ident {
        names::type_ident(&self.service.proto_name)
    }
}

/// The Rust type of a message, as seen from a module `depth` levels below
/// the package's module. prost-build gives paths relative to the package
/// module (`SumRequest`, `super::other::Thing`) or absolute (`::...`).
pub(crate) fn message_type(rust_path: &str, depth: usize) -> TokenStream {
    // prost maps google.protobuf.Empty to the unit type, and the scalar
    // wrappers (Int64Value, BoolValue, ...) to primitives: no paths.
    if rust_path == "()" {
        return quote!(());
    }
    if matches!(
        rust_path,
        "bool" | "i32" | "i64" | "u32" | "u64" | "f32" | "f64"
    ) {
        let primitive = proc_macro2::Ident::new(rust_path, proc_macro2::Span::call_site());
        return quote!(#primitive);
    }
    let path = if rust_path.starts_with("::") || rust_path.starts_with("crate::") {
        rust_path.to_owned()
    } else {
        format!("{}{rust_path}", "super::".repeat(depth))
    };
    syn::parse_str::<syn::Type>(&path)
        .unwrap_or_else(|error| panic!("prost-build gave an invalid type path {path}: {error}"))
        .into_token_stream()
}

/// `#[doc]` attributes carrying the proto comments over, then `note` as a
/// paragraph of its own.
///
/// The comments are rendered by prost-build itself, as it renders those of
/// messages: the same indentation, URLs and brackets escaped for rustdoc,
/// and the same result whether or not another crate of the build turns on
/// its `cleanup-markdown` feature (which drops the space after `//`).
pub(crate) fn doc_comments(comments: &prost_build::Comments, note: &str) -> TokenStream {
    let attached = prost_build::Comments {
        leading_detached: Vec::new(),
        ..comments.clone()
    };
    let mut rendered = String::new();
    attached.append_with_indent(0, &mut rendered);
    let lines: Vec<&str> = rendered
        .lines()
        .map(|line| line.strip_prefix("///").unwrap_or(line))
        .collect();
    let separator = (!lines.is_empty()).then(|| quote!(#[doc = ""]));
    quote! {
        #( #[doc = #lines] )*
        #separator
        #[doc = #note]
    }
}
