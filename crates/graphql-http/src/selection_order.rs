//! Puts the keys of every response map in the order of the query's selection set (the spec's
//! CollectFields order).
//!
//! async-graphql resolves the fields of an object concurrently and inserts each into the map
//! when it completes, so a field that waits on a loader can land after one selected later. This
//! pass walks the executed operation and the answer together and reorders each map: a key's
//! place is its first occurrence in the selection set, fragments expanded where they are
//! written.
//!
//! Type conditions are not evaluated: a key selected only in a fragment that does not apply is
//! simply absent from the map, so it takes no place. Only a document that selects the same keys
//! in different orders in fragments on different types can be ordered after the other fragment.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use async_graphql::Name;
use async_graphql::Value;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

/// Reorders `value` (the answer to `set`) and everything under it.
pub fn reorder(document: &ExecutableDocument, set: &SelectionSet, value: &mut Value) {
    Orderer {
        document,
        known: HashMap::new(),
    }
    .reorder_under(&[set], value);
}

/// The response keys of a selection, in order, each with the sub-selections that apply to it.
type Keys<'a> = IndexMap<&'a Name, Vec<&'a SelectionSet>>;

/// One pass over an answer. The keys of each selection are collected once, whatever the
/// number of objects that answer it (20 licenses, their 50 hostnames...).
struct Orderer<'a> {
    document: &'a ExecutableDocument,
    /// The keys of each group of selection sets met so far, by the sets' addresses.
    known: HashMap<Vec<*const SelectionSet>, Rc<Keys<'a>>>,
}

impl<'a> Orderer<'a> {
    /// `sets` are the selection sets that apply to one value: the same response key can be
    /// selected several times (`a { x } a { y }`), and its sub-selections merge.
    fn reorder_under(&mut self, sets: &[&'a SelectionSet], value: &mut Value) {
        match value {
            Value::List(items) => {
                for item in items {
                    self.reorder_under(sets, item);
                }
            }
            Value::Object(map) => {
                let keys = self.keys(sets);
                self.reorder_map(&keys, map);
            }
            _ => {}
        }
    }

    fn keys(&mut self, sets: &[&'a SelectionSet]) -> Rc<Keys<'a>> {
        let id: Vec<*const SelectionSet> = sets.iter().map(|set| *set as *const _).collect();
        let document = self.document;
        self.known
            .entry(id)
            .or_insert_with(|| {
                let mut keys = Keys::new();
                let mut seen = HashSet::new();
                for set in sets {
                    collect(document, set, &mut keys, &mut seen);
                }
                Rc::new(keys)
            })
            .clone()
    }

    /// Puts `map`'s entries in the order of `keys`, then reorders each value under its own
    /// sub-selections.
    fn reorder_map(&mut self, keys: &Keys<'a>, map: &mut IndexMap<Name, Value>) {
        // Keys the walk does not know (none today) keep their place after the known ones
        // rather than being dropped (the sort is stable).
        let place = |key: &Name| keys.get_index_of(key).unwrap_or(usize::MAX);
        let in_order = map
            .keys()
            .map(place)
            .try_fold(0, |last, at| (at >= last).then_some(at))
            .is_some();
        if !in_order {
            map.sort_by_cached_key(|key, _| place(key));
        }
        for (key, child) in map.iter_mut() {
            // Only objects and lists have maps below them; most values are leaves.
            if matches!(child, Value::Object(_) | Value::List(_))
                && let Some(children) = keys.get(key)
            {
                self.reorder_under(children, child);
            }
        }
    }
}

/// Collects the response keys of `set` in order, with the sub-selections of each; each named
/// fragment is expanded once per map (validation refuses cycles, this cannot loop anyway).
fn collect<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    keys: &mut Keys<'a>,
    seen: &mut HashSet<&'a Name>,
) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => keys
                .entry(&field.node.response_key().node)
                .or_default()
                .push(&field.node.selection_set.node),
            Selection::InlineFragment(fragment) => {
                collect(document, &fragment.node.selection_set.node, keys, seen);
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                if let Some(fragment) = document.fragments.get(name)
                    && seen.insert(name)
                {
                    collect(document, &fragment.node.selection_set.node, keys, seen);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use async_graphql::{Name, Value};

    use super::*;
    use async_graphql::parser::types::DocumentOperations;

    fn object(entries: &[(&str, Value)]) -> Value {
        Value::Object(
            entries
                .iter()
                .map(|(k, v)| (Name::new(k), v.clone()))
                .collect(),
        )
    }

    fn keys(value: &Value) -> Vec<String> {
        match value {
            Value::Object(map) => map.keys().map(|k| k.to_string()).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn maps_follow_the_selection_set_through_fragments_aliases_and_merges() {
        let document = async_graphql::parser::parse_query(
            "{ b: x { z y } a ...F x { w } } fragment F on Query { c }",
        )
        .unwrap();
        let DocumentOperations::Single(operation) = &document.operations else {
            panic!("one operation");
        };
        // As async-graphql could hand it over: in the order fields finished.
        let inner = object(&[("w", Value::Null), ("y", Value::Null), ("z", Value::Null)]);
        let mut data = object(&[
            ("x", object(&[("w", Value::Null)])),
            ("c", Value::Null),
            ("a", Value::Null),
            ("b", Value::List(vec![inner.clone(), inner])),
        ]);
        reorder(&document, &operation.node.selection_set.node, &mut data);
        assert_eq!(keys(&data), ["b", "a", "c", "x"]);
        let Value::Object(map) = &data else {
            panic!("an object");
        };
        let Value::List(items) = &map["b"] else {
            panic!("a list");
        };
        for item in items {
            // `b` selects only `z y`, so `w` (not selected under `b`) keeps its place after.
            assert_eq!(keys(item), ["z", "y", "w"]);
        }
    }
}
