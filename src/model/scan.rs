//! The parser positions an argument's value but not the items inside it; this finds where
//! each item of a list literal starts, so `@auth` rules can be reported one by one.

use async_graphql::Pos;

/// The start of each item of the list literal `[...]` that begins at `at` in `text`.
/// Empty when `at` is not the start of a list. Lines and columns count like the parser's
/// (1-based, columns in characters, `\n` or `\r\n` ends a line).
pub(super) fn list_item_positions(text: &str, at: Pos) -> Vec<Pos> {
    let mut chars = Positions::new(text).skip_while(|(p, _)| *p != at).peekable();
    if !matches!(chars.next(), Some((_, '['))) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut depth = 1usize;
    let mut expecting = true;
    while let Some((pos, c)) = chars.next() {
        match c {
            '#' => while chars.next_if(|(_, c)| *c != '\n').is_some() {},
            '"' => {
                if depth == 1 && expecting {
                    out.push(pos);
                }
                let block = chars.next_if(|(_, c)| *c == '"').is_some();
                if block && chars.next_if(|(_, c)| *c == '"').is_none() {
                    // `""`: an empty string.
                } else if block {
                    let mut quotes = 0;
                    for (_, c) in chars.by_ref() {
                        quotes = if c == '"' { quotes + 1 } else { 0 };
                        if quotes == 3 {
                            break;
                        }
                    }
                } else {
                    while let Some((_, c)) = chars.next() {
                        match c {
                            '\\' => {
                                chars.next();
                            }
                            '"' | '\n' => break,
                            _ => {}
                        }
                    }
                }
                expecting = depth == 1;
            }
            '[' | '{' | '(' => {
                if depth == 1 && expecting {
                    out.push(pos);
                    expecting = false;
                }
                depth += 1;
            }
            ']' | '}' | ')' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
                expecting = depth == 1;
            }
            c if c == ',' || c.is_whitespace() => expecting = depth == 1 || expecting,
            _ => {
                if depth == 1 && expecting {
                    out.push(pos);
                    expecting = false;
                }
            }
        }
    }
    out
}

/// Characters with their parser-style positions.
struct Positions<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
    column: usize,
}

impl<'a> Positions<'a> {
    fn new(text: &'a str) -> Self {
        Self { chars: text.chars().peekable(), line: 1, column: 1 }
    }
}

impl Iterator for Positions<'_> {
    type Item = (Pos, char);
    fn next(&mut self) -> Option<(Pos, char)> {
        let c = self.chars.next()?;
        let pos = Pos { line: self.line, column: self.column };
        if c == '\n' || (c == '\r' && self.chars.peek() == Some(&'\n')) {
            if c == '\r' {
                self.chars.next();
            }
            self.line += 1;
            self.column = 1;
            return Some((pos, '\n'));
        }
        self.column += 1;
        Some((pos, c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: usize, column: usize) -> Pos {
        Pos { line, column }
    }

    #[test]
    fn items_of_a_multiline_list() {
        let text = "x @auth(rules: [\n  { allow: public, operations: [read] } # a {\n  { allow: owner, ownerField: \"a}b\" },\n  \"\"\"x]\"\"\" plain\r\n  {allow: private}\n])";
        assert_eq!(list_item_positions(text, p(1, 16)), vec![p(2, 3), p(3, 3), p(4, 3), p(4, 12), p(5, 3)]);
    }

    #[test]
    fn not_a_list() {
        assert!(list_item_positions("{ a: 1 }", p(1, 1)).is_empty());
        assert_eq!(list_item_positions("[]", p(1, 1)), Vec::<Pos>::new());
        assert_eq!(list_item_positions("[\"\", b]", p(1, 1)), vec![p(1, 2), p(1, 6)]);
    }
}
