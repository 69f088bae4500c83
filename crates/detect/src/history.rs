//! What triage knows about each principal: a compact, rolling record of what it did in this run
//! (time, whether it was a successful snapshot operation or a failed login, hashes of its event
//! id, source IP and share targets), plus the privilege changes per account. Records older than
//! [`RETAIN`] or beyond [`RECORDS_PER_PRINCIPAL`] fold into per-principal totals, and past
//! `limits.max_principals` the least recently active principals are forgotten (counted), so
//! memory stays bounded however many identities the logs hold.

use jiff::{SignedDuration, Timestamp};
use snaptrail_model::{Component, Event, EventRef, Text};
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;
use std::sync::OnceLock;

/// Hash maps and sets of the detectors: foldhash with a random seed per run. SipHash (the
/// standard default) was a tenth of detection's time; the seed keeps attacker-chosen keys
/// (principals, IPs) from colliding on purpose.
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
pub type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;

/// How long full records are kept: the chain horizon plus the triage look-around.
pub const RETAIN: SignedDuration = SignedDuration::from_hours(8 * 24);
/// Full records per principal before the oldest fold into totals.
pub const RECORDS_PER_PRINCIPAL: usize = 512;
/// Folded source IPs and share targets remembered per principal.
const FOLDED_SET_CAP: usize = 256;
/// Privilege changes kept per account.
const PRIVILEGES_PER_ACCOUNT: usize = 10_000;

/// A 64-bit digest of a string (ids, IPs, targets), the same throughout a run: equality is all
/// triage asks of them. Seeded at random per run, so nobody can choose two values that collide.
pub fn digest(s: &str) -> u64 {
    static SEED: OnceLock<foldhash::quality::RandomState> = OnceLock::new();
    SEED.get_or_init(Default::default).hash_one(s)
}

struct Record {
    time: Timestamp,
    id: u64,
    /// 0 when the event had no source IP.
    ip: u64,
    snapshot_op: bool,
    login_failed: bool,
    /// Share targets granted by this event (digests); empty for almost every event.
    targets: Box<[u64]>,
}

#[derive(Default)]
struct PrincipalLog {
    records: VecDeque<Record>,
    folded_ops: usize,
    folded_first_op: Option<Timestamp>,
    folded_ips: FastSet<u64>,
    folded_targets: FastSet<u64>,
    last: Timestamp,
}

impl PrincipalLog {
    fn fold_front(&mut self) {
        let Some(r) = self.records.pop_front() else {
            return;
        };
        if r.snapshot_op {
            self.folded_ops += 1;
            self.folded_first_op.get_or_insert(r.time);
        }
        if r.ip != 0 && self.folded_ips.len() < FOLDED_SET_CAP {
            self.folded_ips.insert(r.ip);
        }
        for t in r.targets.iter() {
            if self.folded_targets.len() < FOLDED_SET_CAP {
                self.folded_targets.insert(*t);
            }
        }
    }
}

/// Snapshot operations, for "has this principal done this before?".
pub fn is_snapshot_op(ev: &Event) -> bool {
    ev.component != Component::Other && ev.component != Component::Consume
}

pub struct History {
    principals: FastMap<String, PrincipalLog>,
    privileges: FastMap<Text, VecDeque<EventRef>>,
    max_principals: usize,
    /// Principals forgotten because of `limits.max_principals`.
    pub forgotten: u64,
}

impl History {
    pub fn new(max_principals: usize) -> History {
        History {
            principals: FastMap::default(),
            privileges: FastMap::default(),
            max_principals,
            forgotten: 0,
        }
    }

    /// Record `ev`. When the principal cap is reached, `waiting` names the principals with
    /// alerts still waiting to be answered: their history is kept.
    pub fn record(&mut self, ev: &EventRef, waiting: impl FnOnce() -> HashSet<String>) {
        if ev.has_fact("privilege-change") {
            let list = self.privileges.entry(ev.account.clone()).or_default();
            list.push_back(ev.clone());
            while list.len() > PRIVILEGES_PER_ACCOUNT
                || list.front().is_some_and(|e| e.time + RETAIN < ev.time)
            {
                list.pop_front();
            }
        }
        if !self.principals.contains_key(ev.principal.as_str()) {
            if self.principals.len() >= self.max_principals {
                self.forget_least_recent(&waiting());
            }
            self.principals
                .insert(ev.principal.clone(), PrincipalLog::default());
        }
        let Some(log) = self.principals.get_mut(ev.principal.as_str()) else {
            return;
        };
        let granted: Box<[u64]> = if ev.outcome.success {
            ev.share_targets.iter().map(|t| digest(&t.id)).collect()
        } else {
            Box::new([])
        };
        log.records.push_back(Record {
            time: ev.time,
            id: digest(&ev.event_id),
            ip: ev.source_ip.as_deref().map(digest).unwrap_or(0),
            snapshot_op: ev.outcome.success && is_snapshot_op(ev),
            login_failed: ev.has_fact("login-failed"),
            targets: granted,
        });
        log.last = log.last.max(ev.time);
        while log.records.len() > RECORDS_PER_PRINCIPAL
            || log
                .records
                .front()
                .is_some_and(|r| r.time + RETAIN < ev.time)
        {
            log.fold_front();
        }
    }

    /// Forget the tenth of principals that were active longest ago, except those in `waiting`.
    fn forget_least_recent(&mut self, waiting: &HashSet<String>) {
        let mut lasts: Vec<Timestamp> = self.principals.values().map(|l| l.last).collect();
        let k = (lasts.len() / 10).max(1);
        let (_, cut, _) = lasts.select_nth_unstable(k - 1);
        let cut = *cut;
        let before = self.principals.len();
        self.principals
            .retain(|p, l| l.last > cut || waiting.contains(p.as_str()));
        self.forgotten += (before - self.principals.len()) as u64;
    }

    /// Successful snapshot operations by `principal` before `t`, not among `exclude` (digests of
    /// the alert's own event ids): how many, and the first.
    pub fn snapshot_ops_before(
        &self,
        principal: &str,
        t: Timestamp,
        exclude: &FastSet<u64>,
    ) -> (usize, Option<Timestamp>) {
        let Some(log) = self.principals.get(principal) else {
            return (0, None);
        };
        let recent = log
            .records
            .iter()
            .filter(|r| r.time < t && r.snapshot_op && !exclude.contains(&r.id));
        let count = log.folded_ops + recent.clone().count();
        let first = log
            .folded_first_op
            .or_else(|| recent.map(|r| r.time).next());
        (count, first)
    }

    /// Did `principal` grant `target` before `t`?
    pub fn shared_before(&self, principal: &str, target: &str, t: Timestamp) -> bool {
        let d = digest(target);
        self.principals.get(principal).is_some_and(|log| {
            log.folded_targets.contains(&d)
                || log
                    .records
                    .iter()
                    .any(|r| r.time < t && r.targets.contains(&d))
        })
    }

    pub fn failed_logins(&self, principal: &str, from: Timestamp, to: Timestamp) -> usize {
        self.principals.get(principal).map_or(0, |log| {
            log.records
                .iter()
                .filter(|r| r.login_failed && r.time >= from && r.time <= to)
                .count()
        })
    }

    /// Source IPs `principal` used before `t` (digests), for "new source IP?".
    pub fn ips_before(&self, principal: &str, t: Timestamp) -> FastSet<u64> {
        let Some(log) = self.principals.get(principal) else {
            return FastSet::default();
        };
        let mut ips = log.folded_ips.clone();
        ips.extend(
            log.records
                .iter()
                .filter(|r| r.time < t && r.ip != 0)
                .map(|r| r.ip),
        );
        ips
    }

    /// Privilege changes in `account` between `from` and `to`.
    pub fn privileges(
        &self,
        account: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> impl Iterator<Item = &EventRef> {
        self.privileges
            .get(account)
            .into_iter()
            .flatten()
            .filter(move |e| e.time >= from && e.time <= to)
    }
}
