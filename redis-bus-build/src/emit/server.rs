//! Emits the server side of a service: the `#[async_trait]` trait users
//! implement, and the server that dispatches a method name and encoded
//! request to it.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{ServiceContext, doc_comments, docs, message_type};
use crate::names;

pub(super) fn emit(service: &ServiceContext<'_>) -> TokenStream {
    let codegen = &service.codegen;
    let trait_name = service.trait_ident();
    let server_name = format_ident!("{trait_name}Server");
    // The implementation's type parameter must not shadow the trait.
    let implementation = if trait_name == "T" {
        format_ident!("U")
    } else {
        format_ident!("T")
    };
    let full_name = &service.model.full_name;
    let trait_docs = doc_comments(
        &service.service_comments(),
        &format!(
            " The `{full_name}` service (version {}), as implemented by a worker.",
            service.model.version
        ),
    );
    let (deprecated, allow_deprecated) = service.deprecation();
    let conventions = service.self_convention_allow();
    let server_doc = format!(
        " Serves a [`{trait_name}`] implementation on a bus: hand it to a server and run it."
    );

    let trait_methods = service.methods.iter().map(|method| {
        let name = names::snake_ident(&method.model.proto_name);
        // The trait sits one level below the package module.
        let request = message_type(&method.method.input_type, 1);
        let reply = message_type(&method.method.output_type, 1);
        let docs = doc_comments(
            &service.method_comments(method),
            &format!(" Handles `{}`.", method.model.full_name),
        );
        let options = docs::method_options(service.model, method.model);
        let returns = if method.model.server_streaming {
            quote!(#codegen::ReplyStream<#reply>)
        } else {
            quote!(#reply)
        };
        let request = if method.model.client_streaming {
            quote!(#codegen::Streaming<#request>)
        } else {
            quote!(#request)
        };
        quote! {
            #docs
            #options
            async fn #name(&self, request: #request) -> ::core::result::Result<#returns, #codegen::Status>;
        }
    });
    let of_kind = |server: bool, client: bool| -> Vec<&super::MethodContext<'_>> {
        service
            .methods
            .iter()
            .filter(|method| {
                method.model.server_streaming == server && method.model.client_streaming == client
            })
            .collect()
    };
    let (unary, streaming, uploading) = (
        of_kind(false, false),
        of_kind(true, false),
        of_kind(false, true),
    );
    let arms = |methods: &[&super::MethodContext<'_>], handle: TokenStream| {
        methods
            .iter()
            .map(|method| {
                let proto_name = &method.model.proto_name;
                let name = names::snake_ident(proto_name);
                let method_type = names::type_ident(proto_name);
                quote! {
                    #proto_name => {
                        // Through the trait, so that no method of `Arc` or of
                        // the implementation's type named like the rpc is
                        // called instead.
                        #handle::<methods::#method_type, _, _>(
                            request,
                            |request| <#implementation as #trait_name>::#name(&self.inner, request),
                        )
                        .await
                    }
                }
            })
            .collect::<Vec<_>>()
    };
    let unary_arms = arms(&unary, quote!(#codegen::handle));
    // Only services with streaming rpcs override the trait's defaults.
    let upload_fn = (!uploading.is_empty()).then(|| {
        let arms = arms(&uploading, quote!(#codegen::handle_client_stream));
        quote! {
            async fn call_client_streaming(
                &self,
                method: &str,
                request: #codegen::EncodedMessages,
            ) -> ::core::result::Result<::std::vec::Vec<u8>, #codegen::Status> {
                match method {
                    #(#arms)*
                    _ => ::core::result::Result::Err(#codegen::unknown_method(&SERVICE, method)),
                }
            }
        }
    });
    let stream_fn = (!streaming.is_empty()).then(|| {
        let arms = arms(&streaming, quote!(#codegen::handle_stream));
        quote! {
            async fn call_server_streaming(
                &self,
                method: &str,
                request: &[u8],
            ) -> ::core::result::Result<#codegen::ReplyStream<::std::vec::Vec<u8>>, #codegen::Status> {
                match method {
                    #(#arms)*
                    _ => ::core::result::Result::Err(#codegen::unknown_method(&SERVICE, method)),
                }
            }
        }
    });
    let cached = service
        .methods
        .iter()
        .filter(|method| method.model.cache_key.is_some())
        .collect::<Vec<_>>();
    // Only services with cached methods override the trait's default.
    let cache_key_fn = (!cached.is_empty()).then(|| {
        let arms = cached.iter().map(|method| {
            let proto_name = &method.model.proto_name;
            let method_type = names::type_ident(proto_name);
            quote! {
                #proto_name => ::core::option::Option::Some(
                    #codegen::cache_key_of::<methods::#method_type>(request),
                ),
            }
        });
        quote! {
            fn cache_key(
                &self,
                method: &str,
                request: &[u8],
            ) -> ::core::option::Option<::core::result::Result<::std::string::String, #codegen::Status>> {
                match method {
                    #(#arms)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    });

    quote! {
        #trait_docs
        #deprecated
        #conventions
        #[#codegen::async_trait]
        pub trait #trait_name: ::core::marker::Send + ::core::marker::Sync + 'static {
            #(#trait_methods)*
        }

        #[doc = #server_doc]
        #deprecated
        #[derive(Debug)]
        pub struct #server_name<#implementation> {
            inner: ::std::sync::Arc<#implementation>,
        }

        #allow_deprecated
        impl<#implementation: #trait_name> #server_name<#implementation> {
            /// Wraps an implementation of the service.
            pub fn new(inner: #implementation) -> Self {
                Self::from_arc(::std::sync::Arc::new(inner))
            }

            /// Wraps an implementation that is shared with other code.
            pub fn from_arc(inner: ::std::sync::Arc<#implementation>) -> Self {
                Self { inner }
            }
        }

        #allow_deprecated
        impl<#implementation> ::core::clone::Clone for #server_name<#implementation> {
            fn clone(&self) -> Self {
                Self { inner: ::std::sync::Arc::clone(&self.inner) }
            }
        }

        #allow_deprecated
        #[#codegen::async_trait]
        impl<#implementation: #trait_name> #codegen::Service for #server_name<#implementation> {
            fn info(&self) -> &'static #codegen::ServiceInfo {
                &SERVICE
            }

            async fn call(
                &self,
                method: &str,
                request: &[u8],
            ) -> ::core::result::Result<::std::vec::Vec<u8>, #codegen::Status> {
                match method {
                    #(#unary_arms)*
                    _ => ::core::result::Result::Err(#codegen::unknown_method(&SERVICE, method)),
                }
            }

            #stream_fn

            #upload_fn

            #cache_key_fn
        }
    }
}
