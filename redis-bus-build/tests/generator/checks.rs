//! Every build-time rule fails the build with a message that names the
//! proto file, the service, the method and the offending field or value.

use std::path::Path;

use redis_bus_build::{Error, GeneratedFile};

/// Writes `source` as `test.proto` in a fresh directory and generates code
/// for it.
fn generate(source: &str) -> Result<Vec<GeneratedFile>, Error> {
    let dir = tempfile::tempdir().expect("create a temp dir");
    std::fs::write(dir.path().join("test.proto"), source).expect("write the proto");
    redis_bus_build::configure()
        .emit_rerun_if_changed(false)
        .generate(&[Path::new("test.proto")], &[dir.path()])
}

/// The single problem reported for `source`.
fn problem(source: &str) -> String {
    let error = generate(source).expect_err("the proto must be refused");
    assert_eq!(
        error.problems().len(),
        1,
        "one problem expected, got: {error}"
    );
    error.problems()[0].clone()
}

/// A proto with one service `t.T` whose only method `Get` takes `Request`
/// (declared by `messages`) and has `options`.
fn service_with(options: &str, messages: &str) -> String {
    format!(
        r#"syntax = "proto3";
package t;
import "redis_bus/options.proto";
service T {{
  rpc Get(Request) returns (Reply) {{ {options} }}
}}
message Reply {{}}
{messages}
"#
    )
}

const USER: &str = r#"
message User { int64 id = 1; string name = 2; Address address = 3; }
message Address { string city = 1; }
message Request {
  int64 a = 1;
  string b = 2;
  User user = 3;
  repeated string tags = 4;
  map<string, int64> counts = 5;
  optional int32 limit = 6;
  oneof kind { string x = 7; int64 y = 8; }
}
"#;

fn cache_key_problem(template: &str) -> String {
    problem(&service_with(
        &format!(r#"option (redis_bus.cache_key) = "{template}";"#),
        USER,
    ))
}

#[test]
fn cache_key_naming_an_unknown_field_is_refused_with_the_field_named() {
    let problem = cache_key_problem("{a}/{c}");
    assert!(
        problem.starts_with("test.proto:5:3: service t.T, method Get: "),
        "{problem}"
    );
    assert!(
        problem.contains("field `c` does not exist in t.Request"),
        "{problem}"
    );
    assert!(problem.contains("its fields: a, b, user"), "{problem}");
}

#[test]
fn cache_key_naming_a_message_field_is_refused() {
    let problem = cache_key_problem("{user}");
    assert!(
        problem.contains("`user` is a message field (t.User)"),
        "{problem}"
    );
    assert!(problem.contains("e.g. {user.id}"), "{problem}");
}

#[test]
fn cache_key_naming_a_repeated_or_map_field_is_refused() {
    assert!(cache_key_problem("{tags}").contains("`tags` is a repeated field"));
    assert!(cache_key_problem("{counts}").contains("`counts` is a map field"));
}

#[test]
fn cache_key_naming_a_oneof_member_is_refused() {
    let problem = cache_key_problem("{x}");
    assert!(problem.contains("`x` belongs to oneof `kind`"), "{problem}");
}

#[test]
fn cache_key_with_unbalanced_braces_is_refused() {
    assert!(cache_key_problem("{a/{b}").contains("the `{` at offset 0 is never closed"));
    assert!(cache_key_problem("{a}/b}").contains("the `}` at offset 5 closes no placeholder"));
    assert!(cache_key_problem("{a").contains("never closed"));
}

#[test]
fn cache_key_with_touching_placeholders_is_refused() {
    let problem = cache_key_problem("{a}{b}");
    assert!(
        problem.contains("placeholders {a} and {b} have no text between them"),
        "{problem}"
    );
}

#[test]
fn cache_key_path_through_a_scalar_is_refused() {
    let problem = cache_key_problem("{a.b}");
    assert!(problem.contains("`a` is a int64 field"), "{problem}");
}

#[test]
fn cache_key_path_ending_on_a_message_is_refused() {
    let problem = cache_key_problem("{user.address}");
    assert!(
        problem.contains("`address` is a message field (t.Address)"),
        "{problem}"
    );
}

#[test]
fn cache_key_paths_into_nested_messages_and_optional_fields_generate() {
    let files = generate(&service_with(
        r#"option (redis_bus.cache_key) = "{user.address.city}/{a}:{limit}";"#,
        USER,
    ))
    .expect("a valid template compiles");
    // Compare without the whitespace that the formatter chose.
    let code: String = files[0].content.split_whitespace().collect();
    assert!(
        code.contains(
            "key.optional(request.user.as_ref().and_then(|v|v.address.as_ref()).map(|v|&v.city),);"
        ),
        "{code}"
    );
    assert!(code.contains("key.value(&request.a);"), "{code}");
    assert!(
        code.contains("key.optional(request.limit.as_ref());"),
        "{code}"
    );
    assert!(
        code.contains("impl<U:T>TServer<U>"),
        "the type parameter must not shadow trait T"
    );
}

#[test]
fn version_that_is_not_semver_is_refused_with_the_version_named() {
    let source = r#"syntax = "proto3";
package t;
import "redis_bus/options.proto";
service T {
  option (redis_bus.version) = "1.2";
  rpc Get(Reply) returns (Reply);
}
message Reply {}
"#;
    let problem = problem(source);
    assert!(
        problem.starts_with("test.proto:4:1: service t.T: "),
        "{problem}"
    );
    assert!(
        problem.contains("version \"1.2\" is not a semantic version"),
        "{problem}"
    );
}

#[test]
fn bidirectional_and_cached_streaming_methods_are_refused() {
    let refused = |signature: &str| {
        problem(&format!(
            "syntax = \"proto3\";\npackage t;\nimport \"redis_bus/options.proto\";\n\
             service T {{\n  {signature}\n}}\nmessage Reply {{ string k = 1; }}\n"
        ))
    };
    let problem = refused("rpc Get(stream Reply) returns (stream Reply);");
    assert!(
        problem.contains("method Get: the method is bidirectional streaming"),
        "{problem}"
    );
    assert!(
        problem.contains("unary, server-streaming and client-streaming rpcs only"),
        "{problem}"
    );
    for (signature, kind) in [
        ("rpc Get(stream Reply) returns (Reply)", "client-streaming"),
        ("rpc Get(Reply) returns (stream Reply)", "server-streaming"),
    ] {
        let problem = refused(&format!(
            "{signature} {{ option (redis_bus.cache_key) = \"{{k}}\"; }}"
        ));
        assert!(
            problem.contains(&format!(
                "method Get: cache_key is set, but the replies of a {kind} rpc are not cached"
            )),
            "{problem}"
        );
    }
}

#[test]
fn server_and_client_streaming_methods_are_generated() {
    let files = generate(
        "syntax = \"proto3\";\npackage t;\nservice T {\n  \
         rpc Watch(Reply) returns (stream Reply);\n  rpc Put(stream Reply) returns (Reply);\n}\n\
         message Reply {}\n",
    )
    .expect("both are carried");
    let code: String = files[0].content.split_whitespace().collect();
    assert!(code.contains(".with_server_streaming()"), "{code}");
    assert!(code.contains(".with_client_streaming()"), "{code}");
    assert!(
        code.contains("->::core::result::Result<::redis_bus::codegen::ReplyStream<super::Reply>"),
        "{code}"
    );
    assert!(
        code.contains("request:::redis_bus::codegen::Streaming<super::Reply>"),
        "{code}"
    );
}

#[test]
fn cache_ttl_without_cache_key_is_refused() {
    let problem = problem(&service_with(
        "option (redis_bus.cache_ttl_seconds) = 5;",
        USER,
    ));
    assert!(
        problem.contains("cache_ttl_seconds is set but cache_key is not"),
        "{problem}"
    );
}

#[test]
fn every_problem_of_a_build_is_reported_at_once() {
    let source = r#"syntax = "proto3";
package t;
import "redis_bus/options.proto";
service T {
  option (redis_bus.version) = "one";
  rpc Get(R) returns (R) { option (redis_bus.cache_key) = "{nope}"; }
  rpc Put(stream R) returns (stream R);
}
message R {}
"#;
    let error = generate(source).expect_err("three problems");
    assert_eq!(error.problems().len(), 3, "{error}");
    let text = error.to_string();
    assert!(
        text.starts_with("redis-bus-build found 3 problems:"),
        "{text}"
    );
}

#[test]
fn a_bad_option_value_gets_the_compilers_located_error() {
    let error = generate(&service_with(
        r#"option (redis_bus.idempotent) = "yes";"#,
        USER,
    ))
    .expect_err("a string is not a bool");
    let text = error.to_string();
    assert!(text.starts_with("test.proto:5:"), "{text}");
    assert!(text.contains("expected a value of type 'bool'"), "{text}");
}

#[test]
fn options_proto_is_importable_without_copying_it() {
    let files = generate(&service_with("", "message Request {}")).expect("compiles");
    assert_eq!(files.len(), 1, "only the user's package is generated");
    assert_eq!(files[0].name, "t.rs");
    assert!(
        files[0]
            .content
            .starts_with("// @generated by redis-bus-build.")
    );
}

#[test]
fn generation_needs_no_protoc() {
    // SAFETY: this test binary sets PROTOC only here, before generating.
    unsafe { std::env::set_var("PROTOC", "/nonexistent/protoc") };
    generate(&service_with("", "message Request {}")).expect("protox compiles without protoc");
}
