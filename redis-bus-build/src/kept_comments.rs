//! The comments a registered descriptor keeps: the leading and trailing
//! comments of services, rpcs, messages, fields, enums and their values,
//! so that tools reading the descriptor from Redis (`redis-bus describe`)
//! show them. Spans, detached comments and the comments of the file's
//! other declarations (syntax, package, imports, options) are left out:
//! they are what made the full source info three times the size of the
//! descriptor, and no tool reads them from a registration.

use prost_types::SourceCodeInfo;
use prost_types::source_code_info::Location;

/// `FileDescriptorProto` fields whose declarations keep their comments:
/// `message_type`, `enum_type` and `service`.
const DESCRIBED: [i32; 3] = [4, 5, 6];

/// The commented locations of `info` under the described declarations,
/// with their paths and comments only; `None` when none has a comment.
pub(crate) fn kept(info: Option<&SourceCodeInfo>) -> Option<SourceCodeInfo> {
    let location = info?
        .location
        .iter()
        .filter(|location| location.path.first().is_some_and(|f| DESCRIBED.contains(f)))
        .filter_map(|location| {
            let comment = |text: &Option<String>| {
                text.as_ref()
                    .filter(|text| !text.trim().is_empty())
                    .cloned()
            };
            let leading_comments = comment(&location.leading_comments);
            let trailing_comments = comment(&location.trailing_comments);
            (leading_comments.is_some() || trailing_comments.is_some()).then(|| Location {
                path: location.path.clone(),
                leading_comments,
                trailing_comments,
                ..Location::default()
            })
        })
        .collect::<Vec<_>>();
    (!location.is_empty()).then_some(SourceCodeInfo { location })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(path: &[i32], leading: Option<&str>, trailing: Option<&str>) -> Location {
        Location {
            path: path.to_vec(),
            span: vec![3, 0, 12],
            leading_comments: leading.map(str::to_owned),
            trailing_comments: trailing.map(str::to_owned),
            leading_detached_comments: vec!["detached".to_owned()],
        }
    }

    #[test]
    fn keeps_the_comments_of_declarations_and_drops_spans_and_the_rest() {
        let info = SourceCodeInfo {
            location: vec![
                at(&[12], Some(" syntax\n"), None),
                at(&[6, 0], Some(" The service.\n"), None),
                at(&[6, 0, 2, 1], None, Some(" an rpc\n")),
                at(&[4, 0, 2, 0], Some("  \n"), None),
                at(&[4, 1], None, None),
            ],
        };
        let commented = kept(Some(&info)).expect("two commented declarations");
        assert_eq!(
            commented.location,
            vec![
                Location {
                    path: vec![6, 0],
                    leading_comments: Some(" The service.\n".to_owned()),
                    ..Location::default()
                },
                Location {
                    path: vec![6, 0, 2, 1],
                    trailing_comments: Some(" an rpc\n".to_owned()),
                    ..Location::default()
                },
            ]
        );
        assert_eq!(kept(None), None);
        assert_eq!(
            kept(Some(&SourceCodeInfo {
                location: vec![at(&[4, 1], None, None)]
            })),
            None
        );
    }
}
