//! The CloudTrail fast path (`aws_record`, a walk over the record's bytes) against the
//! serde-derived reader it replaced, kept here as the reference: on every fixture record, and
//! on those records broken and bent at random. Where the walk reads a record it must read it
//! exactly as the reference did; it may refuse more (those go the general way), never less.

use proptest::prelude::*;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use snaptrail_ingest::normalize::aws::{Fields, Identity, normalize_fields};
use snaptrail_ingest::normalize::node::Node;
use snaptrail_ingest::normalize::{Normalized, aws_record};

#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Record<'a> {
    event_name: &'a str,
    #[serde(default)]
    event_source: Option<&'a str>,
    #[serde(default)]
    event_time: Option<&'a str>,
    #[serde(default, rename = "eventID")]
    event_id: Option<&'a str>,
    #[serde(default, rename = "requestID")]
    request_id: Option<&'a str>,
    #[serde(default)]
    user_identity: Option<UserIdentity<'a>>,
    #[serde(default)]
    recipient_account_id: Option<&'a str>,
    #[serde(default)]
    error_code: Option<&'a str>,
    #[serde(default)]
    request_parameters: Option<Value>,
    #[serde(default)]
    response_elements: Option<Value>,
    #[serde(default)]
    user_agent: Option<&'a str>,
    #[serde(default)]
    aws_region: Option<&'a str>,
    #[serde(default, rename = "sourceIPAddress")]
    source_ip_address: Option<&'a str>,
    #[serde(default)]
    service_event_details: Option<Value>,
    #[serde(default)]
    event_version: Option<IgnoredAny>,
    #[serde(default)]
    event_type: Option<IgnoredAny>,
    #[serde(default)]
    event_category: Option<IgnoredAny>,
    #[serde(default)]
    read_only: Option<IgnoredAny>,
    #[serde(default)]
    management_event: Option<IgnoredAny>,
    #[serde(default)]
    tls_details: Option<IgnoredAny>,
    #[serde(default)]
    error_message: Option<IgnoredAny>,
    #[serde(default)]
    api_version: Option<IgnoredAny>,
    #[serde(default)]
    session_credential_from_console: Option<IgnoredAny>,
    #[serde(default)]
    additional_event_data: Option<IgnoredAny>,
    #[serde(default)]
    resources: Option<IgnoredAny>,
    #[serde(default, rename = "sharedEventID")]
    shared_event_id: Option<IgnoredAny>,
    #[serde(default)]
    vpc_endpoint_id: Option<IgnoredAny>,
    #[serde(default)]
    vpc_endpoint_account_id: Option<IgnoredAny>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct UserIdentity<'a> {
    #[serde(default, rename = "type")]
    kind: Option<&'a str>,
    #[serde(default)]
    arn: Option<&'a str>,
    #[serde(default)]
    account_id: Option<&'a str>,
    #[serde(default)]
    invoked_by: Option<&'a str>,
    #[serde(default)]
    principal_id: Option<&'a str>,
    #[serde(default)]
    access_key_id: Option<IgnoredAny>,
    #[serde(default)]
    user_name: Option<IgnoredAny>,
    #[serde(default)]
    session_context: Option<IgnoredAny>,
    #[serde(default)]
    identity_provider: Option<IgnoredAny>,
    #[serde(default)]
    credential_id: Option<IgnoredAny>,
    #[serde(default)]
    on_behalf_of: Option<IgnoredAny>,
    #[serde(default)]
    in_scope_of: Option<IgnoredAny>,
}

fn some(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

/// The reader the walk replaced, as it was.
fn reference(raw: &[u8]) -> Option<Result<Normalized, String>> {
    let text = std::str::from_utf8(raw).ok()?;
    let r: Record = serde_json::from_str(text).ok()?;
    // The reference's values, read as the normalizer reads them.
    fn tree(v: &Option<Value>) -> Node<'_> {
        v.as_ref().map_or(Node::Null, Node::of)
    }
    let (request, response) = (tree(&r.request_parameters), tree(&r.response_elements));
    let details = r.service_event_details.as_ref().map(Node::of);
    let fields = Fields {
        name: r.event_name,
        source: some(r.event_source),
        time: some(r.event_time),
        panther_time: None,
        event_id: some(r.event_id),
        request_id: some(r.request_id),
        identity: r
            .user_identity
            .map_or_else(Identity::default, |u| Identity {
                kind: some(u.kind),
                arn: some(u.arn),
                account_id: some(u.account_id),
                invoked_by: some(u.invoked_by),
                principal_id: some(u.principal_id),
            }),
        recipient: some(r.recipient_account_id),
        error_code: some(r.error_code),
        request: &request,
        response: &response,
        user_agent: some(r.user_agent),
        region: some(r.aws_region),
        source_ip: some(r.source_ip_address),
        details: details.as_ref(),
    };
    if fields.source.is_none() && fields.time.is_none() {
        return None;
    }
    Some(normalize_fields(&fields, "o".into()))
}

/// The walk's reading agrees with the reference's wherever the walk reads at all.
fn agrees(raw: &[u8]) -> Result<bool, String> {
    let walked = aws_record::normalize(raw, "o".into());
    let Some(walked) = walked else {
        return Ok(false);
    };
    let expected = reference(raw).ok_or_else(|| {
        format!(
            "the walk read what the reference refused: {}",
            String::from_utf8_lossy(raw)
        )
    })?;
    let (a, b) = (format!("{walked:?}"), format!("{expected:?}"));
    if a != b {
        return Err(format!(
            "{}\nwalk:      {a}\nreference: {b}",
            String::from_utf8_lossy(raw)
        ));
    }
    Ok(true)
}

/// Every record of the AWS fixtures, compact (as CloudTrail writes them); read once for all
/// the test cases.
fn fixtures() -> &'static [String] {
    static FIXTURES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(read_fixtures);
    &FIXTURES
}

fn read_fixtures() -> Vec<String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data");
    let mut out = Vec::new();
    for dir in ["aws", "seed"] {
        let mut paths: Vec<_> = std::fs::read_dir(format!("{root}/{dir}"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        for path in paths {
            let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            for r in v["Records"].as_array().into_iter().flatten() {
                out.push(serde_json::to_string(r).unwrap());
            }
        }
    }
    assert!(out.len() > 50, "fixtures found: {}", out.len());
    out
}

#[test]
fn fixture_records_read_as_before() {
    let mut walked = 0;
    for r in fixtures() {
        let plain = !r.bytes().any(|b| b == b'\\' || b < 0x20);
        let read = agrees(r.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        // Records the reference read and that hold no escape take the walk, not the general way.
        if plain && reference(r.as_bytes()).is_some() {
            assert!(read, "the walk refused a plain record: {r}");
        }
        walked += usize::from(read);
        // Pretty printed: the same reading, whitespace everywhere.
        let v: Value = serde_json::from_str(r).unwrap();
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        assert_eq!(
            agrees(pretty.as_bytes()).unwrap_or_else(|e| panic!("{e}")),
            read,
            "{pretty}"
        );
    }
    assert!(walked > 50, "records walked: {walked}");
}

/// Bits of JSON (and not) to put into records.
const PIECES: &[&str] = &[
    "\\",
    "\\\"",
    "\"",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    " ",
    "\n",
    "\u{1}",
    "null",
    "true",
    "false",
    "tru",
    "1",
    "-0",
    "01",
    "1.",
    "1e999",
    "1.5e+3",
    "-",
    "1e",
    "0.0",
    "-01",
    "2E-7",
    "18446744073709551616",
    "-9223372036854775809",
    "\"\"",
    "é",
    "x",
    "\"eventName\":\"X\",",
    "\"userIdentity\":null,",
    "\"foo\":1,",
    "\"tlsDetails\":{},",
    "\"eventName\":null,",
    "\"arn\":\"a\",",
    "\"type\":7,",
    "\"requestParameters\":[1,{\"a\":[]}],",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn bent_records_are_read_as_before_or_left_alone(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec(
            (any::<prop::sample::Index>(), 0usize..4, prop::sample::select(PIECES)), 1..4),
    ) {
        let records = fixtures();
        let mut r = records[pick.index(records.len())].clone().into_bytes();
        for (at, cut, piece) in edits {
            let at = at.index(r.len() + 1);
            let end = (at + cut).min(r.len());
            r.splice(at..end, piece.bytes());
        }
        if let Err(e) = agrees(&r) {
            prop_assert!(false, "{}", e);
        }
    }
}

#[test]
fn values_nested_near_serde_jsons_limit_are_read_as_before() {
    // serde_json refuses nesting past 128 levels counted from the record's top; a value read
    // on its own would be allowed one more.
    for depth in 118..=132 {
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let identity = format!(r#"{{"type":"IAMUser","sessionContext":{nested}}}"#);
        for (key, value) in [
            ("requestParameters", nested.as_str()),
            ("tlsDetails", nested.as_str()),
            ("userIdentity", identity.as_str()),
        ] {
            let raw = format!(
                r#"{{"eventName":"CreateSnapshot","eventTime":"2026-01-01T00:00:00Z","{key}":{value}}}"#
            );
            agrees(raw.as_bytes()).unwrap_or_else(|e| panic!("depth {depth}, {key}: {e}"));
        }
    }
}
