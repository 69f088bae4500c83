//! A borrowed JSON tree for what the AWS normalizer walks (request, response, service event
//! details). The CloudTrail fast path builds it straight from a record's text without copying a
//! string; the general path borrows one from a parsed `serde_json::Value`. Either way it reads
//! as that `Value` reads: an object's keys are sorted and a key given twice keeps its last
//! value (`serde_json::Map`'s order and rule), and lookups tolerate the key spellings
//! [`super::json`] tolerates.

use super::json::field_of;
use serde_json::{Number, Value};

#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(&'a str),
    Array(Vec<Node<'a>>),
    /// Sorted by key, each key once.
    Object(Vec<(&'a str, Node<'a>)>),
}

impl<'a> Node<'a> {
    /// The tree of a parsed value, its strings borrowed.
    pub fn of(v: &'a Value) -> Node<'a> {
        match v {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Number(n.clone()),
            Value::String(s) => Node::String(s),
            Value::Array(items) => Node::Array(items.iter().map(Node::of).collect()),
            // A map iterates in key order, each key once.
            Value::Object(map) => {
                Node::Object(map.iter().map(|(k, v)| (&**k, Node::of(v))).collect())
            }
        }
    }

    /// An object of `members` as read, in the order read: sorted by key, the last of a repeated
    /// key kept, as `serde_json::Map` keeps it.
    pub fn object(mut members: Vec<(&'a str, Node<'a>)>) -> Node<'a> {
        if !members.windows(2).all(|w| w[0].0 < w[1].0) {
            // Stable: a repeated key's values stay in the order read.
            members.sort_by(|a, b| a.0.cmp(b.0));
            let mut kept: Vec<(&'a str, Node<'a>)> = Vec::with_capacity(members.len());
            for member in members {
                match kept.last_mut() {
                    Some(last) if last.0 == member.0 => *last = member,
                    _ => kept.push(member),
                }
            }
            members = kept;
        }
        Node::Object(members)
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }

    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Node::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The key spelled exactly, else the first key (in key order) spelled tolerantly, as
    /// [`super::json::field`] finds it.
    pub fn field(&self, key: &str) -> Option<&Node<'a>> {
        let Node::Object(members) = self else {
            return None;
        };
        field_of(members.iter().map(|(k, v)| (*k, v)), key)
    }

    /// Follow a path of tolerant keys through nested objects.
    pub fn path(&self, keys: &[&str]) -> Option<&Node<'a>> {
        keys.iter().try_fold(self, |cur, key| cur.field(key))
    }

    /// A non-empty string at a path.
    pub fn str_at(&self, keys: &[&str]) -> Option<&'a str> {
        self.path(keys)?.as_str().filter(|s| !s.is_empty())
    }

    /// A boolean at a path, or a string that spells one.
    pub fn bool_at(&self, keys: &[&str]) -> Option<bool> {
        match self.path(keys)? {
            Node::Bool(b) => Some(*b),
            Node::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// The items of an array at a path; none if it is absent or not an array.
    pub fn array_at(&self, keys: &[&str]) -> &[Node<'a>] {
        match self.path(keys) {
            Some(Node::Array(items)) => items,
            _ => &[],
        }
    }

    /// A key present and not `null`.
    pub fn has_key(&self, key: &str) -> bool {
        self.field(key).is_some_and(|v| !v.is_null())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::json;
    use serde_json::json;

    #[test]
    fn lookups_read_as_the_value_lookups_read() {
        let v = json!({"Snapshot_Id": "a", "snapshotid": "b", "snapshotId": "c", "n": 7, "f": 1.5,
            "t": "true", "b": false, "e": "", "x": {"items": [{"k": "v"}, 3]}, "z": null});
        let n = Node::of(&v);
        for keys in [
            &["snapshotId"][..],
            &["SNAPSHOT_ID"],
            &["_snapshot_id_"],
            &["e"],
            &["x", "items"],
            &["nope"],
            &["n"],
        ] {
            assert_eq!(n.str_at(keys), json::str_at(&v, keys), "{keys:?}");
            assert_eq!(n.bool_at(keys), json::bool_at(&v, keys), "{keys:?}");
        }
        for key in ["t", "b", "x", "z", "nope"] {
            assert_eq!(n.bool_at(&[key]), json::bool_at(&v, &[key]), "{key}");
            assert_eq!(n.has_key(key), !v[key].is_null(), "{key}");
        }
        assert_eq!(n.path(&["n"]).and_then(Node::as_i64), Some(7));
        assert_eq!(n.path(&["f"]).and_then(Node::as_i64), None);
        assert_eq!(n.array_at(&["x", "items"]).len(), 2);
        assert!(n.array_at(&["x"]).is_empty());
    }

    #[test]
    fn objects_as_read_keep_the_maps_order_and_its_last_value() {
        let read = Node::object(vec![
            ("b", Node::String("1")),
            ("a", Node::String("2")),
            ("b", Node::String("3")),
            ("", Node::Null),
        ]);
        let v: Value = serde_json::from_str(r#"{"b":"1","a":"2","b":"3","":null}"#).unwrap();
        assert_eq!(read, Node::of(&v));
        let Node::Object(members) = read else {
            unreachable!()
        };
        assert_eq!(
            members.iter().map(|m| m.0).collect::<Vec<_>>(),
            ["", "a", "b"]
        );
    }
}
