//! Emits a service's metadata: the `SERVICE` constant, its descriptors, and
//! a `methods` module with one type and one `MethodInfo` per rpc.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::{MethodContext, ServiceContext, message_type};
use crate::cache_key::Part;
use crate::names;

pub(super) fn emit(service: &ServiceContext<'_>) -> TokenStream {
    let codegen = &service.codegen;
    let model = service.model;
    let name = &model.full_name;
    let version = &model.version;
    let service_doc = format!(" Metadata of the `{name}` service.");
    let descriptor_set = Literal::byte_string(&model.file_descriptor_set);
    let consts = service
        .methods
        .iter()
        .map(|method| names::const_ident(&method.model.proto_name));
    let methods = service
        .methods
        .iter()
        .map(|method| emit_method(service, method));
    quote! {
        #[doc = #service_doc]
        pub const SERVICE: #codegen::ServiceInfo = #codegen::service_info(
            #name,
            #version,
            &[#(methods::#consts),*],
            FILE_DESCRIPTOR_SET,
        );

        /// The encoded `FileDescriptorSet` of the service's proto file and its
        /// imports (without `google/protobuf/*`), custom options and the
        /// comments of declarations included.
        pub const FILE_DESCRIPTOR_SET: &[u8] = #descriptor_set;

        /// The service's rpcs, each as a type that the bus runtime calls
        /// through, and as a `MethodInfo` constant.
        pub mod methods {
            #(#methods)*
        }
    }
}

/// The type and the `MethodInfo` of one rpc, inside the `methods` module.
fn emit_method(service: &ServiceContext<'_>, method: &MethodContext<'_>) -> TokenStream {
    let codegen = &service.codegen;
    let model = method.model;
    let type_name = names::type_ident(&model.proto_name);
    let const_name = names::const_ident(&model.proto_name);
    let proto_name = &model.proto_name;
    let full_name = &model.full_name;
    let request_type = &model.request_type;
    let reply_type = &model.reply_type;
    let fingerprint = &model.schema_fingerprint;
    let options = &model.options;
    // One call per option that is set: the runtime's defaults stand for the
    // rest, so generated code never spells out a field it does not use.
    let mut settings = TokenStream::new();
    if let Some(key) = &options.cache_key {
        let ttl = option_tokens(
            options
                .cache_ttl_seconds
                .map(Literal::u32_unsuffixed)
                .as_ref(),
        );
        settings.extend(quote!(.with_cache(#key, #ttl)));
    }
    if let Some(timeout) = options.timeout_ms.map(Literal::u32_unsuffixed) {
        settings.extend(quote!(.with_timeout_ms(#timeout)));
    }
    if options.idempotent {
        settings.extend(quote!(.with_idempotent(true)));
    }
    if model.server_streaming {
        settings.extend(quote!(.with_server_streaming()));
    }
    if model.client_streaming {
        settings.extend(quote!(.with_client_streaming()));
    }
    // `methods` sits two levels below the package module.
    let request = message_type(&method.method.input_type, 2);
    let reply = message_type(&method.method.output_type, 2);
    let info_doc = format!(" Metadata of `{full_name}`.");
    let type_doc = format!(" The `{full_name}` rpc, for the bus runtime.");
    let cache_key_fn = emit_cache_key_fn(service, method);
    quote! {
        #[doc = #info_doc]
        pub const #const_name: #codegen::MethodInfo = #codegen::method_info(
            #proto_name,
            #full_name,
            #request_type,
            #reply_type,
            #fingerprint,
        )#settings;

        #[doc = #type_doc]
        #[derive(Debug, Clone, Copy)]
        pub struct #type_name;

        impl #codegen::Method for #type_name {
            type Request = #request;
            type Reply = #reply;
            const SERVICE: &'static #codegen::ServiceInfo = &super::SERVICE;
            const INFO: &'static #codegen::MethodInfo = &#const_name;
            #cache_key_fn
        }
    }
}

/// `Some(value)` or `None`, as tokens.
fn option_tokens<T: quote::ToTokens>(value: Option<&T>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

/// `Method::cache_key`, writing the key of a request as the template says.
/// Methods without a cache key keep the trait's default.
fn emit_cache_key_fn(service: &ServiceContext<'_>, method: &MethodContext<'_>) -> TokenStream {
    let Some(template) = &method.model.cache_key else {
        return TokenStream::new();
    };
    let codegen = &service.codegen;
    let writes = template.parts.iter().map(|part| match part {
        Part::Literal(text) => quote!(key.literal(#text);),
        Part::Field(path) => field_value(path),
    });
    quote! {
        fn cache_key(request: &Self::Request, key: &mut #codegen::CacheKeyWriter) {
            #(#writes)*
        }
    }
}

/// Writes the value at a field path: `key.value(&request.a)` for a plain
/// field, `key.optional(...)` when a message or an `optional` field on the
/// way may be unset.
fn field_value(path: &[prost_reflect::FieldDescriptor]) -> TokenStream {
    let mut expression = quote!(request);
    let mut may_be_unset = false;
    for field in path {
        let ident = names::field_ident(field.name());
        let has_presence = field.supports_presence()
            && field.cardinality() != prost_reflect::Cardinality::Required;
        expression = match (may_be_unset, has_presence) {
            (false, true) => quote!(#expression.#ident.as_ref()),
            (false, false) => quote!(&#expression.#ident),
            (true, true) => quote!(#expression.and_then(|v| v.#ident.as_ref())),
            (true, false) => quote!(#expression.map(|v| &v.#ident)),
        };
        may_be_unset |= has_presence;
    }
    if may_be_unset {
        quote!(key.optional(#expression);)
    } else {
        quote!(key.value(#expression);)
    }
}
