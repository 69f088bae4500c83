//! The fast path for a plain CloudTrail record: walk its bytes key by key into borrowed
//! top-level fields (no tree, no copies of strings), `userIdentity` included, and build
//! `serde_json::Value` only for the three nested objects the normalizer walks. One vector pass
//! finds every quote (a record with a backslash or a control byte other than a blank goes the
//! general way), so a key or a string is the text between two quotes; other values are handed
//! to serde_json, which reads exactly one and says where it ended. Anything unusual — an unknown top-level
//! key (an envelope, Panther's `p_` fields, another cloud), a field of an unexpected type, a
//! duplicate key, bytes after the record — returns `None`, and the caller takes the general
//! `Value` path, which decides (and words any error) exactly as before.
//!
//! This replaced a serde-derived reader, which spent about 1,000 instructions more on each
//! record (of the 20,000 reading and normalizing one costs).
//! It may refuse more than that reader did, never less, and reads what it accepts the same
//! way: `tests/fast_record.rs` holds it to that reader on every fixture and on records bent at
//! random. Hunting with and without the prefilter (this path runs only with it) gives
//! identical events.

use super::Normalized;
use super::aws::{Fields, Identity, normalize_fields};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

/// Where the value of each top-level key of a CloudTrail record goes.
#[derive(Clone, Copy)]
enum Top {
    Name,
    Source,
    Time,
    EventId,
    RequestId,
    Identity,
    Recipient,
    ErrorCode,
    Request,
    Response,
    Agent,
    Region,
    SourceIp,
    Details,
    /// Known and not read.
    Skipped,
}

/// A top-level key's field and its bit for finding duplicates; any other key sends the record
/// the general way.
fn top(key: &[u8]) -> Option<(Top, u32)> {
    let (t, bit) = match key {
        b"eventName" => (Top::Name, 0),
        b"eventSource" => (Top::Source, 1),
        b"eventTime" => (Top::Time, 2),
        b"eventID" => (Top::EventId, 3),
        b"requestID" => (Top::RequestId, 4),
        b"userIdentity" => (Top::Identity, 5),
        b"recipientAccountId" => (Top::Recipient, 6),
        b"errorCode" => (Top::ErrorCode, 7),
        b"requestParameters" => (Top::Request, 8),
        b"responseElements" => (Top::Response, 9),
        b"userAgent" => (Top::Agent, 10),
        b"awsRegion" => (Top::Region, 11),
        b"sourceIPAddress" => (Top::SourceIp, 12),
        b"serviceEventDetails" => (Top::Details, 13),
        b"eventVersion" => (Top::Skipped, 14),
        b"eventType" => (Top::Skipped, 15),
        b"eventCategory" => (Top::Skipped, 16),
        b"readOnly" => (Top::Skipped, 17),
        b"managementEvent" => (Top::Skipped, 18),
        b"tlsDetails" => (Top::Skipped, 19),
        b"errorMessage" => (Top::Skipped, 20),
        b"apiVersion" => (Top::Skipped, 21),
        b"sessionCredentialFromConsole" => (Top::Skipped, 22),
        b"additionalEventData" => (Top::Skipped, 23),
        b"resources" => (Top::Skipped, 24),
        b"sharedEventID" => (Top::Skipped, 25),
        b"vpcEndpointId" => (Top::Skipped, 26),
        b"vpcEndpointAccountId" => (Top::Skipped, 27),
        _ => return None,
    };
    Some((t, 1 << bit))
}

/// The `userIdentity` keys CloudTrail writes, each with its bit; the normalizer reads the first
/// five. Any other key (another spelling the general path's tolerant lookup would accept, say)
/// sends the record the general way.
fn identity_key(key: &[u8]) -> Option<(Option<usize>, u32)> {
    let (read, bit) = match key {
        b"type" => (Some(0), 0),
        b"arn" => (Some(1), 1),
        b"accountId" => (Some(2), 2),
        b"invokedBy" => (Some(3), 3),
        b"principalId" => (Some(4), 4),
        b"accessKeyId" => (None, 5),
        b"userName" => (None, 6),
        b"sessionContext" => (None, 7),
        b"identityProvider" => (None, 8),
        b"credentialId" => (None, 9),
        b"onBehalfOf" => (None, 10),
        b"inScopeOf" => (None, 11),
        _ => return None,
    };
    Some((read, 1 << bit))
}

/// A cursor over the record's text, with where its quotes are: the record holds no backslash
/// and no control byte, so a string is the text between a quote and the next. Every method
/// returns `None` where serde_json would fail, leaving the record to the general path.
struct Walk<'a> {
    text: &'a str,
    at: usize,
    quotes: &'a [u32],
    /// The first quote not yet passed.
    next_quote: usize,
    /// The record holds tabs, newlines or carriage returns: blanks between tokens, refused
    /// inside strings.
    blanks: bool,
}

impl<'a> Walk<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The next byte after JSON whitespace (not consumed).
    fn peek(&mut self) -> Option<u8> {
        let b = self.bytes();
        while let Some(&c) = b.get(self.at) {
            if !matches!(c, b' ' | b'\n' | b'\t' | b'\r') {
                return Some(c);
            }
            self.at += 1;
        }
        None
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// A string, from its opening quote to the next quote.
    fn plain(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        // Quotes passed over by serde_json are skipped here.
        let (opened, quotes) = (self.at as u32, self.quotes);
        while *quotes.get(self.next_quote)? < opened {
            self.next_quote += 1;
        }
        let end = quotes[self.next_quote] as usize;
        self.next_quote += 1;
        // Quotes are ASCII, so both ends are character boundaries of the checked text.
        let s = &self.text[self.at..end];
        if self.blanks && s.bytes().any(|b| matches!(b, b'\t' | b'\n' | b'\r')) {
            return None;
        }
        self.at = end + 1;
        Some(s)
    }

    /// A value the normalizer does not read: strings and literals here, the rest by serde_json.
    fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.plain().map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.serde::<IgnoredAny>().map(drop),
        }
    }

    /// `null` (absent) or a plain string: what an `Option<&str>` field accepts.
    fn optional_plain(&mut self) -> Option<Option<&'a str>> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Some(None);
        }
        self.plain().map(Some)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.bytes()[self.at..]
            .starts_with(word)
            .then(|| self.at += word.len())
    }

    /// One value read by serde_json, which says where it ended.
    fn serde<T: Deserialize<'a>>(&mut self) -> Option<T> {
        self.peek()?;
        let rest = &self.text[self.at..];
        let mut values = serde_json::Deserializer::from_str(rest).into_iter::<T>();
        let value = values.next()?.ok()?;
        let used = values.byte_offset();
        // serde_json refuses values nested past 128 levels counted from the record's top;
        // read alone, a value gets one level more. Whether a long one is that deep is left
        // to the general path.
        if used >= 250 && nesting_at_least(&rest.as_bytes()[..used], 120) {
            return None;
        }
        self.at += used;
        Some(value)
    }

    /// `{`, then each `"key":` in turn, known to `known` (which gives its field and its bit)
    /// and seen once, to `on_field` (which reads the value), then `}`.
    fn object<F>(
        &mut self,
        known: impl Fn(&[u8]) -> Option<(F, u32)>,
        mut on_field: impl FnMut(&mut Self, F) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        let mut seen = 0u32;
        loop {
            let (field, bit) = known(self.plain()?.as_bytes())?;
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
            self.eat(b':')?;
            on_field(self, field)?;
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

/// At least `n` opening brackets anywhere in `bytes` (strings included: a bound, not a parse).
fn nesting_at_least(bytes: &[u8], n: usize) -> bool {
    bytes.iter().filter(|&&b| b == b'{' || b == b'[').count() >= n
}

/// `userIdentity`: `null`, or an object of known keys.
fn identity<'a>(walk: &mut Walk<'a>) -> Option<Identity<'a>> {
    if walk.peek()? == b'n' {
        walk.literal(b"null")?;
        return Some(Identity::default());
    }
    let mut read: [Option<&'a str>; 5] = [None; 5];
    walk.object(identity_key, |walk, slot| {
        match slot {
            Some(i) => read[i] = walk.optional_plain()?,
            None => walk.skip()?,
        }
        Some(())
    })?;
    let [kind, arn, account_id, invoked_by, principal_id] = read.map(some);
    Some(Identity {
        kind,
        arn,
        account_id,
        invoked_by,
        principal_id,
    })
}

/// `null` and `""` mean absent, as for the general path.
fn some(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

/// The record's fields as read, before `null` and `""` are folded into absent.
#[derive(Default)]
struct Read<'a> {
    name: Option<&'a str>,
    source: Option<&'a str>,
    time: Option<&'a str>,
    event_id: Option<&'a str>,
    request_id: Option<&'a str>,
    recipient: Option<&'a str>,
    error_code: Option<&'a str>,
    user_agent: Option<&'a str>,
    region: Option<&'a str>,
    source_ip: Option<&'a str>,
    identity: Identity<'a>,
    request: Option<Value>,
    response: Option<Value>,
    details: Option<Value>,
}

fn read<'a>(text: &'a str, quotes: &'a [u32], blanks: bool) -> Option<Read<'a>> {
    let mut walk = Walk {
        text,
        at: 0,
        quotes,
        next_quote: 0,
        blanks,
    };
    let mut r = Read::default();
    walk.object(top, |walk, field| {
        match field {
            // Required, and a string: `null` is refused.
            Top::Name => r.name = Some(walk.plain()?),
            Top::Source => r.source = walk.optional_plain()?,
            Top::Time => r.time = walk.optional_plain()?,
            Top::EventId => r.event_id = walk.optional_plain()?,
            Top::RequestId => r.request_id = walk.optional_plain()?,
            Top::Recipient => r.recipient = walk.optional_plain()?,
            Top::ErrorCode => r.error_code = walk.optional_plain()?,
            Top::Agent => r.user_agent = walk.optional_plain()?,
            Top::Region => r.region = walk.optional_plain()?,
            Top::SourceIp => r.source_ip = walk.optional_plain()?,
            Top::Identity => r.identity = identity(walk)?,
            Top::Request => r.request = walk.serde::<Option<Value>>()?,
            Top::Response => r.response = walk.serde::<Option<Value>>()?,
            Top::Details => r.details = walk.serde::<Option<Value>>()?,
            Top::Skipped => walk.skip()?,
        }
        Some(())
    })?;
    // Nothing but whitespace may follow the record.
    if walk.peek().is_some() {
        return None;
    }
    Some(r)
}

/// Normalize `raw` if it is a plain CloudTrail record; `None` sends it the general way.
pub fn normalize(raw: &[u8], origin: String) -> Option<Result<Normalized, String>> {
    // Checked as UTF-8 once, whole, so every borrowed string is text.
    let text = std::str::from_utf8(raw).ok()?;
    let mut quotes = Vec::with_capacity(raw.len() / 8);
    let blanks = crate::structural::plain_quotes(raw, &mut quotes)?;
    let r = read(text, &quotes, blanks)?;
    let null = Value::Null;
    let fields = Fields {
        // Required: a record without a name goes the general way.
        name: r.name?,
        source: some(r.source),
        time: some(r.time),
        panther_time: None,
        event_id: some(r.event_id),
        request_id: some(r.request_id),
        identity: r.identity,
        recipient: some(r.recipient),
        error_code: some(r.error_code),
        request: r.request.as_ref().unwrap_or(&null),
        response: r.response.as_ref().unwrap_or(&null),
        user_agent: some(r.user_agent),
        region: some(r.region),
        source_ip: some(r.source_ip),
        details: r.details.as_ref(),
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
