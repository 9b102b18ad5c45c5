//! Emits the typed client of a service: one async method per rpc, over any
//! bus.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{ServiceContext, doc_comments, message_type};
use crate::names;

pub(super) fn emit(service: &ServiceContext<'_>) -> TokenStream {
    let codegen = &service.codegen;
    let trait_name = service.trait_ident();
    let client_name = format_ident!("{trait_name}Client");
    let full_name = &service.model.full_name;
    let client_doc = format!(
        " Calls the `{full_name}` service over a bus. Cheap to clone; clones share \
         the bus's connections."
    );
    let calls = service.methods.iter().map(|method| {
        let proto_name = &method.model.proto_name;
        let name = names::snake_ident(proto_name);
        let method_type = names::type_ident(proto_name);
        // The client sits one level below the package module.
        let request = message_type(&method.method.input_type, 1);
        let reply = message_type(&method.method.output_type, 1);
        let docs = doc_comments(
            &method.method.comments,
            &format!(" Calls `{}`.", method.model.full_name),
        );
        quote! {
            #docs
            pub async fn #name(&self, request: #request) -> ::core::result::Result<#reply, #codegen::Status> {
                self.inner.unary::<methods::#method_type>(request).await
            }
        }
    });
    quote! {
        #[doc = #client_doc]
        #[derive(Debug, Clone)]
        pub struct #client_name {
            inner: #codegen::Client,
        }

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
    }
}
