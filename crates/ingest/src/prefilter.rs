//! A byte-level test run before any JSON parsing: does this record possibly name an operation
//! that a detector or a triage question reads? Most audit records (Describe*, Get*, S3 data
//! events) do not, and skipping their parse is where most of the speed comes from.
//!
//! The test is conservative by construction: every operation the normalizers classify as
//! relevant contains one of these needles (case-insensitively), and `tests/prefilter.rs` checks
//! that on the corpus and on generated data.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
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
            .build(NEEDLES.iter().chain(crate::normalize::ATTACK_TOOLS))
            .unwrap_or_else(|e| panic!("prefilter needles are static and valid: {e}"))
    })
}

/// True when the record may matter and must be parsed.
pub fn may_be_relevant(record: &[u8]) -> bool {
    automaton().is_match(record)
}
