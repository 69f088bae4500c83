//! A byte-level test run before any JSON parsing: does this record possibly name an operation
//! that a detector or a triage question reads? Most audit records (Describe*, Get*, S3 data
//! events) do not, and skipping their parse is where most of the speed comes from.
//!
//! CloudTrail records (the bulk of any hunt) take the fast path: find the `"eventName"` key with
//! SIMD memmem, and ask whether that name can ever matter — answered once per distinct name by
//! the AWS normalizer itself, so the prefilter cannot disagree with it. Records from offensive
//! tools always pass. Everything else (Azure, GCP, LookupEvents' escaped JSON, odd spellings)
//! falls back to case-insensitive needles.
//!
//! Both paths are conservative by construction, and `tests/` checks on the corpus and on
//! simulated data that hunting with and without the prefilter gives identical results.

use crate::normalize::{ATTACK_TOOLS, attack_tools, aws};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use memchr::memmem::Finder;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

pub const NEEDLES: &[&str] = &[
    "snapshot",
    "image",
    "backup",
    "copyjob",
    "restore",
    "recoverypoint",
    "exporttask",
    "listchangedblocks",
    "getaccess",
    "capture",
    "createvolume",
    "attachvolume",
    "runinstances",
    "securitygroupingress",
    "securityrules",
    "virtualmachines/write",
    "disks/",
    "disks.insert",
    "instances.insert",
    "attachdisk",
    "firewalls.",
    "modifydbinstance",
    "modifydbcluster",
    "rbin",
    "instances.export",
    "consolelogin",
    "policy",
    // Not "accesskey": every CloudTrail record has an `accessKeyId`.
    "createaccesskey",
    "loginprofile",
    "addusertogroup",
    "roleassignments",
    "roledefinitions",
    "serviceaccountkey",
    "roles.create",
    "vaults/",
    "resourcepolicies",
    // Pub/Sub-wrapped entries carry the record base64-encoded: let them through to be decoded.
    "\"message\"",
];

fn automaton() -> &'static AhoCorasick {
    static AC: OnceLock<AhoCorasick> = OnceLock::new();
    AC.get_or_init(|| {
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            // Any record from an offensive tool is relevant, whatever its operation.
            .build(NEEDLES.iter().chain(ATTACK_TOOLS))
            .unwrap_or_else(|e| panic!("prefilter needles are static and valid: {e}"))
    })
}

fn finder(key: &'static str) -> &'static Finder<'static> {
    static EVENT_NAME: OnceLock<Finder<'static>> = OnceLock::new();
    static USER_AGENT: OnceLock<Finder<'static>> = OnceLock::new();
    match key {
        "eventName" => EVENT_NAME.get_or_init(|| Finder::new(b"\"eventName\"")),
        _ => USER_AGENT.get_or_init(|| Finder::new(b"\"userAgent\"")),
    }
}

/// Where the first `"key"` at or after some offset is, and how its value is written.
enum Key<'a> {
    Absent,
    /// Present, but not a plain string: escapes, another type, odd syntax.
    NotPlain,
    /// `"key": "value"` with no escapes in the value, and the offset just past the value.
    Plain(&'a [u8], usize),
}

fn find_key<'a>(record: &'a [u8], key: &'static str, from: usize) -> Key<'a> {
    let Some(found) = finder(key).find(&record[from..]) else {
        return Key::Absent;
    };
    let at = from + found + key.len() + 2;
    plain_string_after(record, at).map_or(Key::NotPlain, |(v, end)| Key::Plain(v, end))
}

/// `: "value"` starting at `at`, with the offset past the closing quote.
fn plain_string_after(record: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let rest = &record[at..];
    let colon = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    if rest[colon] != b':' {
        return None;
    }
    let after = &rest[colon + 1..];
    let quote = after.iter().position(|b| !b.is_ascii_whitespace())?;
    if after[quote] != b'"' {
        return None;
    }
    let value = &after[quote + 1..];
    let end = memchr::memchr2(b'"', b'\\', value)?;
    let past = record.len() - value.len() + end + 1;
    (value[end] == b'"').then_some((&value[..end], past))
}

#[cfg(test)]
fn plain_value<'a>(record: &'a [u8], key: &'static str) -> Option<&'a [u8]> {
    match find_key(record, key, 0) {
        Key::Plain(v, _) => Some(v),
        _ => None,
    }
}

/// Verdicts on names or agents. foldhash hashes a 100-byte agent several times faster than a
/// one-word-at-a-time chain (which was most of the prefilter's own time), and its seed is
/// random per run: attackers choose agents, so collisions must not be predictable. Each cache
/// is also emptied at [`REMEMBERED`] entries.
type Verdicts = HashMap<Box<[u8]>, bool, foldhash::fast::RandomState>;

thread_local! {
    /// Verdicts on event names (few hundred distinct in a trail).
    static NAMES: RefCell<Verdicts> = RefCell::new(Verdicts::default());
    /// Verdicts on user agents: a trail holds a few hundred distinct ones, so a lookup is
    /// cheaper than scanning each for tool names.
    static AGENTS: RefCell<Verdicts> = RefCell::new(Verdicts::default());
}

/// Distinct names or agents remembered per thread before a cache is emptied.
const REMEMBERED: usize = 4096;

/// Remember a verdict, emptying the cache first when it is full.
fn remember(cache: &mut Verdicts, key: &[u8], verdict: bool) {
    if cache.len() >= REMEMBERED {
        cache.clear();
    }
    cache.insert(key.into(), verdict);
}

/// Can a CloudTrail record with this `eventName` ever be relevant? Normalizes a synthetic
/// record whose request meets every condition the normalizer looks at.
fn name_matters(name: &[u8]) -> bool {
    if let Some(known) = NAMES.with(|n| n.borrow().get(name).copied()) {
        return known;
    }
    let answer = match std::str::from_utf8(name) {
        Ok(name) => {
            let record = serde_json::json!({
                "eventName": name, "eventSource": "any.amazonaws.com", "eventTime": "2026-01-01T00:00:00Z",
                "requestParameters": {"snapshotId": "snap-0", "backupRetentionPeriod": 0, "masterUserPassword": "*",
                    "resourceType": "EBS_SNAPSHOT", "includePublic": true, "includeShared": true, "publiclyAccessible": true,
                    "blockDeviceMapping": {"items": [{"ebs": {"snapshotId": "snap-0"}}]}},
                "responseElements": {"snapshotType": "manual", "ConsoleLogin": "Success"}});
            matches!(aws::normalize(&record, ""), Ok(crate::normalize::Normalized::Event(ev)) if ev.is_relevant())
        }
        Err(_) => true,
    };
    NAMES.with(|n| remember(&mut n.borrow_mut(), name, answer));
    answer
}

/// Is this plainly written user agent an offensive tool's?
pub(crate) fn agent_is_tool(ua: &[u8]) -> bool {
    let tools = attack_tools();
    AGENTS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(known) = cache.get(ua) {
            return *known;
        }
        let answer = tools.is_match(ua);
        remember(&mut cache, ua, answer);
        answer
    })
}

/// True when the record may matter and must be parsed.
pub fn may_be_relevant(record: &[u8]) -> bool {
    // A plain CloudTrail record: its name decides, unless an attack tool sent it. CloudTrail
    // writes `userAgent` after `eventName`, so the search for it starts there (and goes back to
    // the start only when there is none after). An agent that is absent, or not written
    // plainly, leaves the verdict to the needles, which include the tool names.
    let Key::Plain(name, after) = find_key(record, "eventName", 0) else {
        return automaton().is_match(record);
    };
    if name_matters(name) {
        return true;
    }
    let agent = match find_key(record, "userAgent", after) {
        Key::Absent => find_key(record, "userAgent", 0),
        found => found,
    };
    match agent {
        Key::Plain(ua, _) => agent_is_tool(ua),
        Key::Absent | Key::NotPlain => automaton().is_match(record),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_judged_by_the_normalizer() {
        for name in [
            "CreateSnapshot",
            "ModifySnapshotAttribute",
            "DescribeSnapshots",
            "ConsoleLogin",
            "AttachRolePolicy",
            "ModifyDBInstance",
            "AuthorizeSecurityGroupIngress",
            "SharedSnapshotVolumeCreated",
            "DeleteRule",
        ] {
            assert!(name_matters(name.as_bytes()), "{name}");
        }
        for name in [
            "DescribeInstances",
            "GetObject",
            "AssumeRole",
            "Decrypt",
            "PutObject",
        ] {
            assert!(!name_matters(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn plain_values_with_any_spacing() {
        assert_eq!(
            plain_value(br#"{"eventName":"X","a":1}"#, "eventName"),
            Some(&b"X"[..])
        );
        assert_eq!(
            plain_value(br#"{"eventName" : "Create"}"#, "eventName"),
            Some(&b"Create"[..])
        );
        assert_eq!(plain_value(br#"{"eventName": 42}"#, "eventName"), None);
        assert_eq!(
            plain_value(
                br#"{"CloudTrailEvent": "{\"eventName\":\"X\"}"}"#,
                "eventName"
            ),
            None
        );
        assert!(may_be_relevant(
            br#"{"eventName":"GetObject","userAgent":"Boto3 Pacu-Session-1"}"#
        ));
        assert!(!may_be_relevant(
            br#"{"eventName":"GetObject","userAgent":"aws-cli/2"}"#
        ));
    }

    #[test]
    fn the_user_agent_is_found_wherever_it_is_and_however_it_is_written() {
        // Before the name (not CloudTrail's order): found by going back to the start.
        assert!(may_be_relevant(
            br#"{"userAgent":"pacu","eventName":"GetObject"}"#
        ));
        // Escapes in the agent: not plain, so the needles (tool names included) decide.
        assert!(may_be_relevant(
            br#"{"eventName":"GetObject","userAgent":"Boto3 \"Pacu\" 1.0"}"#
        ));
        assert!(!may_be_relevant(
            br#"{"eventName":"GetObject","userAgent":"aws-cli/2 \"x\""}"#
        ));
        // No agent at all: the needles decide.
        assert!(!may_be_relevant(br#"{"eventName":"GetObject"}"#));
        assert!(may_be_relevant(
            br#"{"eventName":"GetObject","requestParameters":{"note":"prowler"}}"#
        ));
    }
}
