//! Finding what a person meant: short service names (`Math` for
//! `math.Math`) when only one service has that name, and "did you mean"
//! for a name that is close to a known one (a typo, another case).

/// What a name typed came to, among the known ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// This known name.
    Found(String),
    /// Not known, but close to this one.
    Suggest(String),
    /// A short name that several known names end with.
    Ambiguous(Vec<String>),
    /// Nothing near.
    Unknown,
}

/// Resolves `name` among `known` full names (`package.Name` or plain
/// method names): the exact name, else the only one whose last part is
/// `name`, else the closest one by edit distance (ignoring case).
pub(crate) fn resolve(name: &str, known: &[String]) -> Resolved {
    if known.iter().any(|k| k == name) {
        return Resolved::Found(name.to_owned());
    }
    let short = |full: &str| full.rsplit('.').next().unwrap_or(full).to_owned();
    let same_short: Vec<String> = known.iter().filter(|k| short(k) == name).cloned().collect();
    match same_short.len() {
        0 => {}
        1 => return Resolved::Found(same_short[0].clone()),
        _ => return Resolved::Ambiguous(same_short),
    }
    let lower = name.to_lowercase();
    let closest = known
        .iter()
        .map(|k| {
            let full = distance(&lower, &k.to_lowercase());
            let part = distance(&lower, &short(k).to_lowercase());
            (full.min(part), k)
        })
        .min();
    match closest {
        // A third of the name may be wrong, and at least two letters.
        Some((d, k)) if d <= (name.chars().count() / 3).max(2) => Resolved::Suggest(k.clone()),
        _ => Resolved::Unknown,
    }
}

/// The Levenshtein distance between `a` and `b`, in characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        ["math.Math", "random.Random", "billing.v1.Billing"]
            .map(str::to_owned)
            .to_vec()
    }

    #[test]
    fn exact_and_unambiguous_short_names_are_found() {
        assert_eq!(
            resolve("math.Math", &known()),
            Resolved::Found("math.Math".into())
        );
        assert_eq!(
            resolve("Math", &known()),
            Resolved::Found("math.Math".into())
        );
        assert_eq!(
            resolve("Billing", &known()),
            Resolved::Found("billing.v1.Billing".into())
        );
    }

    #[test]
    fn a_short_name_of_two_services_is_ambiguous() {
        let known = ["a.Math".to_owned(), "b.Math".to_owned()];
        assert_eq!(
            resolve("Math", &known),
            Resolved::Ambiguous(vec!["a.Math".into(), "b.Math".into()])
        );
    }

    #[test]
    fn typos_and_other_cases_get_a_suggestion() {
        assert_eq!(
            resolve("math.math", &known()),
            Resolved::Suggest("math.Math".into())
        );
        assert_eq!(
            resolve("Randon", &known()),
            Resolved::Suggest("random.Random".into())
        );
        let methods = ["Sum".to_owned(), "Now".to_owned()];
        assert_eq!(resolve("sum", &methods), Resolved::Suggest("Sum".into()));
        assert_eq!(resolve("Divide", &methods), Resolved::Unknown);
    }
}
