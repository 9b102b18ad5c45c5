//! Tab completion: commands, services, methods (cached ones after
//! `cache clear`), and the field names of a request being typed as JSON,
//! from the catalog of what is live.

use prost_reflect::{Kind, MessageDescriptor};

use super::catalog::Catalog;
use super::json_keys::{self, KeyPosition};
use super::parse;
use super::words;

/// One way to complete the word at the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    /// What a list of candidates shows, e.g. `Sum`.
    pub(crate) display: String,
    /// What replaces the text from the completion start to the cursor,
    /// e.g. `math.Math/Sum `.
    pub(crate) replacement: String,
}

impl Candidate {
    /// A candidate shown as it is inserted.
    fn plain(text: String) -> Candidate {
        Candidate {
            display: text.trim_end().to_owned(),
            replacement: text,
        }
    }
}

/// Which methods a target may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Methods {
    /// Any method.
    All,
    /// Only methods whose replies are cached.
    Cached,
}

/// Where completion of `line` with the cursor at byte `pos` starts, and
/// what may go there.
pub(crate) fn complete(catalog: &Catalog, line: &str, pos: usize) -> (usize, Vec<Candidate>) {
    let before = &line[..pos];
    let split = words::split(before);
    let texts = split.texts();
    if let Some((start, json)) = split.json {
        // The request of the target just before it: `SERVICE/METHOD {...`.
        return match texts.last().filter(|word| word.contains('/')) {
            Some(target) => complete_json(catalog, target, start, json),
            None => (pos, Vec::new()),
        };
    }
    // The word at the cursor: a new one after a space, else the last one.
    let (start, partial, previous) = match split.words.last() {
        Some(&(start, word)) if start + word.len() == pos => {
            (start, word, &texts[..texts.len() - 1])
        }
        _ => (pos, "", &texts[..]),
    };
    let candidates = match previous {
        [] => {
            let mut candidates = commands(partial);
            candidates.extend(targets(catalog, partial, Methods::All));
            candidates
        }
        ["stats", ..] if partial.starts_with('-') => words_starting(STATS_FLAGS, partial),
        ["describe" | "stats" | "ping"] => services(catalog, partial),
        ["call"] => targets(catalog, partial, Methods::All),
        ["cache"] => words_starting(&["clear"], partial),
        ["cache", "clear"] => targets(catalog, partial, Methods::Cached),
        ["cleanup"] => words_starting(&["--yes"], partial),
        ["help"] => commands(partial),
        [target] | ["call" | "cache", .., target] if target.contains('/') && partial.is_empty() => {
            return complete_json(catalog, target, pos, "");
        }
        _ => Vec::new(),
    };
    (start, candidates)
}

/// The flags of `stats`.
const STATS_FLAGS: &[&str] = &["--window", "--instances"];

/// The shell's commands that start with `partial`.
fn commands(partial: &str) -> Vec<Candidate> {
    let names: Vec<&str> = parse::command_names().iter().map(String::as_str).collect();
    words_starting(&names, partial)
}

/// Those of `words` that start with `partial`, each followed by a space.
fn words_starting(words: &[&str], partial: &str) -> Vec<Candidate> {
    words
        .iter()
        .filter(|word| word.starts_with(partial))
        .map(|word| Candidate::plain(format!("{word} ")))
        .collect()
}

/// Services that start with `partial`, each followed by a space.
fn services(catalog: &Catalog, partial: &str) -> Vec<Candidate> {
    catalog
        .services
        .iter()
        .filter(|service| service.name.starts_with(partial))
        .map(|service| Candidate::plain(format!("{} ", service.name)))
        .collect()
}

/// `SERVICE/METHOD` targets: before the slash, services (with the slash,
/// so that the next Tab lists methods); after it, the service's methods.
fn targets(catalog: &Catalog, partial: &str, which: Methods) -> Vec<Candidate> {
    let offers = |cached: bool| which == Methods::All || cached;
    if let Some((service, method)) = partial.rsplit_once('/') {
        let Some(entry) = catalog.service(service) else {
            return Vec::new();
        };
        return entry
            .methods
            .iter()
            .filter(|m| m.name.starts_with(method) && offers(m.cached))
            .map(|m| Candidate {
                display: m.name.clone(),
                replacement: format!("{service}/{} ", m.name),
            })
            .collect();
    }
    catalog
        .services
        .iter()
        .filter(|service| {
            service.name.starts_with(partial) && service.methods.iter().any(|m| offers(m.cached))
        })
        .map(|service| Candidate::plain(format!("{}/", service.name)))
        .collect()
}

/// Field names of `target`'s request where a key of the JSON `json`
/// (starting at byte `start` of the line) can be typed.
fn complete_json(
    catalog: &Catalog,
    target: &str,
    start: usize,
    json: &str,
) -> (usize, Vec<Candidate>) {
    let end = start + json.len();
    let request = target
        .rsplit_once('/')
        .and_then(|(service, method)| catalog.method(service, method))
        .and_then(|method| method.request.clone());
    let Some(request) = request else {
        return (end, Vec::new());
    };
    // Nothing typed yet: offer to open the request with each field.
    if json.is_empty() {
        let candidates = request
            .fields()
            .map(|field| Candidate {
                display: field.json_name().to_owned(),
                replacement: format!("{{\"{}\": ", field.json_name()),
            })
            .collect();
        return (start, candidates);
    }
    let json_text = json.strip_prefix('\'').unwrap_or(json);
    let Some(position) = json_keys::key_position(json_text) else {
        return (end, Vec::new());
    };
    let Some(message) = message_at(&request, &position.path) else {
        return (end, Vec::new());
    };
    let candidates = fields(&message, &position);
    let start = if position.quote_open {
        end - position.typed.len()
    } else {
        end
    };
    (start, candidates)
}

/// The fields of `message` that may be typed at `position`: those not
/// typed yet whose JSON or proto name starts with what is typed.
fn fields(message: &MessageDescriptor, position: &KeyPosition) -> Vec<Candidate> {
    message
        .fields()
        .filter(|field| {
            let named = |name: &str| position.present.iter().any(|p| p == name);
            !named(field.json_name()) && !named(field.name())
        })
        .filter(|field| {
            field.json_name().starts_with(&position.typed)
                || field.name().starts_with(&position.typed)
        })
        .map(|field| {
            let name = field.json_name();
            let replacement = if position.quote_open {
                format!("{name}\": ")
            } else {
                format!("\"{name}\": ")
            };
            Candidate {
                display: name.to_owned(),
                replacement,
            }
        })
        .collect()
}

/// The message that the object at `path` inside `request` stands for:
/// each key names a message field (through a map, the next key is the
/// map's key). `None` where keys are free (a map) or not fields (a
/// well-known type, written in JSON in its own form).
fn message_at(request: &MessageDescriptor, path: &[String]) -> Option<MessageDescriptor> {
    let mut message = request.clone();
    let mut keys = path.iter();
    while let Some(key) = keys.next() {
        let field = message
            .get_field_by_json_name(key)
            .or_else(|| message.get_field_by_name(key))?;
        let kind = if field.is_map() {
            keys.next()?;
            let Kind::Message(entry) = field.kind() else {
                return None;
            };
            entry.map_entry_value_field().kind()
        } else {
            field.kind()
        };
        let Kind::Message(inner) = kind else {
            return None;
        };
        message = inner;
    }
    (message.package_name() != "google.protobuf").then_some(message)
}

#[cfg(test)]
mod tests {
    use generated_examples::math::math_bus;
    use generated_examples::random::random_bus;
    use redis_bus::ServiceInfo;

    use super::super::catalog::ServiceEntry;
    use super::*;

    /// A catalog of the sample services, as discovery would fill it.
    fn catalog() -> Catalog {
        let entry = |info: &ServiceInfo| {
            let pool = info.descriptor_pool().expect("decodes");
            let methods = info
                .methods
                .iter()
                .map(|m| (m.name.to_owned(), m.cache_key.is_some()));
            ServiceEntry::new(info.name, methods, Some(&pool))
        };
        Catalog {
            services: vec![entry(&math_bus::SERVICE), entry(&random_bus::SERVICE)],
        }
    }

    /// The lines that completing the end of `line` would give.
    fn completed(catalog: &Catalog, line: &str) -> Vec<String> {
        let (start, candidates) = complete(catalog, line, line.len());
        candidates
            .into_iter()
            .map(|c| format!("{}{}", &line[..start], c.replacement))
            .collect()
    }

    #[test]
    fn the_first_word_is_a_command_or_a_service() {
        let catalog = catalog();
        assert_eq!(completed(&catalog, "de"), ["describe "]);
        assert_eq!(completed(&catalog, "m"), ["math.Math/"]);
        let all = completed(&catalog, "");
        for expected in [
            "services ",
            "cache ",
            "exit ",
            "math.Math/",
            "random.Random/",
        ] {
            assert!(all.iter().any(|c| c == expected), "{expected} in {all:?}");
        }
    }

    #[test]
    fn methods_follow_their_service() {
        let catalog = catalog();
        assert_eq!(
            completed(&catalog, "math.Math/"),
            ["math.Math/Sum ", "math.Math/Now "]
        );
        assert_eq!(
            completed(&catalog, "random.Random/Pa"),
            ["random.Random/Password "]
        );
        assert_eq!(
            completed(&catalog, "call random.Random/Uuids"),
            ["call random.Random/Uuids "]
        );
        assert!(completed(&catalog, "nope.Nope/").is_empty());
    }

    #[test]
    fn cache_clear_offers_cached_methods_only() {
        let catalog = catalog();
        assert_eq!(completed(&catalog, "cache c"), ["cache clear "]);
        assert_eq!(
            completed(&catalog, "cache clear "),
            ["cache clear math.Math/"]
        );
        assert_eq!(
            completed(&catalog, "cache clear math.Math/"),
            ["cache clear math.Math/Sum ", "cache clear math.Math/Now "]
        );
        assert!(completed(&catalog, "cache clear random.Random/").is_empty());
    }

    #[test]
    fn describe_and_stats_take_services() {
        let catalog = catalog();
        assert_eq!(
            completed(&catalog, "describe r"),
            ["describe random.Random "]
        );
        assert_eq!(
            completed(&catalog, "stats "),
            ["stats math.Math ", "stats random.Random "]
        );
        assert_eq!(
            completed(&catalog, "stats math.Math --i"),
            ["stats math.Math --instances "]
        );
        assert_eq!(
            completed(&catalog, "stats --"),
            ["stats --window ", "stats --instances "]
        );
    }

    #[test]
    fn request_fields_complete_inside_the_json() {
        let catalog = catalog();
        assert_eq!(
            completed(&catalog, "math.Math/Sum "),
            [r#"math.Math/Sum {"a": "#, r#"math.Math/Sum {"b": "#]
        );
        assert_eq!(
            completed(&catalog, r#"math.Math/Sum {"a": 1, "#),
            [r#"math.Math/Sum {"a": 1, "b": "#]
        );
        assert_eq!(
            completed(&catalog, r#"random.Random/Password {"le"#),
            [r#"random.Random/Password {"length": "#]
        );
        assert_eq!(
            completed(&catalog, r#"cache clear math.Math/Now '{"s"#),
            [r#"cache clear math.Math/Now '{"seed": "#]
        );
        assert!(completed(&catalog, r#"math.Math/Sum {"a": "#).is_empty());
    }

    #[test]
    fn well_known_types_get_no_field_names() {
        let catalog = catalog();
        let pool = math_bus::SERVICE.descriptor_pool().expect("decodes");
        let reply = pool.get_message_by_name("math.NowReply").expect("known");
        assert!(message_at(&reply, &["time".to_owned()]).is_none());
        assert!(completed(&catalog, r#"math.Math/Now {"seed": {"#).is_empty());
    }
}
