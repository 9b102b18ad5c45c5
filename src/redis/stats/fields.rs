//! The names of the fields of the statistics hashes, shared by the
//! processes that add into them and the readers.

use crate::seam::stats::{CODES, LATENCY_BOUNDS_US, code_of};
use crate::seam::status::Code;

/// The number of latency buckets: one per bound, and one for slower calls.
pub(crate) const BUCKETS: usize = LATENCY_BOUNDS_US.len() + 1;

/// The field of handling-time bucket `index`.
pub(crate) fn latency(index: usize) -> String {
    bucket_field("latency_us", index)
}

/// The field of whole-call bucket `index` (the time a caller waited).
pub(crate) fn call_latency(index: usize) -> String {
    bucket_field("call_us", index)
}

fn bucket_field(prefix: &str, index: usize) -> String {
    match LATENCY_BOUNDS_US.get(index) {
        Some(bound) => format!("{prefix}_le_{bound}"),
        None => format!("{prefix}_over"),
    }
}

/// The prefix of the fields counting failures by code:
/// `errors_code_DEADLINE_EXCEEDED`.
const CODE_PREFIX: &str = "errors_code_";

/// The field counting failures with `code`.
pub(crate) fn errors_with(code: Code) -> String {
    [CODE_PREFIX, code.as_str()].concat()
}

/// The code a field counts failures of, if it is such a field.
pub(crate) fn code_counted_by(field: &str) -> Option<Code> {
    let name = field.strip_prefix(CODE_PREFIX)?;
    (0..CODES).map(code_of).find(|code| code.as_str() == name)
}

/// A field of a worker's own hash, where each method has its own fields:
/// `<method> <field>` (method names hold no space).
pub(crate) fn of_method(method: &str, field: &str) -> String {
    [method, " ", field].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_fields_read_back_as_their_code() {
        for index in 0..CODES {
            let code = code_of(index);
            assert_eq!(code_counted_by(&errors_with(code)), Some(code));
        }
        assert_eq!(code_counted_by("errors_code_NOPE"), None);
        assert_eq!(code_counted_by("errors"), None);
        assert_eq!(latency(0), "latency_us_le_100");
        assert_eq!(call_latency(BUCKETS - 1), "call_us_over");
    }
}
