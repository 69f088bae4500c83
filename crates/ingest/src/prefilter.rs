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
use crate::split::skip_ws;
use crate::structural;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use memchr::memmem::Finder;
use std::cell::RefCell;
use std::rc::Rc;
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

/// Where the first `"key"` at or after `from` starts.
fn key_at(record: &[u8], key: &'static str, from: usize) -> Option<usize> {
    Some(from + finder(key).find(&record[from..])?)
}

/// The value of the `"key"` starting at `at` when it is a plain string (`"key": "value"`, no
/// escapes in the value), and the offset just past the value.
fn plain_value_at<'a>(record: &'a [u8], key: &'static str, at: usize) -> Option<(&'a [u8], usize)> {
    plain_string_after(record, at + key.len() + 2)
}

/// `: "value"` starting at `at`, with the offset past the closing quote.
fn plain_string_after(record: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let colon = skip_ws(record, at);
    if *record.get(colon)? != b':' {
        return None;
    }
    plain_string_at(record, skip_ws(record, colon + 1))
}

#[cfg(test)]
fn plain_value<'a>(record: &'a [u8], key: &'static str) -> Option<&'a [u8]> {
    plain_value_at(record, key, key_at(record, key, 0)?).map(|(v, _)| v)
}

/// Verdicts on names or agents, remembered per thread in a table where each key has two
/// candidate slots, from a seeded foldhash of the whole key. A slot holds the whole key,
/// compared in full before its verdict is used.
///
/// One slot per key, hashed from a few sampled words (as before), was cheaper per lookup but
/// two frequent keys sharing a slot evicted each other on every record: a third of runs, by
/// the luck of the random seeds, re-judged names (the normalizer on a synthetic record) or
/// agents over and over, and the prefilter took up to 2.4x as long; keys alike where nothing
/// was sampled (agents differing only in a version in the middle) always shared one. A miss
/// only ever costs judging the key again, never a wrong verdict; the seed is random per run so
/// nobody can line keys up on the same slots in advance.
///
/// A key is first looked for in front of that table, in a quick entry chosen by a fingerprint
/// of its length and three of its words: a few instructions, where the whole-key hash of a
/// 200-byte agent took dozens (lookups were a sixth of a JSON lines hunt's user time, the
/// hashing a third of that). The fingerprint only chooses the entry: the key is still compared
/// whole there. Keys alike in every sampled word share an entry and, when both are frequent,
/// take turns in it; each turn then costs what a lookup cost before.
struct Memo {
    slots: Box<[Option<Remembered>]>,
    hasher: foldhash::fast::FixedState,
    quick: Box<[Quick]>,
    /// Random per run, like the hasher's seed.
    mix: [u64; 2],
}

/// The key last found with this fingerprint (shared with its slot) and its verdict, in one
/// place: reaching the key through its slot was a second dependent load per lookup.
#[derive(Clone, Default)]
struct Quick {
    fingerprint: u64,
    key: Option<Rc<[u8]>>,
    verdict: bool,
}

/// Quick entries per table: a trail's few hundred names and agents, in 8 KB.
const QUICK_BITS: u32 = 8;

/// A key and its verdict.
type Remembered = (Rc<[u8]>, bool);

/// Slots per table (a trail holds a few dozen to a few hundred distinct names and agents).
const SLOT_BITS: u32 = 11;
/// Keys longer than this are not remembered, so a table holds at most 2 MB of keys.
const LONGEST_REMEMBERED: usize = 1024;

impl Memo {
    fn new() -> Memo {
        use std::hash::BuildHasher;
        Memo::with_seed(std::collections::hash_map::RandomState::new().hash_one(0u8))
    }

    fn with_seed(seed: u64) -> Memo {
        Memo {
            slots: vec![None; 1 << SLOT_BITS].into_boxed_slice(),
            hasher: foldhash::fast::FixedState::with_seed(seed),
            quick: vec![Quick::default(); 1 << QUICK_BITS].into_boxed_slice(),
            mix: [seed | 1, seed.rotate_left(32) ^ 0x9e37_79b9_7f4a_7c15],
        }
    }

    /// The key's length and its first, middle and last eight bytes (fewer for short keys),
    /// mixed with the run's seed.
    fn fingerprint(&self, key: &[u8]) -> u64 {
        let n = key.len();
        let word = |at: usize| u64::from_le_bytes(key[at..at + 8].try_into().unwrap_or([0; 8]));
        let (first, middle, last) = match n {
            16.. => (word(0), word(n / 2 - 4), word(n - 8)),
            8.. => (word(0), 0, word(n - 8)),
            _ => {
                let mut small = [0u8; 8];
                small[..n].copy_from_slice(key);
                (u64::from_le_bytes(small), 0, 0)
            }
        };
        folded_multiply(first ^ self.mix[0], last ^ self.mix[1])
            ^ folded_multiply(middle ^ self.mix[1], n as u64 ^ self.mix[0])
    }

    fn quick_index(fingerprint: u64) -> usize {
        (fingerprint >> (64 - QUICK_BITS)) as usize
    }

    /// The key's two candidate slots, from two disjoint bit ranges of its hash.
    fn candidates(&self, key: &[u8]) -> [usize; 2] {
        use std::hash::BuildHasher;
        let h = self.hasher.hash_one(key);
        let mask = (1usize << SLOT_BITS) - 1;
        [
            (h >> (64 - SLOT_BITS)) as usize,
            (h >> (64 - 2 * SLOT_BITS)) as usize & mask,
        ]
    }

    fn get(&mut self, key: &[u8]) -> Option<bool> {
        let fingerprint = self.fingerprint(key);
        let quick = &self.quick[Memo::quick_index(fingerprint)];
        if quick.fingerprint == fingerprint
            && let Some(k) = &quick.key
            && same(k, key)
        {
            return Some(quick.verdict);
        }
        let (k, verdict) = self
            .candidates(key)
            .into_iter()
            .find_map(|i| self.slots[i].as_ref().filter(|(k, _)| same(k, key)))?;
        let verdict = *verdict;
        self.quick[Memo::quick_index(fingerprint)] = Quick {
            fingerprint,
            key: Some(k.clone()),
            verdict,
        };
        Some(verdict)
    }

    fn put(&mut self, key: &[u8], verdict: bool) {
        // Agents are attacker-chosen: a huge one is judged each time rather than kept.
        if key.len() <= LONGEST_REMEMBERED {
            let [first, second] = self.candidates(key);
            // An empty candidate if there is one; else the second choice is given up.
            let i = if self.slots[first].is_none() {
                first
            } else {
                second
            };
            let key: Rc<[u8]> = key.into();
            let fingerprint = self.fingerprint(&key);
            self.quick[Memo::quick_index(fingerprint)] = Quick {
                fingerprint,
                key: Some(key.clone()),
                verdict,
            };
            self.slots[i] = Some((key, verdict));
        }
    }
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
    if let Some(known) = memo.with(|m| m.borrow_mut().get(key)) {
        return known;
    }
    let verdict = judge(key);
    memo.with(|m| m.borrow_mut().put(key, verdict));
    verdict
}

/// Whether two keys are equal; those of 16 to 32 bytes (most event names) in two compares of
/// 16 bytes, without a call.
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if (16..=32).contains(&n) {
        let half =
            |s: &[u8], at: usize| u128::from_le_bytes(s[at..at + 16].try_into().unwrap_or([0; 16]));
        return half(a, 0) == half(b, 0) && half(a, n - 16) == half(b, n - 16);
    }
    a == b
}

/// The high and low halves of the full product, folded (as foldhash mixes).
fn folded_multiply(x: u64, y: u64) -> u64 {
    let full = u128::from(x) * u128::from(y);
    (full as u64) ^ ((full >> 64) as u64)
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
    // writes `userAgent` shortly after `eventName` (see `agent_after_name`). An agent that is
    // absent, not written plainly or not reached that way leaves the verdict to the needles,
    // which include the tool names.
    let name =
        key_at(record, "eventName", 0).and_then(|at| plain_value_at(record, "eventName", at));
    let Some((name, after)) = name else {
        return needles_match(record);
    };
    if name_matters(name) {
        return true;
    }
    match agent_after_name(record, after) {
        Some(ua) => agent_is_tool(ua),
        None => needles_match(record),
    }
}

/// The record's own `userAgent`: the first after the `eventName` value that ends at `after`,
/// provided nothing between the two can open or close an object or array or escape a quote
/// (CloudTrail writes two plain strings there, `awsRegion` and `sourceIPAddress`). Otherwise a
/// search could find a `"userAgent"` key nested in request parameters (whose map keys callers
/// choose) ahead of the record's own, as in a record a tool rewrote with its keys sorted: `None`
/// then, and the needles decide.
fn agent_after_name(record: &[u8], after: usize) -> Option<&[u8]> {
    let key = key_at(record, "userAgent", after)?;
    if structural::brackets_or_backslash(record, after, key) {
        return None;
    }
    plain_value_at(record, "userAgent", key).map(|(agent, _)| agent)
}

/// The string starting with the quote at `at`, if it has no escapes, and the offset past it.
fn plain_string_at(record: &[u8], at: usize) -> Option<(&[u8], usize)> {
    if *record.get(at)? != b'"' {
        return None;
    }
    let body = &record[at + 1..];
    let end = memchr::memchr2(b'"', b'\\', body)?;
    (body[end] == b'"').then_some((&body[..end], at + 2 + end))
}

/// The needles, over the record's raw bytes. An escape can write a needle's letter or slash so
/// that no byte search sees it (`Create\u0053napshot`, `disks\/write`): a record with one is
/// parsed rather than trusted to the search.
fn needles_match(record: &[u8]) -> bool {
    // One pass over the (rare) backslashes, not a search for each escape.
    memchr::memchr_iter(b'\\', record).any(|i| matches!(record.get(i + 1), Some(b'u' | b'/')))
        || automaton().is_match(record)
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
        // The compact form's shortcut and the general one agree at the edges.
        for compact in [true, false] {
            let sep = if compact { ":" } else { " :\n " };
            let at = |rest: &str| format!(r#"{{"eventName"{sep}{rest}"#).into_bytes();
            assert_eq!(plain_value(&at(r#""""#), "eventName"), Some(&b""[..]));
            assert_eq!(plain_value(&at(r#""Cre\"ate"}"#), "eventName"), None);
            assert_eq!(plain_value(&at(r#""Create"#), "eventName"), None);
            assert_eq!(plain_value(&at("null}"), "eventName"), None);
        }
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
        // Alike but for a few bytes in the middle: each verdict must still be its own.
        let tool = b"aaaaaaaaaaaaaaaa-pacu-bbbbbbbbbbbbbbbb";
        let plain = b"aaaaaaaaaaaaaaaa-xxxx-bbbbbbbbbbbbbbbb";
        for _ in 0..3 {
            assert!(agent_is_tool(tool));
            assert!(!agent_is_tool(plain));
        }
        // Keys of every short length, many more than slots: evictions never mix verdicts.
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
    fn keys_alike_in_every_sampled_word_keep_their_own_verdicts() {
        // 40 bytes each, differing only in bytes 10..14: the fingerprint samples 0..8, 16..24
        // and 32..40, so every key has the same one and they all take turns in one quick entry.
        let keys: Vec<Vec<u8>> = (0..50)
            .map(|i| format!("aws-cli/2.{i:04}-Python/3.11 Linux/6.5-aws").into_bytes())
            .collect();
        let mut memo = Memo::with_seed(7);
        assert!(keys.iter().all(|k| k.len() == 40));
        assert!(
            keys.iter()
                .all(|k| memo.fingerprint(k) == memo.fingerprint(&keys[0]))
        );
        for (i, key) in keys.iter().enumerate() {
            memo.put(key, i % 3 == 0);
        }
        for _ in 0..3 {
            let mut found = 0;
            for (i, key) in keys.iter().enumerate() {
                // Missing (given up to a collision) is allowed; a wrong verdict never is.
                if let Some(verdict) = memo.get(key) {
                    assert_eq!(verdict, i % 3 == 0, "{}", String::from_utf8_lossy(key));
                    found += 1;
                }
            }
            assert!(found >= 48, "{found}");
        }
    }

    #[test]
    fn keys_compare_equal_only_when_every_byte_is() {
        for n in 0..=40usize {
            let a: Vec<u8> = (0..n as u8).map(|b| b.wrapping_mul(37)).collect();
            assert!(same(&a, &a.clone()), "{n}");
            for at in 0..n {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same(&a, &b), "{n} {at}");
            }
            let mut longer = a.clone();
            longer.push(0);
            assert!(!same(&a, &longer), "{n}");
        }
    }

    #[test]
    fn many_keys_stay_remembered_whatever_the_seeds() {
        // 300 distinct names and agents (many of a length, alike at both ends, differing in
        // the middle), looked up round after round: once every key has been judged, no key
        // evicts another for good. With one slot per key, some seeds made two keys share
        // their only slot and re-judge each other on every lookup.
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for i in 0..100 {
            keys.push(format!("Describe{i}Things").into_bytes());
            keys.push(
                format!(
                    "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0-{i:03}-aws exe/x86_64 prompt/off"
                )
                .into_bytes(),
            );
            keys.push(format!("Op{i}").into_bytes());
        }
        for seed in 0..20u64 {
            let mut memo = Memo::with_seed(seed);
            let mut judged = [0usize; 4];
            for round in &mut judged {
                for key in &keys {
                    if memo.get(key).is_none() {
                        *round += 1;
                        memo.put(key, key.len() % 2 == 0);
                    }
                    assert_eq!(memo.get(key), Some(key.len() % 2 == 0));
                }
            }
            assert_eq!(judged[0], keys.len());
            assert!(judged[3] <= 3, "seed {seed}: {judged:?}");
        }
    }

    #[test]
    fn the_user_agent_is_found_wherever_it_is_and_however_it_is_written() {
        // Before the name (not CloudTrail's order): the needles decide, tool names included.
        assert!(may_be_relevant(
            br#"{"userAgent":"pacu","eventName":"GetObject"}"#
        ));
        assert!(!may_be_relevant(
            br#"{"userAgent":"aws-cli/2","eventName":"GetObject"}"#
        ));
        // CloudTrail's order: the agent after the name decides, even with a tool named later.
        assert!(!may_be_relevant(
            br#"{"eventName":"GetObject","awsRegion":"x","userAgent":"aws-cli/2","requestParameters":{"k":"pacu"}}"#
        ));
        // Keys sorted: a nested `userAgent` met first is not taken for the record's own.
        assert!(may_be_relevant(
            br#"{"eventName":"GetObject","requestParameters":{"tags":{"userAgent":"aws-cli/2"}},"userAgent":"pacu"}"#
        ));
        // Nor one after a quote the search cannot see is escaped.
        assert!(may_be_relevant(
            br#"{"eventName":"GetObject","awsRegion":"\"userAgent\":\"aws-cli\"","userAgent":"pacu"}"#
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

    #[test]
    fn escapes_that_could_hide_a_needle_send_the_record_to_be_parsed() {
        for record in [
            br#"{"eventName":"Create\u0053napshot","userAgent":"aws-cli/2"}"#.as_slice(),
            br#"{"eventName":"GetObject","userAgent":"\u0070acu"}"#,
            br#"{"operationName":"Microsoft.Compute\/disks\/write"}"#,
        ] {
            assert!(
                may_be_relevant(record),
                "{}",
                String::from_utf8_lossy(record)
            );
        }
        assert!(!may_be_relevant(
            br#"{"operationName":"Microsoft.Web/sites/read"}"#
        ));
        assert!(!may_be_relevant(
            br#"{"eventName":"GetObject","userAgent":"aws-cli/2 \"quoted\""}"#
        ));
    }
}
