//! The protos teams already have: well-known types, imported files,
//! streaming rpcs, names that meet the generated code's own, deprecation,
//! and the builder options they reach for.

use std::path::Path;

use redis_bus_build::{Builder, Error, GeneratedFile};

/// Writes `files` (name, source) in a fresh directory and generates the
/// first one with `builder`.
fn generate_with(builder: Builder, files: &[(&str, &str)]) -> Result<Vec<GeneratedFile>, Error> {
    let dir = tempfile::tempdir().expect("create a temp dir");
    for (name, source) in files {
        std::fs::write(dir.path().join(name), source).expect("write the proto");
    }
    builder
        .emit_rerun_if_changed(false)
        .generate(&[Path::new(files[0].0)], &[dir.path()])
}

fn generate(source: &str) -> Result<Vec<GeneratedFile>, Error> {
    generate_with(redis_bus_build::configure(), &[("test.proto", source)])
}

/// The code of `file`, without the formatter's whitespace.
fn compact(files: &[GeneratedFile], file: &str) -> String {
    let file = files
        .iter()
        .find(|f| f.name == file)
        .unwrap_or_else(|| panic!("{file} was not generated"));
    file.content.split_whitespace().collect()
}

/// The problems reported for a service `t.S` with these rpcs and messages.
fn problems(body: &str, messages: &str) -> Vec<String> {
    let source = format!(
        "syntax = \"proto3\";\npackage t;\nimport \"redis_bus/options.proto\";\n\
         service S {{\n{body}\n}}\nmessage R {{ int64 a = 1; }}\n{messages}\n"
    );
    generate(&source)
        .expect_err("the clash must be reported")
        .problems()
        .to_vec()
}

#[test]
fn empty_in_and_out_is_the_unit_type() {
    let files = generate(
        "syntax = \"proto3\";\npackage t;\nimport \"google/protobuf/empty.proto\";\n\
         service S { rpc Ping(google.protobuf.Empty) returns (google.protobuf.Empty); }\n",
    )
    .expect("Empty compiles");
    let code = compact(&files, "t.rs");
    assert!(code.contains("typeRequest=();typeReply=();"), "{code}");
    assert!(code.contains("pubasyncfnping(&self,request:(),)"), "{code}");
}

#[test]
fn imported_files_give_messages_and_not_services() {
    let files = generate_with(
        redis_bus_build::configure(),
        &[
            (
                "main.proto",
                "syntax = \"proto3\";\npackage app;\nimport \"dep.proto\";\n\
                 service App { rpc Get(dep.Thing) returns (dep.Thing); }\n",
            ),
            (
                "dep.proto",
                "syntax = \"proto3\";\npackage dep;\nmessage Thing { int64 a = 1; }\n\
                 service Watcher { rpc Watch(Thing) returns (stream Thing); }\n",
            ),
        ],
    )
    .expect("an imported streaming service does not stop the build");
    assert!(compact(&files, "app.rs").contains("pubmodapp_bus"));
    let dep = compact(&files, "dep.rs");
    assert!(dep.contains("pubstructThing"), "{dep}");
    assert!(!dep.contains("watcher_bus"), "{dep}");
}

#[test]
fn bidirectional_rpcs_fail_by_default_saying_how_to_skip_them() {
    let source = "syntax = \"proto3\";\npackage t;\nmessage R {}\n\
                  service S { rpc Check(R) returns (R); rpc Watch(stream R) returns (stream R); }\n";
    let error = generate(source).expect_err("bidirectional streaming is refused by default");
    let problem = &error.problems()[0];
    assert!(
        problem.starts_with(
            "test.proto:4:39: service t.S, method Watch: the method is bidirectional streaming"
        ),
        "{problem}"
    );
    assert!(
        problem.contains("Builder::skip_streaming_methods(true)"),
        "{problem}"
    );

    let files = generate_with(
        redis_bus_build::configure().skip_streaming_methods(true),
        &[("test.proto", source)],
    )
    .expect("skipped");
    let code = compact(&files, "t.rs");
    assert!(code.contains("asyncfncheck("), "{code}");
    assert!(!code.contains("fnwatch"), "{code}");
}

#[test]
fn rpcs_named_like_the_clients_own_methods_are_reported() {
    let found = problems(
        "rpc New(R) returns (R);\nrpc WithTimeout(R) returns (R);\nrpc Clone(R) returns (R);",
        "",
    );
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(
        found[0].starts_with(
            "test.proto:5:1: service t.S, method New: its client method would be `new`"
        ),
        "{found:?}"
    );
    assert!(found[1].contains("method WithTimeout"), "{found:?}");
    assert!(found[1].contains("`with_timeout`"), "{found:?}");
    assert!(found[2].contains("`clone`"), "{found:?}");
}

#[test]
fn rpcs_with_one_rust_name_are_reported_once() {
    let found = problems(
        "rpc GetUser(R) returns (R);\nrpc get_user(R) returns (R);",
        "",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(
            "test.proto:6:1: service t.S, method get_user: its method `get_user` is also \
             generated for method GetUser (test.proto:5:1)"
        ),
        "{found:?}"
    );
}

#[test]
fn cached_rpcs_whose_clearers_meet_are_reported() {
    let cached = "{ option (redis_bus.cache_key) = \"{a}\"; }";
    let found = problems(
        &format!("rpc Sum(R) returns (R) {cached}\nrpc SumAll(R) returns (R) {cached}"),
        "",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("method SumAll"), "{found:?}");
    assert!(
        found[0].contains("its cache-clearer method `sum_all` is also generated for method Sum"),
        "{found:?}"
    );
}

#[test]
fn a_service_module_meeting_a_message_module_is_reported() {
    let source = "syntax = \"proto3\";\npackage t;\nmessage R {}\n\
                  message EdgeBus { message Inner {} }\n\
                  service Edge { rpc Get(R) returns (R); }\n";
    let problem = generate(source).expect_err("clash").problems()[0].clone();
    assert!(
        problem.starts_with("test.proto:5:1: service t.Edge: its module `edge_bus`"),
        "{problem}"
    );
    assert!(problem.contains("message t.EdgeBus"), "{problem}");
    // Without nested types, prost-build writes no module: no clash.
    let fine = "syntax = \"proto3\";\npackage t;\nmessage R {}\nmessage EdgeBus {}\n\
                service Edge { rpc Get(R) returns (R); }\n";
    generate(fine).expect("a message EdgeBus alone does not clash");
}

#[test]
fn deprecated_rpcs_and_services_are_marked() {
    let files = generate(
        "syntax = \"proto3\";\npackage t;\nmessage R {}\n\
         service S { rpc Old(R) returns (R) { option deprecated = true; } rpc New2(R) returns (R); }\n\
         service D { option deprecated = true; rpc Get(R) returns (R); }\n",
    )
    .expect("compiles");
    let code = compact(&files, "t.rs");
    assert!(code.contains("#[deprecated]pubasyncfnold("), "{code}");
    assert!(!code.contains("#[deprecated]pubasyncfnnew2("), "{code}");
    assert!(
        code.contains("#[deprecated]#[derive(Debug,Clone)]pubstructDClient"),
        "{code}"
    );
    assert!(
        code.contains("#[deprecated]#[derive(Debug)]pubstructDServer"),
        "{code}"
    );
}

#[test]
fn keyword_packages_keep_their_proto_name_and_nest_in_the_include_file() {
    let files = generate_with(
        redis_bus_build::configure().include_file("all.rs"),
        &[(
            "test.proto",
            "syntax = \"proto3\";\npackage my.type.v1;\nmessage R {}\n\
             service S { rpc Get(R) returns (R); }\n",
        )],
    )
    .expect("compiles");
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["all.rs", "my.type.v1.rs"]);
    assert!(
        compact(&files, "all.rs")
            .contains("pubmodmy{pubmodr#type{pubmodv1{include!(\"my.type.v1.rs\");}}}"),
        "{}",
        files[0].content
    );
}

#[test]
fn builder_options_reach_prost_build_and_the_services() {
    let source = "syntax = \"proto3\";\npackage t;\n\
                  // A message.\nmessage R { int64 a = 1; }\n\
                  // Serves R.\nservice S {\n  // Gets R.\n  rpc Get(R) returns (R);\n}\n";
    let files = generate_with(
        redis_bus_build::configure()
            .type_attribute(".t.R", "#[derive(Eq, Hash)]")
            .field_attribute(".t.R.a", "#[doc(alias = \"alpha\")]")
            .disable_comments(["."])
            .build_client(false),
        &[("test.proto", source)],
    )
    .expect("compiles");
    let code = compact(&files, "t.rs");
    assert!(code.contains("#[derive(Eq,Hash)]"), "{code}");
    assert!(code.contains("#[doc(alias=\"alpha\")]"), "{code}");
    // Not in the docs; the descriptor set still carries them, for tools.
    assert!(
        !code.contains("///Amessage"),
        "message comments disabled: {code}"
    );
    assert!(
        !code.contains("///ServesR"),
        "service comments disabled: {code}"
    );
    assert!(!code.contains("///GetsR"), "rpc comments disabled: {code}");
    assert!(code.contains("\\x0BServesR."), "{code}");
    assert!(code.contains("pubtraitS"), "{code}");
    assert!(!code.contains("SClient"), "no client: {code}");
}

#[test]
fn proto_comments_never_become_doctests_or_html() {
    let source = "syntax = \"proto3\";\npackage t;\nmessage R {}\n\
                  // Returns a <thing>.\n//\n//     let x = 1;\n//\n// ```\n// y();\n// ```\n\
                  service S { rpc Get(R) returns (R); }\n";
    let files = generate(source).expect("compiles");
    let content = &files[0].content;
    assert!(content.contains("/// Returns a `<thing>`."), "{content}");
    assert_eq!(content.matches("/// ```text").count(), 2, "{content}");
}
