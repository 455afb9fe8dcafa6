//! "did you mean ...?" hints and name-case helpers for schema diagnostics.

use super::naming;

/// Case-insensitive edit distance, counting a swap of two neighbours as one edit
/// (optimal string alignment), so `psot` is one edit from `post`.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().flat_map(char::to_lowercase).collect();
    let b: Vec<char> = b.chars().flat_map(char::to_lowercase).collect();
    // d[i][j]: distance between a[..i] and b[..j].
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The candidate closest to `word`, if it is close enough to be a plausible typo.
pub(super) fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// ` (did you mean "x"?)`, or nothing when no candidate is close.
pub(super) fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates).map(|c| format!(" (did you mean \"{c}\"?)")).unwrap_or_default()
}

/// `a, b or c`
pub(super) fn one_of(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

pub(super) fn is_pascal_case(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) && name.chars().all(|c| c.is_ascii_alphanumeric())
}

pub(super) fn is_camel_case(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// `blog_post` / `blogPost` → `BlogPost`.
pub(super) fn to_pascal_case(name: &str) -> String {
    name.split('_').filter(|p| !p.is_empty()).map(naming::upper_first).collect()
}

/// `first_name` / `FirstName` → `firstName`.
pub(super) fn to_camel_case(name: &str) -> String {
    let trimmed = name.trim_start_matches('_');
    if trimmed.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
        // SCREAMING_CASE: `FIRST_NAME` → `firstName`.
        return naming::lower_first(&to_pascal_case(&trimmed.to_ascii_lowercase()));
    }
    naming::lower_first(&to_pascal_case(trimmed))
}

/// `draft` / `inReview` → `DRAFT` / `IN_REVIEW`.
pub(super) fn to_screaming_case(name: &str) -> String {
    naming::snake_case(name).to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(edit_distance("Autor", "Author"), 1);
        assert_eq!(edit_distance("string", "String"), 0);
        assert_eq!(edit_distance("psot", "post"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(closest("Autor", ["Post", "Author", "User"]), Some("Author"));
        assert_eq!(closest("Zebra", ["Post", "Author", "User"]), None);
        assert_eq!(did_you_mean("stauts", ["status", "slug"]), " (did you mean \"status\"?)");
        assert_eq!(one_of(&["a", "b", "c"]), "a, b or c");
    }

    #[test]
    fn cases() {
        assert!(is_pascal_case("BlogPost"));
        assert!(!is_pascal_case("blogPost"));
        assert!(!is_pascal_case("Blog_Post"));
        assert!(is_camel_case("publishedAt"));
        assert!(!is_camel_case("published_at"));
        assert_eq!(to_pascal_case("blog_post"), "BlogPost");
        assert_eq!(to_camel_case("first_name"), "firstName");
        assert_eq!(to_camel_case("FirstName"), "firstName");
        assert_eq!(to_camel_case("FIRST_NAME"), "firstName");
        assert_eq!(to_screaming_case("inReview"), "IN_REVIEW");
    }
}
