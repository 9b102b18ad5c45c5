//! Client and server each open a span per call (method, call id, outcome,
//! duration), and the W3C trace context travels with the request, so that
//! the spans of a call tree across services share one trace.

use crate::common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use generated_examples::math::math_bus::{Math, MathClient, MathServer};
use generated_examples::math::{NowReply, NowRequest, SumReply, SumRequest};
use generated_examples::random::UuidRequest;
use generated_examples::random::random_bus::{RandomClient, RandomServer};
use generated_examples::services::RandomService;
use redis_bus::{Bus, Server, Status};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// A span's name and its fields.
type SpanRecord = (String, HashMap<String, String>);

/// The fields of every span opened, by span id.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<HashMap<u64, SpanRecord>>>);

struct FieldsOf<'a>(&'a mut HashMap<String, String>);

impl Visit for FieldsOf<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_owned(),
            format!("{value:?}").trim_matches('"').to_owned(),
        );
    }
}

impl<S: tracing::Subscriber> Layer<S> for Spans {
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut fields = HashMap::new();
        attributes.record(&mut FieldsOf(&mut fields));
        let name = attributes.metadata().name().to_owned();
        self.0.lock().unwrap().insert(id.into_u64(), (name, fields));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        if let Some((_, fields)) = self.0.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(&mut FieldsOf(fields));
        }
    }
}

impl Spans {
    /// The fields of the one span called `name` for `method`.
    fn one(&self, name: &str, method: &str) -> HashMap<String, String> {
        let spans = self.0.lock().unwrap();
        let found: Vec<_> = spans
            .values()
            .filter(|(n, fields)| {
                n == name && fields.get("method").map(String::as_str) == Some(method)
            })
            .collect();
        assert_eq!(found.len(), 1, "one {name} span for {method}: {found:?}");
        found[0].1.clone()
    }
}

/// A math service whose sum calls random, to make a call tree.
struct Caller {
    bus: Bus,
}

#[redis_bus::codegen::async_trait]
impl Math for Caller {
    async fn sum(&self, request: SumRequest) -> Result<SumReply, Status> {
        RandomClient::new(&self.bus).uuid(UuidRequest {}).await?;
        Ok(SumReply {
            sum: request.a + request.b,
        })
    }

    async fn now(&self, _request: NowRequest) -> Result<NowReply, Status> {
        Err(Status::unimplemented("not traced"))
    }
}

// On a current-thread runtime, so that every task of the test (and no
// other test's) records into this test's subscriber.
#[tokio::test(flavor = "current_thread")]
async fn spans_of_a_call_tree_share_one_trace() {
    let spans = Spans::default();
    let _recording =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(spans.clone()));
    let (redis, bus) = common::redis_and_bus().await;
    let _server = Server::new(&bus)
        .add_service(MathServer::new(Caller {
            bus: common::connect(&redis, "test").await,
        }))
        .add_service(RandomServer::new(RandomService))
        .start()
        .await
        .unwrap();

    MathClient::new(&bus)
        .sum(SumRequest { a: 1, b: 2 })
        .await
        .unwrap();

    let outer_call = spans.one("redis_bus.call", "math.Math/Sum");
    let outer_serve = spans.one("redis_bus.serve", "math.Math/Sum");
    let inner_call = spans.one("redis_bus.call", "random.Random/Uuid");
    let inner_serve = spans.one("redis_bus.serve", "random.Random/Uuid");
    let trace = &outer_call["trace_id"];
    assert_eq!(trace.len(), 32, "{outer_call:?}");
    for span in [&outer_serve, &inner_call, &inner_serve] {
        assert_eq!(&span["trace_id"], trace, "one trace: {span:?}");
    }
    assert_eq!(outer_serve["parent_span_id"], outer_call["span_id"]);
    assert_eq!(inner_call["span_id"].len(), 16);
    assert_eq!(inner_serve["parent_span_id"], inner_call["span_id"]);
    for span in [&outer_call, &outer_serve, &inner_call, &inner_serve] {
        assert_eq!(span["outcome"], "OK", "{span:?}");
        assert!(span["duration_us"].parse::<u64>().is_ok(), "{span:?}");
        // 128 random bits, as 32 hex digits.
        let call_id = &span["call_id"];
        assert!(
            call_id.len() == 32 && u128::from_str_radix(call_id, 16).is_ok(),
            "{span:?}"
        );
    }
    assert_eq!(outer_call["call_id"], outer_serve["call_id"]);
}
