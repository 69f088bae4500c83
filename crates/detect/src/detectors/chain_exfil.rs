//! The exfiltration chain: a snapshot is shared with an account that is not trusted, and that
//! account then uses it — `SharedSnapshotVolumeCreated` / `SharedSnapshotCopyInitiated` in the
//! owner's trail, or a copy or volume made from it in the other account when the trail covers
//! both. Keyed by snapshot, not by principal: the steps are done by different identities.

use super::{Aggregator, T_CREATE_SNAPSHOT, T_TRANSFER};
use crate::config::Config;
use crate::context::{TargetClass, classify_target};
use crate::finding::{Finding, short_id};
use serde_json::json;
use snaptrail_model::{Component, Event, ResourceKind, Severity, ShareAction};
use std::collections::BTreeMap;

/// The target of a public share: every account.
const ANYONE: &str = "*";

/// Did a share with these targets give `account` access?
fn granted(targets: &[String], account: &str) -> bool {
    targets.iter().any(|t| t == account || t == ANYONE)
}

#[derive(Default)]
struct Chain<'e> {
    creates: Vec<&'e Event>,
    /// Successful grants to non-trusted targets, with the target ids.
    shares: Vec<(&'e Event, Vec<String>)>,
    uses: Vec<(&'e Event, String)>,
}

#[derive(Default)]
pub struct ExfilChain<'e> {
    by_snapshot: BTreeMap<String, Chain<'e>>,
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

impl<'e> Aggregator<'e> for ExfilChain<'e> {
    fn observe(&mut self, ev: &'e Event, cfg: &Config) {
        if !ev.outcome.success {
            return;
        }
        match ev.component {
            Component::Create => {
                for id in snapshot_ids(ev) {
                    let chain = self.by_snapshot.entry(id.to_string()).or_default();
                    // A copy or volume made in another account than the share was made in is a use.
                    if chain.shares.iter().any(|(s, targets)| {
                        s.account != ev.account && granted(targets, &ev.account)
                    }) {
                        chain.uses.push((ev, ev.account.clone()));
                    } else {
                        chain.creates.push(ev);
                    }
                }
            }
            Component::Share => {
                let targets: Vec<String> = ev
                    .share_targets
                    .iter()
                    .filter(|t| t.action == ShareAction::Add)
                    .filter_map(|t| match classify_target(cfg, ev, t) {
                        TargetClass::External | TargetClass::OwnAccount => Some(t.id.clone()),
                        // Anyone may use a public snapshot.
                        TargetClass::Public => Some(ANYONE.to_string()),
                        TargetClass::Trusted => None,
                    })
                    .collect();
                if !targets.is_empty() {
                    for id in snapshot_ids(ev) {
                        self.by_snapshot
                            .entry(id.to_string())
                            .or_default()
                            .shares
                            .push((ev, targets.clone()));
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
                    if let Some(chain) = self.by_snapshot.get_mut(id) {
                        let shared_to_user = chain
                            .shares
                            .iter()
                            .any(|(s, targets)| granted(targets, &user) && s.time <= ev.time);
                        if shared_to_user
                            && (ev.component == Component::Consume
                                || chain.shares.iter().any(|(s, _)| s.account != ev.account))
                        {
                            chain.uses.push((ev, user.clone()));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn finish(self: Box<Self>, cfg: &Config) -> Vec<Finding<'e>> {
        let mut out = Vec::new();
        for (snapshot, chain) in self.by_snapshot {
            if chain.uses.is_empty() || chain.shares.is_empty() {
                continue;
            }
            let mut events: Vec<&Event> = chain.creates.to_vec();
            events.extend(chain.shares.iter().map(|(e, _)| *e));
            events.extend(chain.uses.iter().map(|(e, _)| *e));
            events.sort_by_key(|e| e.time);
            events.dedup_by_key(|e| e.event_id.as_str());
            let share = chain.shares[0].0;
            let users: Vec<&str> = chain.uses.iter().map(|(_, u)| u.as_str()).collect();
            let external = chain.uses.iter().any(|(_, u)| {
                let t = snaptrail_model::ShareTarget {
                    action: ShareAction::Add,
                    kind: snaptrail_model::TargetKind::Account,
                    id: u.clone(),
                };
                classify_target(cfg, share, &t) == TargetClass::External
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
            out.push(f);
        }
        out
    }
}
