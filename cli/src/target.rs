//! `Target`: a method as typed on the command line, `SERVICE/METHOD`.

use std::fmt;
use std::str::FromStr;

/// A method of a service, e.g. `math.Math/Sum`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// The service's full name, e.g. `math.Math`.
    pub(crate) service: String,
    /// The method's proto name, e.g. `Sum`.
    pub(crate) method: String,
}

impl FromStr for Target {
    type Err = String;

    fn from_str(text: &str) -> Result<Target, String> {
        match text.rsplit_once('/') {
            Some((service, method)) if !service.is_empty() && !method.is_empty() => Ok(Target {
                service: service.to_owned(),
                method: method.to_owned(),
            }),
            _ => Err(format!(
                "expected SERVICE/METHOD, e.g. math.Math/Sum, not {text:?}"
            )),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.service, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split_at_the_slash() {
        let target: Target = "math.Math/Sum".parse().expect("parses");
        assert_eq!(target.service, "math.Math");
        assert_eq!(target.method, "Sum");
        assert_eq!(target.to_string(), "math.Math/Sum");
    }

    #[test]
    fn targets_need_both_halves() {
        for text in ["math.Math", "math.Math/", "/Sum", ""] {
            let error = text.parse::<Target>().expect_err(text);
            assert!(error.contains("expected SERVICE/METHOD"), "{error}");
        }
    }
}
