//! Cache keys never collide: two distinct requests of a method always get
//! distinct keys, whatever their field values (separators, the unset
//! marker, percent signs, empty strings, unicode), checked over random
//! requests of a method that mixes every kind of placeholder.

use proptest::prelude::*;
use redis_bus::{CacheKeyWriter, Method};
use redis_bus_test_services::keys::keys_bus::methods::Find;
use redis_bus_test_services::keys::{FindRequest, Owner};

/// The key text of a request, as the generated code writes it.
fn key(request: &FindRequest) -> String {
    let mut writer = CacheKeyWriter::new(Find::INFO.cache_key.expect("Find is cached"));
    Find::cache_key(request, &mut writer);
    writer.finish()
}

/// Strings made of the characters that matter: the template's separators,
/// the escape and unset markers, and a few ordinary ones.
fn tricky_string() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('/'),
            Just(':'),
            Just('-'),
            Just('.'),
            Just('%'),
            Just('~'),
            Just('{'),
            Just('}'),
            Just('a'),
            Just('1'),
            Just(' '),
            Just('é'),
        ],
        0..6,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn request() -> impl Strategy<Value = FindRequest> {
    (
        tricky_string(),
        proptest::option::of(tricky_string()),
        proptest::option::of(-3i64..3),
        proptest::collection::vec(any::<u8>(), 0..3),
        prop_oneof![
            Just(0.0),
            Just(-0.0),
            Just(1.5),
            Just(-2.0),
            Just(1e21),
            Just(f64::INFINITY),
            Just(f64::NAN),
        ],
    )
        .prop_map(|(name, tag, owner, blob, score)| FindRequest {
            name,
            tag,
            owner: owner.map(|id| Owner { id }),
            blob,
            score,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn dynamic_requests_get_the_generated_key(request in request()) {
        use redis_bus::codegen::prost::Message;
        let pool = redis_bus_test_services::keys::keys_bus::SERVICE.descriptor_pool().unwrap();
        let descriptor = pool.get_message_by_name("keys.FindRequest").unwrap();
        let dynamic = prost_reflect::DynamicMessage::decode(descriptor, request.encode_to_vec().as_slice()).unwrap();
        let template = Find::INFO.cache_key.unwrap();
        prop_assert_eq!(CacheKeyWriter::dynamic(template, &dynamic).unwrap(), key(&request));
    }

    #[test]
    fn distinct_requests_get_distinct_keys(a in request(), b in request()) {
        // Equal protobuf encodings are the same request on the wire.
        use redis_bus::codegen::prost::Message;
        if a.encode_to_vec() != b.encode_to_vec() {
            prop_assert_ne!(key(&a), key(&b), "{:?} and {:?}", a, b);
        } else {
            prop_assert_eq!(key(&a), key(&b));
        }
    }
}

#[test]
fn keys_read_naturally_and_name_unset_fields() {
    let request = FindRequest {
        name: "ada".into(),
        tag: None,
        owner: Some(Owner { id: 7 }),
        blob: vec![0xab],
        score: 1.5,
    };
    assert_eq!(key(&request), "ada/~:7-ab.1%2E5");
    let empty_tag = FindRequest {
        tag: Some(String::new()),
        ..request.clone()
    };
    assert_eq!(
        key(&empty_tag),
        "ada/:7-ab.1%2E5",
        "an empty tag is not an unset one"
    );
    let no_owner = FindRequest {
        owner: None,
        ..request
    };
    assert_eq!(key(&no_owner), "ada/~:~-ab.1%2E5");
}
