//! Neutralizing attacker-controlled text. Every string in an alert can come from a log field
//! (user agents, resource names, error codes), and logs are written by whoever made the calls.

/// For terminals: control characters (ANSI escapes, carriage returns, backspaces) and Unicode
/// bidirectional overrides become visible `\u{..}` escapes, so text cannot repaint the screen
/// or reorder itself.
pub fn terminal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || is_bidi_control(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// For spreadsheets: a cell that starts with `= + - @` (or a tab / carriage return, which some
/// spreadsheet programs strip before looking) is a formula; prefix it with `'` so it is text.
/// Control characters are escaped as for terminals.
pub fn spreadsheet_cell(s: &str) -> String {
    let text = terminal(s);
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '|' | '%') => format!("'{text}"),
        _ => text,
    }
}

/// For JSON that may be shown in a web UI: serde_json already escapes control characters;
/// this also escapes `< > &` and the JavaScript line separators, as Go's encoding/json does.
/// The decoded value is unchanged, but the raw text can no longer open an HTML tag.
pub fn json_html_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if is_bidi_control(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            _ => out.push(c),
        }
    }
    out
}

/// A CSV field, quoted per RFC 4180 and neutralized for spreadsheets.
pub fn csv_field(s: &str) -> String {
    let cell = spreadsheet_cell(s);
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_ansi_and_bidi() {
        assert_eq!(terminal("a\x1b[31mred\x1b[0m"), "a\\u{1b}[31mred\\u{1b}[0m");
        assert_eq!(terminal("x\r\ny"), "x\\u{d}\\u{a}y");
        assert_eq!(terminal("evil\u{202E}gpj.exe"), "evil\\u{202e}gpj.exe");
        assert_eq!(
            terminal("aws-cli/2.15.0 Python/3.11"),
            "aws-cli/2.15.0 Python/3.11"
        );
    }

    #[test]
    fn spreadsheet_formulas_become_text() {
        for bad in ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "%0A"] {
            assert!(spreadsheet_cell(bad).starts_with('\''), "{bad}");
        }
        assert_eq!(spreadsheet_cell("snap-1"), "snap-1");
        // A leading tab is escaped away entirely, so it cannot hide a formula behind it.
        assert_eq!(spreadsheet_cell("\t=1"), "\\u{9}=1");
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
    }

    #[test]
    fn json_cannot_open_tags() {
        let raw = serde_json::to_string(&"<script>alert(1)</script>&").unwrap();
        let safe = json_html_safe(&raw);
        assert!(!safe.contains('<') && !safe.contains('>') && !safe.contains('&'));
        let back: String = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, "<script>alert(1)</script>&");
    }
}
