//! Renders diagnostics for people: `FILE:LINE:COLUMN: error: MESSAGE`, the source line with a
//! caret under the problem, and a hint.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::diagnostic::{Diagnostic, Severity};

/// Renders one diagnostic of `file_name`, whose text is `source`.
pub fn render(file_name: &str, source: &str, diagnostic: &Diagnostic, color: bool) -> String {
    let label = diagnostic.severity.label();
    let header_label = if color {
        let style = match diagnostic.severity {
            Severity::Error => anstyle::AnsiColor::Red.on_default().bold(),
            Severity::Warning => anstyle::AnsiColor::Yellow.on_default().bold(),
        };
        format!("{style}{label}{style:#}")
    } else {
        label.to_owned()
    };
    let mut out = format!(
        "{file_name}:{}:{}: {header_label}: {}\n",
        diagnostic.position.line, diagnostic.position.column, diagnostic.message
    );
    let level = match diagnostic.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let line_text = source
        .lines()
        .nth(diagnostic.position.line.saturating_sub(1))
        .unwrap_or_default();
    let mut group = Group::with_level(level.clone());
    if !line_text.is_empty() {
        let span = token_span(line_text, diagnostic.position.column);
        group = group.element(
            Snippet::source(line_text)
                .line_start(diagnostic.position.line)
                .annotation(AnnotationKind::Primary.span(span)),
        );
    }
    if let Some(hint) = &diagnostic.hint {
        group = group.element(Level::HELP.message(hint.as_str()));
    }
    if !line_text.is_empty() || diagnostic.hint.is_some() {
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        out.push_str(&renderer.render(&[group]));
        out.push('\n');
    }
    out
}

/// The byte range of the token starting at 1-based character `column` of `line`.
fn token_span(line: &str, column: usize) -> std::ops::Range<usize> {
    let start = line
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line.len(), |(i, _)| i);
    let rest = &line[start..];
    let quoted = rest.starts_with(['"', '\'']);
    let mut end = start;
    for (i, c) in rest.char_indices() {
        let stop = if quoted {
            i > 0 && (c == '"' || c == '\'')
        } else {
            c.is_whitespace() || ":,]}#".contains(c)
        };
        end = start + i + c.len_utf8();
        if stop {
            if !quoted {
                end -= c.len_utf8();
            }
            break;
        }
    }
    if end <= start {
        // Point at one character even at the end of a line.
        end = (start + rest.chars().next().map_or(0, char::len_utf8)).max(start);
    }
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Position;

    #[test]
    fn renders_header_snippet_and_hint() {
        let source = "spec:\n  instanceType: [m5.large]\n";
        let diagnostic = Diagnostic::error(
            Position { line: 2, column: 3 },
            "unknown field `instanceType`, did you mean `instanceTypes`?",
        )
        .with_hint("see docs/spec.md");
        let text = render("a.yaml", source, &diagnostic, false);
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("a.yaml:2:3: error: unknown field `instanceType`, did you mean `instanceTypes`?")
        );
        assert!(text.contains("2 |   instanceType: [m5.large]"), "{text}");
        assert!(text.contains("^^^^^^^^^^^^"), "{text}");
        assert!(text.contains("help: see docs/spec.md"), "{text}");
    }

    #[test]
    fn spans() {
        assert_eq!(token_span("  name: \"x y\"", 9), 8..13);
        assert_eq!(token_span("a: b", 4), 3..4);
        assert_eq!(token_span("a:", 3), 2..2);
    }
}
