//! The fast path for a plain CloudTrail record: walk its bytes key by key into borrowed
//! top-level fields (no tree, no copies of strings), `userIdentity` included, and build a
//! borrowed [`Node`] tree only for the three nested objects the normalizer walks. One vector pass
//! finds every quote (a record with a backslash or a control byte other than a blank goes the
//! general way), so a key or a string is the text between two quotes, and the walk reads
//! objects, arrays and literals itself; serde_json reads only numbers, so they mean what they
//! mean to the general path. Anything unusual — an unknown top-level key (an envelope,
//! Panther's `p_` fields, another cloud), a field of an unexpected type, a duplicate key, deep
//! nesting, bytes after the record — returns `None`, and the caller takes the general `Value`
//! path, which decides (and words any error) exactly as before.
//!
//! This replaced a serde-derived reader, which spent about 1,000 instructions more on each
//! record (of the 20,000 reading and normalizing one costs); reading nested values without
//! serde_json then took a fifth off what was left.
//! It may refuse more than that reader did, never less, and reads what it accepts the same
//! way: `tests/fast_record.rs` holds it to that reader on every fixture and on records bent at
//! random. Hunting with and without the prefilter (this path runs only with it) gives
//! identical events.

use super::Normalized;
use super::aws::{Fields, Identity, normalize_fields};
use super::node::Node;
use serde_json::Number;

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
    /// The next quote to read: the opening quote of the next string.
    next_quote: usize,
    /// The record holds tabs, newlines or carriage returns: blanks between tokens, refused
    /// inside strings.
    blanks: bool,
}

impl<'a> Walk<'a> {
    fn new(text: &'a str, quotes: &'a [u32], blanks: bool) -> Walk<'a> {
        Walk {
            text,
            at: 0,
            quotes,
            next_quote: 0,
            blanks,
        }
    }

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
        // The walk reads every string and nothing else holds a quote, so the next two quotes
        // open and close this one (checked, as a wrong pairing would misread every string).
        let (open, close) = (
            self.quotes.get(self.next_quote)?,
            self.quotes.get(self.next_quote + 1)?,
        );
        if *open as usize + 1 != self.at {
            return None;
        }
        let end = *close as usize;
        self.next_quote += 2;
        // Quotes are ASCII, so both ends are character boundaries of the checked text.
        let s = &self.text[self.at..end];
        if self.blanks && s.bytes().any(|b| matches!(b, b'\t' | b'\n' | b'\r')) {
            return None;
        }
        self.at = end + 1;
        Some(s)
    }

    /// A value the normalizer does not read, `depth` containers deep, checked as the general
    /// path's `serde_json::Value` parse checks it.
    fn skip(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.plain().map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'{' => {
                let inner = deeper(depth)?;
                self.members(|walk, _| walk.skip(inner))
            }
            b'[' => {
                let inner = deeper(depth)?;
                self.elements(|walk| walk.skip(inner))
            }
            _ => self.number().map(drop),
        }
    }

    /// A value the normalizer walks, `depth` containers deep, its strings borrowed (the record
    /// holds no escapes, so a string is the text between its quotes).
    fn value(&mut self, depth: usize) -> Option<Node<'a>> {
        Some(match self.peek()? {
            b'"' => Node::String(self.plain()?),
            b't' => self.literal(b"true").map(|()| Node::Bool(true))?,
            b'f' => self.literal(b"false").map(|()| Node::Bool(false))?,
            b'n' => self.literal(b"null").map(|()| Node::Null)?,
            b'{' => {
                let (inner, mut members) = (deeper(depth)?, Vec::new());
                self.members(|walk, key| {
                    members.push((key, walk.value(inner)?));
                    Some(())
                })?;
                Node::object(members)
            }
            b'[' => {
                let (inner, mut items) = (deeper(depth)?, Vec::new());
                self.elements(|walk| {
                    items.push(walk.value(inner)?);
                    Some(())
                })?;
                Node::Array(items)
            }
            _ => Node::Number(self.number()?),
        })
    }

    /// `null` (absent) or a value the normalizer walks, at the record's top level.
    fn optional_value(&mut self) -> Option<Option<Node<'a>>> {
        Some(Some(self.value(1)?).filter(|v| !v.is_null()))
    }

    /// A number: its extent by JSON's grammar, its value (or its refusal, out of range) by
    /// serde_json, so it is read exactly as the general path reads it.
    fn number(&mut self) -> Option<Number> {
        let b = self.bytes();
        let start = self.at;
        let mut i = start + usize::from(b.get(start) == Some(&b'-'));
        match b.get(i)? {
            // A leading zero stands alone: a digit after it is refused by the caller.
            b'0' => i += 1,
            b'1'..=b'9' => i = digits(b, i),
            _ => return None,
        }
        if b.get(i) == Some(&b'.') {
            let from = i + 1;
            i = digits(b, from);
            if i == from {
                return None;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            let from = i + 1 + usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
            i = digits(b, from);
            if i == from {
                return None;
            }
        }
        let value = serde_json::from_str(&self.text[start..i]).ok()?;
        self.at = i;
        Some(value)
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

    /// `{`, then each `"key": value` in turn to `on_member` (which reads the value), then `}`.
    fn members(
        &mut self,
        mut on_member: impl FnMut(&mut Self, &'a str) -> Option<()>,
    ) -> Option<()> {
        self.sequence(b'{', b'}', |walk| {
            let key = walk.plain()?;
            walk.eat(b':')?;
            on_member(walk, key)
        })
    }

    /// `[`, then each value in turn to `on_element` (which reads it), then `]`.
    fn elements(&mut self, on_element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.sequence(b'[', b']', on_element)
    }

    /// `open`, then entries separated by commas, each read by `entry`, then `close`.
    fn sequence(
        &mut self,
        open: u8,
        close: u8,
        mut entry: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        self.eat(open)?;
        if self.peek()? == close {
            self.at += 1;
            return Some(());
        }
        loop {
            entry(self)?;
            match self.peek()? {
                b',' => self.at += 1,
                c if c == close => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An object, `depth` containers deep, of keys known to `known` (which gives each its
    /// field and its bit), each seen once, handed to `on_field` (which reads the value).
    fn object<F>(
        &mut self,
        depth: usize,
        known: impl Fn(&[u8]) -> Option<(F, u32)>,
        mut on_field: impl FnMut(&mut Self, F) -> Option<()>,
    ) -> Option<()> {
        deeper(depth)?;
        let mut seen = 0u32;
        self.members(|walk, key| {
            let (field, bit) = known(key.as_bytes())?;
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
            on_field(walk, field)
        })
    }
}

/// The depth inside a container opened by a value `depth` containers deep, or `None` past
/// `DEEPEST`: serde_json refuses a record nested 128 containers deep, and well before that the
/// walk leaves the record to the general path, which words the refusal.
fn deeper(depth: usize) -> Option<usize> {
    const DEEPEST: usize = 100;
    (depth < DEEPEST).then_some(depth + 1)
}

/// Where the run of ASCII digits starting at `i` ends.
fn digits(b: &[u8], i: usize) -> usize {
    i + b[i.min(b.len())..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count()
}

/// `userIdentity`: `null`, or an object of known keys.
fn identity<'a>(walk: &mut Walk<'a>) -> Option<Identity<'a>> {
    if walk.peek()? == b'n' {
        walk.literal(b"null")?;
        return Some(Identity::default());
    }
    let mut read: [Option<&'a str>; 5] = [None; 5];
    walk.object(1, identity_key, |walk, slot| {
        match slot {
            Some(i) => read[i] = walk.optional_plain()?,
            None => walk.skip(2)?,
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
    request: Option<Node<'a>>,
    response: Option<Node<'a>>,
    details: Option<Node<'a>>,
}

fn read<'a>(text: &'a str, quotes: &'a [u32], blanks: bool) -> Option<Read<'a>> {
    let mut walk = Walk::new(text, quotes, blanks);
    let mut r = Read::default();
    walk.object(0, top, |walk, field| {
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
            Top::Request => r.request = walk.optional_value()?,
            Top::Response => r.response = walk.optional_value()?,
            Top::Details => r.details = walk.optional_value()?,
            Top::Skipped => walk.skip(1)?,
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
        request: r.request.as_ref().unwrap_or(&Node::Null),
        response: r.response.as_ref().unwrap_or(&Node::Null),
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
    use serde_json::Value;

    fn event(result: Result<Normalized, String>) -> snaptrail_model::Event {
        match result {
            Ok(Normalized::Event(ev)) => *ev,
            other => panic!("not an event: {other:?}"),
        }
    }

    /// The walk's reading of `text` as one whole value, nested in a record's field (as its
    /// `Debug` text: the tree borrows the quotes' index too); `None` if the walk leaves it to
    /// the general path.
    fn walked(text: &str, build: bool) -> Option<Option<String>> {
        let mut quotes = Vec::new();
        let blanks = crate::structural::plain_quotes(text.as_bytes(), &mut quotes)?;
        let mut walk = Walk::new(text, &quotes, blanks);
        let read = if build {
            walk.value(1)
        } else {
            walk.skip(1).map(|()| Node::Null)
        };
        Some(
            read.filter(|_| walk.peek().is_none())
                .map(|n| format!("{n:?}")),
        )
    }

    #[test]
    fn nested_values_are_read_exactly_as_serde_json_reads_them() {
        let bases = [
            r#"{"instancesSet":{"items":[{"imageId":"ami-1","minCount":1,"maxCount":-2}]},"a":[true,false,null,"",{}],"b":[]}"#,
            r#"[0, -0, 1.5, 2E-7, 1e3, 18446744073709551616, -9223372036854775809, 0.000]"#,
            r#"{"k":"first","k":{"x":"second"}, "é": "ü"}"#,
        ];
        let pieces = [
            "", "\"", "{", "}", "[", "]", ",", ":", " ", "\n", "\t", "null", "tru", "1", "-",
            "-01", "1.", "1e", "1e999", ".5", "\"k\":", "x", "\u{1}", "\\n",
        ];
        let mut compared = [0; 2];
        for base in bases {
            for at in (0..=base.len()).filter(|&i| base.is_char_boundary(i)) {
                for piece in pieces {
                    let text = format!("{}{piece}{}", &base[..at], &base[at..]);
                    let parsed = serde_json::from_str::<Value>(&text).ok();
                    for build in [true, false] {
                        // Escapes and control bytes are the general path's: nothing to compare.
                        let Some(read) = walked(&text, build) else {
                            continue;
                        };
                        compared[usize::from(build)] += 1;
                        let expected = parsed
                            .as_ref()
                            .map(|v| if build { Node::of(v) } else { Node::Null })
                            .map(|n| format!("{n:?}"));
                        assert_eq!(read, expected, "{text}");
                    }
                }
            }
        }
        assert!(compared.iter().all(|&n| n > 3000), "{compared:?}");
        // Nesting the general path allows, and past that the walk leaves to it.
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(walked(&nested(99), true).unwrap().is_some());
        assert!(walked(&nested(99), false).unwrap().is_some());
        assert!(walked(&nested(100), true).unwrap().is_none());
        assert!(walked(&nested(100), false).unwrap().is_none());
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
