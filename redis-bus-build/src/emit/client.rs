//! Emits the typed client of a service: one async method per rpc, over any
//! bus.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{ServiceContext, doc_comments, docs, message_type};
use crate::names;

pub(super) fn emit(service: &ServiceContext<'_>) -> TokenStream {
    let codegen = &service.codegen;
    let trait_name = service.trait_ident();
    let client_name = format_ident!("{trait_name}Client");
    let full_name = &service.model.full_name;
    let client_doc = format!(
        " Calls the `{full_name}` service (version {}) over a bus. Cheap to clone; \
         clones share the bus's connections.",
        service.model.version
    );
    let (deprecated, allow_deprecated) = service.deprecation();
    let conventions = service.self_convention_allow();
    let calls = service.methods.iter().map(|method| {
        let proto_name = &method.model.proto_name;
        let name = names::snake_ident(proto_name);
        let method_type = names::type_ident(proto_name);
        // The client sits one level below the package module.
        let request = message_type(&method.method.input_type, 1);
        let reply = message_type(&method.method.output_type, 1);
        let docs = doc_comments(
            &service.method_comments(method),
            &format!(" Calls `{}`.", method.model.full_name),
        );
        let options = docs::method_options(service.model, method.model);
        let deprecated = method.model.deprecated.then(|| quote!(#[deprecated]));
        if method.model.client_streaming {
            return quote! {
                #docs
                #options
                #deprecated
                pub async fn #name<S>(&self, requests: S) -> ::core::result::Result<#reply, #codegen::Status>
                where
                    S: #codegen::Stream<Item = #request> + ::core::marker::Send + 'static,
                {
                    self.inner.client_streaming::<methods::#method_type, S>(requests).await
                }
            };
        }
        if method.model.server_streaming {
            return quote! {
                #docs
                #options
                #deprecated
                pub async fn #name(
                    &self,
                    request: #request,
                ) -> ::core::result::Result<#codegen::Streaming<#reply>, #codegen::Status> {
                    self.inner.server_streaming::<methods::#method_type>(request).await
                }
            };
        }
        quote! {
            #docs
            #options
            #deprecated
            pub async fn #name(&self, request: #request) -> ::core::result::Result<#reply, #codegen::Status> {
                self.inner.unary::<methods::#method_type>(request).await
            }
        }
    });
    let cache = emit_cache_clearer(service, &client_name);
    quote! {
        #[doc = #client_doc]
        #deprecated
        #[derive(Debug, Clone)]
        pub struct #client_name {
            inner: #codegen::Client,
        }

        #allow_deprecated
        #conventions
        impl #client_name {
            /// A client of the service on `bus`.
            pub fn new(bus: &#codegen::Bus) -> Self {
                Self { inner: #codegen::Client::new(bus, &SERVICE) }
            }

            /// The same client, with `options` for every call it makes
            /// (deadline, waiting for a worker, ...).
            pub fn with_options(mut self, options: #codegen::CallOptions) -> Self {
                self.inner = self.inner.with_options(options);
                self
            }

            /// The same client, with a deadline of `timeout` for every call
            /// instead of the method's default.
            pub fn with_timeout(mut self, timeout: ::core::time::Duration) -> Self {
                self.inner = self.inner.with_timeout(timeout);
                self
            }

            #(#calls)*
        }

        #cache
    }
}

/// `clear_cache()` on the client, and the clearer it returns, with two
/// methods per cached rpc: one request, or every request. Nothing for a
/// service without cached rpcs.
fn emit_cache_clearer(
    service: &ServiceContext<'_>,
    client_name: &proc_macro2::Ident,
) -> TokenStream {
    let cached: Vec<_> = service
        .methods
        .iter()
        .filter(|method| method.model.cache_key.is_some())
        .collect();
    if cached.is_empty() {
        return TokenStream::new();
    }
    let codegen = &service.codegen;
    let clearer_name = format_ident!("{}CacheClearer", service.trait_ident());
    let full_name = &service.model.full_name;
    let clearer_doc =
        format!(" Clears cached replies of `{full_name}`; from [`{client_name}::clear_cache`].");
    let (_, allow_deprecated) = service.deprecation();
    let conventions = service.self_convention_allow();
    let clears = cached.iter().map(|method| {
        let proto_name = &method.model.proto_name;
        let one = names::snake_ident(proto_name);
        let all = format_ident!("{}_all", names::snake_ident(proto_name));
        let method_type = names::type_ident(proto_name);
        let request = message_type(&method.method.input_type, 1);
        let one_doc = format!(
            " Clears the cached reply of `{}` for `request`; true when there was one.",
            method.model.full_name
        );
        let all_doc = format!(
            " Clears every cached reply of `{}`, in O(1).",
            method.model.full_name
        );
        quote! {
            #[doc = #one_doc]
            pub async fn #one(&self, request: &#request) -> ::core::result::Result<bool, #codegen::Status> {
                self.inner.clear_cached::<methods::#method_type>(request).await
            }

            #[doc = #all_doc]
            pub async fn #all(&self) -> ::core::result::Result<(), #codegen::Status> {
                self.inner.clear_all_cached::<methods::#method_type>().await
            }
        }
    });
    quote! {
        #allow_deprecated
        impl #client_name {
            /// Clears cached replies of the service's cached rpcs.
            pub fn clear_cache(&self) -> #clearer_name<'_> {
                #clearer_name { inner: &self.inner }
            }
        }

        #[doc = #clearer_doc]
        #[derive(Debug, Clone, Copy)]
        pub struct #clearer_name<'a> {
            inner: &'a #codegen::Client,
        }

        #conventions
        impl #clearer_name<'_> {
            #(#clears)*
        }
    }
}
