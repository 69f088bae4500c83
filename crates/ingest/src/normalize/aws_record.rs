//! The fast path for a plain CloudTrail record: deserialize its bytes into borrowed top-level
//! fields (no tree, no copies of strings) and keep `serde_json::Value` only for the four nested
//! objects the normalizer walks. Anything unusual — an unknown top-level key (an envelope,
//! Panther's `p_` fields, another cloud), a string with escapes, a field of an unexpected type,
//! a duplicate key — returns `None`, and the caller takes the general `Value` path, which
//! decides (and words any error) exactly as before. Hunting with and without the prefilter
//! (this path runs only with it) gives identical events; the equivalence tests check that.

use super::Normalized;
use super::aws::{Fields, normalize_fields};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

/// Every top-level key of a CloudTrail record; any other key sends the record the general way.
/// The skipped ones are named only to be recognized.
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
    user_identity: Option<Value>,
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
    // Known and not read: skipped without building anything.
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

/// `null` and `""` mean absent, as for the general path.
fn some(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

/// Normalize `raw` if it is a plain CloudTrail record; `None` sends it the general way.
pub fn normalize(raw: &[u8], origin: &str) -> Option<Result<Normalized, String>> {
    let r: Record = serde_json::from_slice(raw).ok()?;
    let null = Value::Null;
    let fields = Fields {
        name: r.event_name,
        source: some(r.event_source),
        time: some(r.event_time),
        panther_time: None,
        event_id: some(r.event_id),
        request_id: some(r.request_id),
        identity: r.user_identity.as_ref().unwrap_or(&null),
        recipient: some(r.recipient_account_id),
        error_code: some(r.error_code),
        request: r.request_parameters.as_ref().unwrap_or(&null),
        response: r.response_elements.as_ref().unwrap_or(&null),
        user_agent: some(r.user_agent),
        region: some(r.aws_region),
        source_ip: some(r.source_ip_address),
        details: r.service_event_details.as_ref(),
    };
    // The general path's `looks_like`: a name, and a source or a time.
    if fields.source.is_none() && fields.time.is_none() {
        return None;
    }
    Some(normalize_fields(&fields, origin))
}
