//! The document a trace may carry (`graphql.document`): the executed document printed again
//! with every literal value replaced by `?` (what a caller types into a query, a search text
//! or an e-mail address, never reaches a trace; `$variables` stay names), on one line, and cut
//! at [`MAX_DOCUMENT_BYTES`].

use std::fmt::{self, Write};

use async_graphql::parser::Positioned;
use async_graphql::parser::types::{
    Directive, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};
use async_graphql_value::Value;

/// The longest document a span carries, in bytes; a longer one ends with `…`.
pub const MAX_DOCUMENT_BYTES: usize = 2048;

/// `document` without its literal values, at most [`MAX_DOCUMENT_BYTES`] (plus the `…`).
pub(crate) fn sanitized(document: &ExecutableDocument) -> String {
    let mut out = Bounded {
        text: String::new(),
        full: false,
    };
    let written = print(&mut out, document);
    let mut text = out.text;
    if written.is_err() {
        text.push('…');
    }
    text
}

/// A string that refuses to grow past the bound, at a character boundary.
struct Bounded {
    text: String,
    full: bool,
}

impl Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.full {
            return Err(fmt::Error);
        }
        let room = MAX_DOCUMENT_BYTES.saturating_sub(self.text.len());
        if s.len() <= room {
            self.text.push_str(s);
            return Ok(());
        }
        let mut end = room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.text.push_str(&s[..end]);
        self.full = true;
        Err(fmt::Error)
    }
}

fn print(out: &mut impl Write, document: &ExecutableDocument) -> fmt::Result {
    let mut first = true;
    for (name, operation) in document.operations.iter() {
        if !first {
            out.write_char(' ')?;
        }
        first = false;
        operation_definition(out, name.map(|n| n.as_str()), &operation.node)?;
    }
    // By name: the document's map has no order of its own, and one text should read the same
    // in every trace.
    let mut fragments: Vec<_> = document.fragments.iter().collect();
    fragments.sort_unstable_by(|a, b| a.0.cmp(b.0));
    for (name, fragment) in fragments {
        write!(
            out,
            " fragment {name} on {}",
            fragment.node.type_condition.node.on.node
        )?;
        directives(out, &fragment.node.directives)?;
        selection_set(out, &fragment.node.selection_set.node)?;
    }
    Ok(())
}

fn operation_definition(
    out: &mut impl Write,
    name: Option<&str>,
    operation: &OperationDefinition,
) -> fmt::Result {
    write!(out, "{}", operation.ty)?;
    if let Some(name) = name {
        write!(out, " {name}")?;
    }
    if !operation.variable_definitions.is_empty() {
        out.write_char('(')?;
        for (i, definition) in operation.variable_definitions.iter().enumerate() {
            if i > 0 {
                out.write_str(", ")?;
            }
            let definition = &definition.node;
            write!(
                out,
                "${}: {}",
                definition.name.node, definition.var_type.node
            )?;
            if definition.default_value.is_some() {
                out.write_str(" = ?")?;
            }
        }
        out.write_char(')')?;
    }
    directives(out, &operation.directives)?;
    selection_set(out, &operation.selection_set.node)
}

fn selection_set(out: &mut impl Write, set: &SelectionSet) -> fmt::Result {
    if set.items.is_empty() {
        return Ok(());
    }
    out.write_str(" {")?;
    for item in &set.items {
        out.write_char(' ')?;
        match &item.node {
            Selection::Field(field) => {
                let field = &field.node;
                if let Some(alias) = &field.alias {
                    write!(out, "{}: ", alias.node)?;
                }
                out.write_str(&field.name.node)?;
                if !field.arguments.is_empty() {
                    out.write_char('(')?;
                    for (i, (name, value)) in field.arguments.iter().enumerate() {
                        if i > 0 {
                            out.write_str(", ")?;
                        }
                        write!(out, "{}: ", name.node)?;
                        value_placeholder(out, &value.node)?;
                    }
                    out.write_char(')')?;
                }
                directives(out, &field.directives)?;
                selection_set(out, &field.selection_set.node)?;
            }
            Selection::FragmentSpread(spread) => {
                write!(out, "...{}", spread.node.fragment_name.node)?;
                directives(out, &spread.node.directives)?;
            }
            Selection::InlineFragment(fragment) => {
                out.write_str("...")?;
                if let Some(condition) = &fragment.node.type_condition {
                    write!(out, " on {}", condition.node.on.node)?;
                }
                directives(out, &fragment.node.directives)?;
                selection_set(out, &fragment.node.selection_set.node)?;
            }
        }
    }
    out.write_str(" }")
}

fn directives(out: &mut impl Write, directives: &[Positioned<Directive>]) -> fmt::Result {
    for directive in directives {
        write!(out, " @{}", directive.node.name.node)?;
        if !directive.node.arguments.is_empty() {
            out.write_char('(')?;
            for (i, (name, value)) in directive.node.arguments.iter().enumerate() {
                if i > 0 {
                    out.write_str(", ")?;
                }
                write!(out, "{}: ", name.node)?;
                value_placeholder(out, &value.node)?;
            }
            out.write_char(')')?;
        }
    }
    Ok(())
}

/// A variable by its name; any literal (scalar, enum, list or object) as `?`.
fn value_placeholder(out: &mut impl Write, value: &Value) -> fmt::Result {
    match value {
        Value::Variable(name) => write!(out, "${name}"),
        _ => out.write_char('?'),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn sanitize(query: &str) -> String {
        sanitized(&async_graphql::parser::parse_query(query).unwrap())
    }

    #[test]
    fn literals_become_placeholders_and_variables_stay() {
        assert_eq!(
            sanitize(
                r#"query Find($id: ID!, $n: Int = 3) {
                    hit: customers(search: "jane.doe@acme.example", first: $n) @include(if: true) {
                        nodes { ...F ... on Customer { id } }
                    }
                    license(id: $id) { plan }
                }
                fragment F on Customer { name licenses(filter: {plan: ULTIMATE}) { id } }"#
            ),
            "query Find($id: ID!, $n: Int = ?) { hit: customers(search: ?, first: $n) @include(if: ?) \
             { nodes { ...F ... on Customer { id } } } license(id: $id) { plan } } \
             fragment F on Customer { name licenses(filter: ?) { id } }"
        );
    }

    #[test]
    fn a_long_document_is_cut_at_the_bound() {
        let fields: Vec<String> = (0..2000).map(|i| format!("f{i}")).collect();
        let text = sanitize(&format!("{{ {} }}", fields.join(" ")));
        assert!(text.ends_with('…'));
        assert_eq!(text.len(), MAX_DOCUMENT_BYTES + '…'.len_utf8());
        assert!(text.starts_with("query { f0 f1 "));
    }
}
