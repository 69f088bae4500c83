//! The fast path for a plain CloudTrail record: deserialize its bytes into borrowed top-level
//! fields (no tree, no copies of strings), `userIdentity` included, and keep `serde_json::Value`
//! only for the three nested objects the normalizer walks. Anything unusual — an unknown top-level key (an envelope,
//! Panther's `p_` fields, another cloud), a string with escapes, a field of an unexpected type,
//! a duplicate key — returns `None`, and the caller takes the general `Value` path, which
//! decides (and words any error) exactly as before. Hunting with and without the prefilter
//! (this path runs only with it) gives identical events; the equivalence tests check that.

use super::Normalized;
use super::aws::{Fields, Identity, normalize_fields};
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

/// The `userIdentity` keys CloudTrail writes; the normalizer reads the first five. Any other key
/// (another spelling the general path's tolerant lookup would accept, say) sends the record
/// the general way.
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

/// `null` and `""` mean absent, as for the general path.
fn some(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

/// Normalize `raw` if it is a plain CloudTrail record; `None` sends it the general way.
pub fn normalize(raw: &[u8], origin: String) -> Option<Result<Normalized, String>> {
    // Checked as UTF-8 once, whole: borrowing from bytes checks each string on its own, a
    // call per field (and skips the ignored ones, which the general path would reject).
    let text = std::str::from_utf8(raw).ok()?;
    let r: Record = serde_json::from_str(text).ok()?;
    let null = Value::Null;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(result: Result<Normalized, String>) -> snaptrail_model::Event {
        match result {
            Ok(Normalized::Event(ev)) => *ev,
            other => panic!("not an event: {other:?}"),
        }
    }

    /// The general path, for comparison.
    fn general(raw: &str) -> snaptrail_model::Event {
        let v: Value = serde_json::from_str(raw).unwrap();
        event(super::super::aws::normalize(&v, "o"))
    }

    #[test]
    fn the_caller_is_read_as_the_general_path_reads_it() {
        let raw = r#"{"eventName":"CreateSnapshot","eventTime":"2026-01-01T00:00:00Z","recipientAccountId":"111122223333",
            "userIdentity":{"type":"AssumedRole","principalId":"AROA:x","arn":"arn:aws:sts::444455556666:assumed-role/r/x",
              "accountId":"444455556666","accessKeyId":"ASIA","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::444455556666:role/r"},
              "attributes":{"mfaAuthenticated":"false"}}}}"#;
        let typed = event(normalize(raw.as_bytes(), "o".into()).expect("a plain record"));
        let reference = general(raw);
        assert_eq!(
            typed.principal,
            "arn:aws:sts::444455556666:assumed-role/r/x"
        );
        assert_eq!(
            typed.principal_account.as_deref(),
            Some("444455556666"),
            "another account's caller"
        );
        assert_eq!(
            (
                &typed.principal,
                typed.principal_kind,
                &typed.principal_account
            ),
            (
                &reference.principal,
                reference.principal_kind,
                &reference.principal_account
            )
        );
        // No arn: the service, then the account, then the principal id name the caller.
        let service = r#"{"eventName":"CreateSnapshot","eventTime":"2026-01-01T00:00:00Z",
            "userIdentity":{"type":"AWSService","invokedBy":"backup.amazonaws.com","arn":""}}"#;
        let typed = event(normalize(service.as_bytes(), "o".into()).expect("a plain record"));
        assert_eq!(typed.principal, "backup.amazonaws.com");
        assert_eq!(typed.principal, general(service).principal);
    }

    #[test]
    fn odd_identity_keys_and_types_go_the_general_way() {
        for identity in [
            r#"{"AccountId":"444455556666"}"#,
            r#"{"account_id":"444455556666"}"#,
            r#"{"accountId":444455556666}"#,
            r#"{"arn":"arn:aws:iam::1:user/a\u0062"}"#,
            r#""not an object""#,
        ] {
            let raw = format!(
                r#"{{"eventName":"CreateSnapshot","eventTime":"2026-01-01T00:00:00Z","userIdentity":{identity}}}"#
            );
            assert!(
                normalize(raw.as_bytes(), "o".into()).is_none(),
                "{identity}"
            );
        }
    }

    #[test]
    fn invalid_utf8_anywhere_goes_the_general_way() {
        // In a field the fast path skips: it used to be accepted here while the general path
        // (and so a hunt with --no-prefilter) reported the record as bad.
        let mut raw = br#"{"eventName":"CreateSnapshot","eventTime":"2026-01-01T00:00:00Z","tlsDetails":{"clientProvidedHostHeader":"x"}}"#.to_vec();
        let at = raw.iter().position(|&b| b == b'x').unwrap();
        raw[at] = 0xff;
        assert!(normalize(&raw, "o".into()).is_none());
        assert!(serde_json::from_slice::<Value>(&raw).is_err());
        raw[at] = b'x';
        assert!(normalize(&raw, "o".into()).is_some());
    }
}
