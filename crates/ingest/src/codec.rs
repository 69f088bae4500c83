//! The spool's run-file format for [`Event`]: fields in declaration order, strings as a length
//! and bytes, enums as their index, each event prefixed by its length. Private to one run
//! (written and read back by the same binary), so there is no version: only speed matters, and
//! JSON spent a fifth of a hunt on escaping and parsing its own output.

use jiff::Timestamp;
use snaptrail_model::{
    Cloud, Component, Event, Outcome, PrincipalKind, Resource, ResourceKind, ShareAction,
    ShareTarget, TargetKind,
};

const CLOUDS: [Cloud; 3] = [Cloud::Aws, Cloud::Azure, Cloud::Gcp];
const COMPONENTS: [Component; 9] = [
    Component::Create,
    Component::Share,
    Component::Unshare,
    Component::Consume,
    Component::Export,
    Component::Restore,
    Component::Delete,
    Component::Enumerate,
    Component::Other,
];
const PRINCIPAL_KINDS: [PrincipalKind; 7] = [
    PrincipalKind::User,
    PrincipalKind::RoleSession,
    PrincipalKind::Service,
    PrincipalKind::Root,
    PrincipalKind::CrossAccount,
    PrincipalKind::Anonymous,
    PrincipalKind::Unknown,
];
const RESOURCE_KINDS: [ResourceKind; 13] = [
    ResourceKind::Snapshot,
    ResourceKind::Image,
    ResourceKind::DbSnapshot,
    ResourceKind::DbClusterSnapshot,
    ResourceKind::DbInstance,
    ResourceKind::DbCluster,
    ResourceKind::Volume,
    ResourceKind::Disk,
    ResourceKind::Instance,
    ResourceKind::SecurityGroup,
    ResourceKind::Backup,
    ResourceKind::Bucket,
    ResourceKind::Other,
];
const TARGET_KINDS: [TargetKind; 6] = [
    TargetKind::Public,
    TargetKind::Account,
    TargetKind::Organization,
    TargetKind::OrganizationalUnit,
    TargetKind::Member,
    TargetKind::SasUrl,
];
const SHARE_ACTIONS: [ShareAction; 2] = [ShareAction::Add, ShareAction::Remove];

fn index<T: PartialEq + Copy>(table: &[T], value: T) -> u8 {
    table.iter().position(|t| *t == value).unwrap_or(0) as u8
}

struct Writer<'a>(&'a mut Vec<u8>);

impl Writer<'_> {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn len(&mut self, n: usize) {
        self.0.extend_from_slice(&(n as u32).to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
    fn opt(&mut self, s: &Option<String>) {
        match s {
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
            None => self.u8(0),
        }
    }
    fn strs(&mut self, list: &[String]) {
        self.len(list.len());
        for s in list {
            self.str(s);
        }
    }
}

/// Append `ev` to `out`, length first.
pub fn encode(ev: &Event, out: &mut Vec<u8>) {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    let mut w = Writer(out);
    w.0.extend_from_slice(&ev.time.as_nanosecond().to_le_bytes());
    w.u8(index(&CLOUDS, ev.cloud));
    w.str(&ev.account);
    w.opt(&ev.region);
    w.str(&ev.principal);
    w.u8(index(&PRINCIPAL_KINDS, ev.principal_kind));
    w.opt(&ev.principal_account);
    w.opt(&ev.invoked_by);
    w.opt(&ev.source_ip);
    w.opt(&ev.user_agent);
    w.str(&ev.service);
    w.str(&ev.operation);
    w.u8(index(&COMPONENTS, ev.component));
    w.len(ev.resources.len());
    for r in &ev.resources {
        w.u8(index(&RESOURCE_KINDS, r.kind));
        w.str(&r.id);
    }
    w.len(ev.share_targets.len());
    for t in &ev.share_targets {
        w.u8(index(&SHARE_ACTIONS, t.action));
        w.u8(index(&TARGET_KINDS, t.kind));
        w.str(&t.id);
    }
    w.u8(u8::from(ev.outcome.success));
    w.opt(&ev.outcome.error_code);
    w.len(ev.request_tags.len());
    for (k, v) in &ev.request_tags {
        w.str(k);
        w.str(v);
    }
    w.strs(&ev.facts);
    w.str(&ev.event_id);
    w.opt(&ev.op_key);
    w.u8(u8::from(ev.op_final));
    w.strs(&ev.merged_ids);
    w.str(&ev.origin);
    let n = (out.len() - at - 4) as u32;
    out[at..at + 4].copy_from_slice(&n.to_le_bytes());
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn len(&mut self) -> Option<usize> {
        let b = self.take(4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }
    fn str(&mut self) -> Option<String> {
        let n = self.len()?;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
    fn opt(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            _ => self.str().map(Some),
        }
    }
    fn strs(&mut self) -> Option<Vec<String>> {
        let n = self.len()?;
        (0..n).map(|_| self.str()).collect()
    }
    fn pick<T: Copy>(&mut self, table: &[T]) -> Option<T> {
        table.get(self.u8()? as usize).copied()
    }
}

/// Decode one event's bytes (without the length prefix); `None` if they are not an event.
pub fn decode(bytes: &[u8]) -> Option<Event> {
    let mut r = Reader(bytes);
    let nanos = i128::from_le_bytes(r.take(16)?.try_into().ok()?);
    Some(Event {
        time: Timestamp::from_nanosecond(nanos).ok()?,
        cloud: r.pick(&CLOUDS)?,
        account: r.str()?,
        region: r.opt()?,
        principal: r.str()?,
        principal_kind: r.pick(&PRINCIPAL_KINDS)?,
        principal_account: r.opt()?,
        invoked_by: r.opt()?,
        source_ip: r.opt()?,
        user_agent: r.opt()?,
        service: r.str()?,
        operation: r.str()?,
        component: r.pick(&COMPONENTS)?,
        resources: {
            let n = r.len()?;
            (0..n)
                .map(|_| {
                    Some(Resource {
                        kind: r.pick(&RESOURCE_KINDS)?,
                        id: r.str()?,
                    })
                })
                .collect::<Option<_>>()?
        },
        share_targets: {
            let n = r.len()?;
            (0..n)
                .map(|_| {
                    Some(ShareTarget {
                        action: r.pick(&SHARE_ACTIONS)?,
                        kind: r.pick(&TARGET_KINDS)?,
                        id: r.str()?,
                    })
                })
                .collect::<Option<_>>()?
        },
        outcome: Outcome {
            success: r.u8()? != 0,
            error_code: r.opt()?,
        },
        request_tags: {
            let n = r.len()?;
            (0..n)
                .map(|_| Some((r.str()?, r.str()?)))
                .collect::<Option<_>>()?
        },
        facts: r.strs()?,
        event_id: r.str()?,
        op_key: r.opt()?,
        op_final: r.u8()? != 0,
        merged_ids: r.strs()?,
        origin: r.str()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_tables_cover_every_variant_in_order() {
        // A variant missing from its table would be written as index 0: read back wrong.
        for (i, c) in CLOUDS.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
        for (i, c) in COMPONENTS.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
        for (i, c) in PRINCIPAL_KINDS.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
        for (i, c) in RESOURCE_KINDS.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
        for (i, c) in TARGET_KINDS.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
        for (i, c) in SHARE_ACTIONS.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
        assert_eq!(ResourceKind::Other as usize + 1, RESOURCE_KINDS.len());
        assert_eq!(Component::Other as usize + 1, COMPONENTS.len());
        assert_eq!(PrincipalKind::Unknown as usize + 1, PRINCIPAL_KINDS.len());
        assert_eq!(TargetKind::SasUrl as usize + 1, TARGET_KINDS.len());
    }

    #[test]
    fn truncated_bytes_are_refused_not_misread() {
        let ev: Event = serde_json::from_str(
            r#"{"time":"2026-01-05T10:00:00.123456789Z","cloud":"gcp","account":"p","principal":"a@b",
            "principal_kind":"user","service":"compute","operation":"x","component":"share",
            "resources":[{"kind":"snapshot","id":"s"}],
            "share_targets":[{"action":"add","kind":"public","id":"allUsers"}],
            "outcome":{"success":false,"error_code":"E"},"request_tags":[["k","v"]],
            "facts":["f"],"event_id":"i","op_key":"o","op_final":false,"merged_ids":["m"],"origin":"f:1"}"#,
        )
        .unwrap();
        let mut bytes = Vec::new();
        encode(&ev, &mut bytes);
        assert_eq!(decode(&bytes[4..]), Some(ev));
        for cut in 4..bytes.len() - 1 {
            assert_eq!(
                decode(&bytes[4..cut]).map(|e| e.origin),
                None,
                "cut at {cut}"
            );
        }
    }
}
