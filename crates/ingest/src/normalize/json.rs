//! Small accessors over `serde_json::Value` that tolerate the key spellings seen in the wild:
//! camelCase, snake_case and lower-cased keys (Azure SDK dumps, Panther's lower-cased GCP logs).

use serde_json::{Map, Value};

/// Canonical form of a key for tolerant lookup: ASCII-lowercased, underscores dropped.
fn same_key(a: &str, b: &str) -> bool {
    // Most keys differ from the one looked for in their first letter: reject those before
    // walking both with the filters.
    let first = |s: &str| {
        s.bytes()
            .find(|&c| c != b'_')
            .map(|c| c.to_ascii_lowercase())
    };
    if first(a) != first(b) {
        return false;
    }
    let mut x = a.bytes().filter(|&c| c != b'_');
    let mut y = b.bytes().filter(|&c| c != b'_');
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) if p.eq_ignore_ascii_case(&q) => {}
            _ => return false,
        }
    }
}

/// The key spelled exactly, else the first key (in the map's order) spelled tolerantly.
pub fn field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    field_of(obj.iter().map(|(k, v)| (k.as_str(), v)), key)
}

/// [`field`]'s rule over any object's members in key order (the borrowed tree's too). One
/// pass: most lookups are for keys that are absent, which a search and then a scan visited
/// twice.
pub(super) fn field_of<'k, V>(
    members: impl IntoIterator<Item = (&'k str, V)>,
    key: &str,
) -> Option<V> {
    let mut tolerant = None;
    for (k, v) in members {
        if k == key {
            return Some(v);
        }
        if tolerant.is_none() && same_key(k, key) {
            tolerant = Some(v);
        }
    }
    tolerant
}

/// Follow a dotted path of tolerant keys through nested objects.
pub fn path<'a>(value: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    let mut cur = value;
    for key in keys {
        cur = field(cur.as_object()?, key)?;
    }
    Some(cur)
}

/// A string at a path. `null` and absent are both `None`; a number is rendered (account ids are
/// sometimes logged as numbers).
pub fn str_at<'a>(value: &'a Value, keys: &[&str]) -> Option<&'a str> {
    match path(value, keys)? {
        Value::String(s) if !s.is_empty() => Some(s.as_str()),
        _ => None,
    }
}

pub fn string_at(value: &Value, keys: &[&str]) -> Option<String> {
    match path(value, keys)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A field that is either a string or `{ "value": "…", "localizedValue": "…" }` (Azure REST).
pub fn str_or_value<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    match field(value.as_object()?, key)? {
        Value::String(s) if !s.is_empty() => Some(s),
        v @ Value::Object(_) => str_at(v, &["value"]),
        _ => None,
    }
}

pub fn bool_at(value: &Value, keys: &[&str]) -> Option<bool> {
    match path(value, keys)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

pub fn array_at<'a>(value: &'a Value, keys: &[&str]) -> &'a [Value] {
    match path(value, keys) {
        Some(Value::Array(items)) => items,
        _ => &[],
    }
}

/// A string-valued field that must be a string when present: a wrong type is a bad record.
pub fn required_str<'a>(value: &'a Value, key: &str) -> Result<&'a str, String> {
    match value.as_object().and_then(|o| field(o, key)) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!(
            "field `{key}` is {}, expected a string",
            kind(other)
        )),
        None => Err(format!("field `{key}` is missing")),
    }
}

/// Like `required_str` but absent/null is fine.
pub fn optional_str<'a>(value: &'a Value, key: &str) -> Result<Option<&'a str>, String> {
    match value.as_object().and_then(|o| field(o, key)) {
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Null) | None => Ok(None),
        Some(other) => Err(format!(
            "field `{key}` is {}, expected a string",
            kind(other)
        )),
    }
}

pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parse a timestamp in any of the forms the clouds log: RFC 3339 with `Z` or an offset, up to
/// nanosecond fractions (Azure's seven digits), or `YYYY-MM-DD HH:MM:SS[.fff][±hh:mm]`.
pub fn parse_time(s: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    // A space instead of `T`, and maybe no offset at all (then it is UTC, as Panther writes it).
    let fixed = s.replacen(' ', "T", 1);
    if let Ok(t) = fixed.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    if let Ok(dt) = fixed.parse::<jiff::civil::DateTime>()
        && let Ok(z) = dt.to_zoned(jiff::tz::TimeZone::UTC)
    {
        return Ok(z.timestamp());
    }
    Err(format!("unparseable time {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_exact_key_wins_over_earlier_tolerant_ones() {
        // In the map's order `Snapshot_Id` comes before `snapshotId`, which the exact lookup takes.
        let v = json!({"Snapshot_Id": "a", "snapshotid": "b", "snapshotId": "c"});
        assert_eq!(str_at(&v, &["snapshotId"]), Some("c"));
        assert_eq!(str_at(&v, &["SNAPSHOT_ID"]), Some("a"));
        assert_eq!(str_at(&v, &["_snapshot_id_"]), Some("a"));
        let v = json!({"_x": "u", "y": "w"});
        assert_eq!(str_at(&v, &["X"]), Some("u"));
        assert_eq!(str_at(&v, &["z"]), None);
        assert_eq!(str_at(&json!({"": "e"}), &["_"]), Some("e"));
    }

    #[test]
    fn tolerant_keys() {
        let v =
            json!({"operation_name": {"value": "X"}, "CorrelationId": "c", "calleripaddress": "1"});
        assert_eq!(str_or_value(&v, "operationName"), Some("X"));
        assert_eq!(str_at(&v, &["correlationId"]), Some("c"));
        assert_eq!(str_at(&v, &["callerIpAddress"]), Some("1"));
        assert_eq!(str_at(&v, &["nope"]), None);
    }

    #[test]
    fn times_in_every_logged_form() {
        let want: jiff::Timestamp = "2022-02-07T22:23:37Z".parse().unwrap();
        assert_eq!(parse_time("2022-02-07T22:23:37Z").unwrap(), want);
        assert_eq!(parse_time("2022-02-08 09:23:37+11:00").unwrap(), want);
        assert_eq!(parse_time("2022-02-07 22:23:37").unwrap(), want);
        assert_eq!(parse_time("2022-02-07T22:23:37.0000000Z").unwrap(), want);
        assert!(parse_time("yesterday").is_err());
    }
}
