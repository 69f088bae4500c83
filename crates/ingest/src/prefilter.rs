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

/// Verdicts on names or agents, remembered per thread in a direct-mapped table: the slot comes
/// from the key's length and its first and last 16 bytes, and holds the whole key, compared in
/// full before its verdict is used. Hashing 100-byte agents in full and probing a map was half
/// the prefilter's time. A key that lands on another's slot evicts it: a miss only costs judging
/// the key again, never a wrong verdict, and the seeds are random per run so nobody can line
/// keys up on one slot in advance.
struct Memo {
    slots: Box<[Option<Remembered>]>,
    seeds: [u64; 3],
}

/// A key and its verdict.
type Remembered = (Box<[u8]>, bool);

/// Slots per table (a trail holds a few hundred distinct names and agents).
const SLOT_BITS: u32 = 10;
/// Keys longer than this are not remembered, so a table holds at most 1 MB of keys.
const LONGEST_REMEMBERED: usize = 1024;

impl Memo {
    fn new() -> Memo {
        use std::hash::BuildHasher;
        let random = std::collections::hash_map::RandomState::new();
        Memo {
            slots: vec![None; 1 << SLOT_BITS].into_boxed_slice(),
            seeds: [0u8, 1, 2].map(|i| random.hash_one(i) | 1),
        }
    }

    fn slot(&self, key: &[u8]) -> usize {
        let [w, x, y, z] = ends(key);
        let [a, b, c] = self.seeds;
        let h = fold(w ^ a, x ^ b) ^ fold(y ^ c, z ^ key.len() as u64);
        (fold(h, a) >> (64 - SLOT_BITS)) as usize
    }

    fn get(&self, key: &[u8]) -> Option<bool> {
        match &self.slots[self.slot(key)] {
            Some((k, verdict)) if **k == *key => Some(*verdict),
            _ => None,
        }
    }

    fn put(&mut self, key: &[u8], verdict: bool) {
        // Agents are attacker-chosen: a huge one is judged each time rather than kept.
        if key.len() <= LONGEST_REMEMBERED {
            let i = self.slot(key);
            self.slots[i] = Some((key.into(), verdict));
        }
    }
}

/// Up to the first and last 16 bytes of `key` as words, read straight from the key (copying a
/// short key into a padded buffer first stalled every read of it).
fn ends(key: &[u8]) -> [u64; 4] {
    let n = key.len();
    let word = |at: usize| u64::from_le_bytes(key[at..at + 8].try_into().unwrap_or([0; 8]));
    let half = |at: usize| {
        u64::from(u32::from_le_bytes(
            key[at..at + 4].try_into().unwrap_or([0; 4]),
        ))
    };
    if n >= 16 {
        [word(0), word(8), word(n - 16), word(n - 8)]
    } else if n >= 8 {
        [word(0), word(n - 8), 0, 0]
    } else if n >= 4 {
        [half(0) | half(n - 4) << 32, 0, 0, 0]
    } else {
        [key.iter().fold(0, |h, &b| h << 8 | u64::from(b)), 0, 0, 0]
    }
}

/// Multiply, then fold the 128-bit product's halves together.
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

thread_local! {
    /// Verdicts on event names (a few hundred distinct in a trail).
    static NAMES: RefCell<Memo> = RefCell::new(Memo::new());
    /// Verdicts on user agents: a trail holds a few hundred distinct ones, so a lookup is
    /// cheaper than scanning each for tool names.
    static AGENTS: RefCell<Memo> = RefCell::new(Memo::new());
}

/// The remembered verdict on `key`, or `judge`'s (remembered). Judging runs outside the borrow:
/// judging a name runs the normalizer, which asks about agents.
fn remembered(
    memo: &'static std::thread::LocalKey<RefCell<Memo>>,
    key: &[u8],
    judge: impl FnOnce(&[u8]) -> bool,
) -> bool {
    if let Some(known) = memo.with(|m| m.borrow().get(key)) {
        return known;
    }
    let verdict = judge(key);
    memo.with(|m| m.borrow_mut().put(key, verdict));
    verdict
}

/// Can a CloudTrail record with this `eventName` ever be relevant? Normalizes a synthetic
/// record whose request meets every condition the normalizer looks at.
fn name_matters(name: &[u8]) -> bool {
    remembered(&NAMES, name, judge_name)
}

fn judge_name(name: &[u8]) -> bool {
    match std::str::from_utf8(name) {
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
    }
}

/// Is this plainly written user agent an offensive tool's?
pub(crate) fn agent_is_tool(ua: &[u8]) -> bool {
    remembered(&AGENTS, ua, |ua| attack_tools().is_match(ua))
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
    fn verdicts_are_remembered_per_whole_key() {
        // Same length, same first and last 16 bytes: always the same slot, so each evicts the
        // other, and each verdict must still be its own.
        let tool = b"aaaaaaaaaaaaaaaa-pacu-bbbbbbbbbbbbbbbb";
        let plain = b"aaaaaaaaaaaaaaaa-xxxx-bbbbbbbbbbbbbbbb";
        for _ in 0..3 {
            assert!(agent_is_tool(tool));
            assert!(!agent_is_tool(plain));
        }
        // Every length the slot's sampling treats differently, many more keys than slots.
        for len in 0..40 {
            for i in 0..(2 << SLOT_BITS) / 40 {
                let mut agent = format!("{i:0>len$}").into_bytes();
                agent.truncate(len);
                assert!(!agent_is_tool(&agent));
                if len >= 4 {
                    agent[len / 2 - 2..len / 2 + 2].copy_from_slice(b"PaCu");
                    assert!(
                        agent_is_tool(&agent),
                        "{:?}",
                        String::from_utf8_lossy(&agent)
                    );
                }
            }
        }
        assert!(name_matters(b"CreateSnapshot") && !name_matters(b"GetObject"));
        // Too long to remember: judged every time, the same way.
        let mut long = vec![b'x'; LONGEST_REMEMBERED + 100];
        assert!(!agent_is_tool(&long) && !agent_is_tool(&long));
        long[600..604].copy_from_slice(b"pacu");
        assert!(agent_is_tool(&long) && agent_is_tool(&long));
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
