//! The exfiltration chain: a snapshot is shared with an account that is not trusted, and that
//! account then uses it — `SharedSnapshotVolumeCreated` / `SharedSnapshotCopyInitiated` in the
//! owner's trail, or a copy or volume made from it in the other account when the trail covers
//! both. Keyed by snapshot, not by principal: the steps are done by different identities.

use super::groups::Groups;
use super::{Aggregator, T_CREATE_SNAPSHOT, T_TRANSFER};
use crate::config::Config;
use crate::context::{TargetClass, classify_target};
use crate::finding::{Finding, short_id};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use snaptrail_model::{Component, Event, EventRef, ResourceKind, Severity, ShareAction, Text};

/// The target of a public share: every account.
const ANYONE: &str = "*";

/// Did a share with these targets give `account` access?
fn granted(targets: &[Text], account: &str) -> bool {
    targets.iter().any(|t| t == account || t == ANYONE)
}

#[derive(Default)]
struct Chain {
    creates: Vec<EventRef>,
    /// Successful grants to non-trusted targets, with the target ids.
    shares: Vec<(EventRef, Vec<Text>)>,
    uses: Vec<(EventRef, Text)>,
}

/// Chains by snapshot, each due `thresholds.chain_horizon` after its last step.
pub struct ExfilChain {
    horizon: SignedDuration,
    by_snapshot: Groups<Text, Chain>,
}

impl ExfilChain {
    pub fn new(cfg: &Config) -> Self {
        ExfilChain {
            horizon: SignedDuration::from_secs(cfg.chain_horizon_secs),
            by_snapshot: Groups::default(),
        }
    }

    fn chain(&mut self, id: &str, now: Timestamp) -> &mut Chain {
        let due = now + self.horizon;
        let key = Text::from(id);
        self.by_snapshot.postpone(&key, due);
        self.by_snapshot
            .get_or_insert_with(key, due, Chain::default)
    }
}

fn snapshot_ids(ev: &Event) -> impl Iterator<Item = &str> {
    ev.resources
        .iter()
        .filter(|r| {
            matches!(
                r.kind,
                ResourceKind::Snapshot
                    | ResourceKind::DbSnapshot
                    | ResourceKind::DbClusterSnapshot
                    | ResourceKind::Image
            )
        })
        .map(|r| short_id(&r.id))
}

impl Aggregator for ExfilChain {
    fn observe(&mut self, ev: &EventRef, cfg: &Config) {
        if !ev.outcome.success {
            return;
        }
        match ev.component {
            Component::Create => {
                for id in snapshot_ids(ev) {
                    let chain = self.chain(id, ev.time);
                    // A copy or volume made in another account than the share was made in is a use.
                    if chain.shares.iter().any(|(s, targets)| {
                        s.account != ev.account && granted(targets, &ev.account)
                    }) {
                        chain.uses.push((ev.clone(), ev.account.clone()));
                    } else {
                        chain.creates.push(ev.clone());
                    }
                }
            }
            Component::Share => {
                let targets: Vec<Text> = ev
                    .share_targets
                    .iter()
                    .filter(|t| t.action == ShareAction::Add)
                    .filter_map(|t| match classify_target(cfg, ev, t) {
                        TargetClass::External | TargetClass::OwnAccount => Some(t.id.clone()),
                        // Anyone may use a public snapshot.
                        TargetClass::Public => Some(ANYONE.into()),
                        TargetClass::Trusted => None,
                    })
                    .collect();
                if !targets.is_empty() {
                    for id in snapshot_ids(ev) {
                        self.chain(id, ev.time)
                            .shares
                            .push((ev.clone(), targets.clone()));
                    }
                }
            }
            Component::Consume | Component::Restore => {
                let user = if ev.component == Component::Consume {
                    ev.share_targets.first().map(|t| t.id.clone())
                } else {
                    Some(ev.account.clone())
                };
                let Some(user) = user else { return };
                for id in snapshot_ids(ev) {
                    let key = Text::from(id);
                    self.by_snapshot.postpone(&key, ev.time + self.horizon);
                    if let Some(chain) = self.by_snapshot.get_mut(&key) {
                        let shared_to_user = chain
                            .shares
                            .iter()
                            .any(|(s, targets)| granted(targets, &user) && s.time <= ev.time);
                        if shared_to_user
                            && (ev.component == Component::Consume
                                || chain.shares.iter().any(|(s, _)| s.account != ev.account))
                        {
                            chain.uses.push((ev.clone(), user.clone()));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn flush(&mut self, now: Timestamp, cfg: &Config, out: &mut Vec<Finding>) {
        let due = self.by_snapshot.take_due(now);
        out.extend(due.into_iter().filter_map(|c| report(c, cfg)));
    }

    fn keys(&self) -> usize {
        self.by_snapshot.len()
    }

    fn evict(&mut self, n: usize, cfg: &Config, out: &mut Vec<Finding>) -> usize {
        let closed = self.by_snapshot.take_oldest(n);
        let count = closed.len();
        out.extend(closed.into_iter().filter_map(|c| report(c, cfg)));
        count
    }
}

fn report((snapshot, chain): (Text, Chain), cfg: &Config) -> Option<Finding> {
    {
        if chain.uses.is_empty() || chain.shares.is_empty() {
            return None;
        }
        let mut events: Vec<EventRef> = chain.creates.to_vec();
        events.extend(chain.shares.iter().map(|(e, _)| e.clone()));
        events.extend(chain.uses.iter().map(|(e, _)| e.clone()));
        events.sort_by_key(|e| e.time);
        events.dedup_by(|a, b| a.event_id == b.event_id);
        let share = chain.shares[0].0.clone();
        let users: Vec<&str> = chain.uses.iter().map(|(_, u)| u.as_str()).collect();
        let external = chain.uses.iter().any(|(_, u)| {
            let t = snaptrail_model::ShareTarget {
                action: ShareAction::Add,
                kind: snaptrail_model::TargetKind::Account,
                id: u.clone(),
            };
            classify_target(cfg, &share, &t) == TargetClass::External
        });
        let mut f = Finding::new(
            "snapshot.chain.exfiltration",
            if external {
                Severity::Critical
            } else {
                Severity::High
            },
            &[T_CREATE_SNAPSHOT, T_TRANSFER],
            events,
        );
        // The sharer, not the service that logged the use, is the principal of the chain.
        f.events
            .sort_by_key(|e| (e.event_id != share.event_id, e.time));
        f.title = format!(
            "Snapshot {snapshot} shared by {} and used by account {}",
            share.principal,
            users.join(", ")
        );
        f.point(
            70,
            "shared with an account that is not a trusted share target",
        );
        f.point(
            25,
            format!(
                "and used by that account ({})",
                chain
                    .uses
                    .iter()
                    .map(|(e, _)| e.operation.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        if !chain.creates.is_empty() {
            f.point(5, "the snapshot was created in the same chain");
        }
        f.tag("chain");
        f.tag(if external { "external" } else { "own-account" });
        f.share_targets = users.iter().map(|u| u.to_string()).collect();
        f.evidence("snapshot", json!(snapshot));
        f.evidence(
            "steps",
            json!({
                "create": chain.creates.iter().map(|e| &e.event_id).collect::<Vec<_>>(),
                "share": chain.shares.iter().map(|(e, _)| &e.event_id).collect::<Vec<_>>(),
                "use": chain.uses.iter().map(|(e, _)| &e.event_id).collect::<Vec<_>>(),
            }),
        );
        f.adjust_for_benign = false;
        Some(f)
    }
}
