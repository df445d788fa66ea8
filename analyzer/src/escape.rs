//! Escaping untrusted text (from bundles and from user rule files) for a
//! terminal and for Markdown. A log line must not drive the operator's
//! terminal, and evidence pasted into a ticket must not become HTML, an image
//! or a link (`<img src=...>`, `[reset creds](https://...)`, issue 9).

/// Escape control characters (ANSI escapes, C1 codes, backspaces) and
/// invisible direction marks for display; tabs become spaces.
pub fn terminal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' => out.push(' '),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if invisible(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Characters that change how text around them reads without showing
/// themselves: Unicode's format characters (direction marks and overrides,
/// zero-width characters, the byte-order mark, invisible operators, tags),
/// line and paragraph separators, and fillers that render as blank.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
        | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}'
        | '\u{ffa0}' | '\u{fff9}'..='\u{fffb}' | '\u{600}'..='\u{605}' | '\u{6dd}'
        | '\u{70f}' | '\u{890}' | '\u{891}' | '\u{8e2}' | '\u{110bd}' | '\u{110cd}'
        | '\u{13430}'..='\u{1343f}' | '\u{1bca0}'..='\u{1bca3}' | '\u{1d173}'..='\u{1d17a}'
        | '\u{e0000}'..='\u{e0fff}')
}

/// Plain Markdown text: every character with meaning (emphasis, code, HTML,
/// links, images, tables, entities, autolinks) is backslash-escaped.
pub fn md_text(s: &str) -> String {
    let t = terminal(s);
    let mut out = String::with_capacity(t.len() + 8);
    let b = t.as_bytes();
    for (i, c) in t.char_indices() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '!' | '#' | '~' | '{'
            | '}' | '$' => {
                out.push('\\');
                out.push(c);
            }
            // Autolinks: `https://` and `www.` stop being recognisable.
            ':' if b.get(i + 1..i + 3) == Some(b"//") => out.push_str(":\\"),
            '.' if i >= 3 && t[..i].to_ascii_lowercase().ends_with("www") => out.push_str("\\."),
            '@' => out.push_str("\\@"),
            c => out.push(c),
        }
    }
    out
}

/// Untrusted text as an inline code span: nothing inside is interpreted.
/// The fence is longer than any backtick run inside; `in_table` also escapes
/// `|`, which splits a table cell even inside a code span.
pub fn md_code(s: &str, in_table: bool) -> String {
    let mut t = terminal(s);
    if in_table {
        t = t.replace('|', "\\|");
    }
    let mut longest = 0;
    let mut run = 0;
    for c in t.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    if t.is_empty() {
        return "` `".into();
    }
    let pad = if t.starts_with('`') || t.ends_with('`') || t.starts_with(' ') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{t}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes() {
        assert_eq!(terminal("a\x1b[31mred\x07"), "a\\x1b[31mred\\x07");
        assert_eq!(terminal("tab\there"), "tab here");
        assert_eq!(terminal("\u{202e}evil"), "\\u{202e}evil");
        // Format characters and separators that Unicode does not call
        // control characters: an Arabic letter mark, a byte-order mark, a
        // word joiner, a line separator, an invisible tag character.
        assert_eq!(
            terminal("a\u{61c}b\u{feff}c\u{2060}d\u{2028}e\u{e0041}f\u{ad}g"),
            "a\\u{61c}b\\u{feff}c\\u{2060}d\\u{2028}e\\u{e0041}f\\u{ad}g"
        );
        assert_eq!(terminal("é ü 漢字 ✓"), "é ü 漢字 ✓");
    }

    #[test]
    fn markdown_text_is_inert() {
        let e = md_text("<img src=x onerror=alert(1)> [reset creds](https://evil.example/x) ![i](y) www.evil.example a@b.c");
        for (i, c) in e.char_indices() {
            if matches!(c, '<' | '>' | '[' | ']' | '!') {
                assert_eq!(&e[i - 1..i], "\\", "unescaped {c} in {e}");
            }
        }
        assert!(e.contains("\\[reset creds\\]("), "{e}");
        assert!(e.contains("\\!\\[i\\]"), "{e}");
        assert!(!e.contains("https://"), "{e}");
        assert!(!e.contains("www."), "{e}");
        assert!(e.contains("\\<img"), "{e}");
    }

    #[test]
    fn code_spans_hold_backticks() {
        assert_eq!(md_code("a`b", false), "``a`b``");
        assert_eq!(md_code("`x`", false), "`` `x` ``");
        assert_eq!(md_code("a|b", true), "`a\\|b`");
        assert_eq!(md_code("line\nnext", false), "`line\\x0anext`");
    }
}
