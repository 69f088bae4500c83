//! Per-cloud normalizers: one raw record (a parsed JSON value) to one [`Event`], or a counted skip.

pub mod aws;
pub mod aws_record;
pub mod azure;
pub mod gcp;
pub mod json;
pub mod node;

use snaptrail_model::{Event, Resource, ResourceKind, Text};

/// What a normalizer makes of one record.
#[derive(Debug)]
pub enum Normalized {
    Event(Box<Event>),
    /// Not an audit record we read (Config item, ASG notification, sign-in log…), by kind.
    Skip(String),
}

/// A record that claims to be an audit record but breaks its own schema.
pub type NormError = String;

/// Push a resource unless an equal one is already there (records repeat ids in request and
/// response).
pub fn push_resource(resources: &mut Vec<Resource>, kind: ResourceKind, id: &str) {
    if id.is_empty() || resources.iter().any(|r| r.id == id && r.kind == kind) {
        return;
    }
    resources.push(Resource {
        kind,
        id: id.into(),
    });
}

pub fn push_fact(facts: &mut Vec<Text>, fact: impl Into<Text>) {
    let fact = fact.into();
    if !facts.contains(&fact) {
        facts.push(fact);
    }
}

/// User agents of offensive tooling: Pacu suffixes `Pacu-Session-<uuid>`, Stratus Red Team
/// uses `stratus-red-team_<uuid>`.
pub fn is_attack_tool_agent(agent: &str) -> bool {
    // The prefilter's remembered verdicts: a trail holds a few hundred distinct agents, and a
    // lookup costs a fraction of a search.
    crate::prefilter::agent_is_tool(agent.as_bytes())
}

/// [`ATTACK_TOOLS`], matched in any case without lower-casing a copy of the agent first.
pub fn attack_tools() -> &'static aho_corasick::AhoCorasick {
    static TOOLS: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    TOOLS.get_or_init(|| {
        aho_corasick::AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .build(ATTACK_TOOLS)
            .unwrap_or_else(|e| panic!("tool names are static and valid: {e}"))
    })
}

/// Lower-case markers of offensive tooling in user agents (the prefilter looks for them too).
pub const ATTACK_TOOLS: &[&str] = &[
    "pacu",
    "stratus-red-team",
    "cloudgoat",
    "scoutsuite",
    "prowler",
];
