//! The spool's run-file format for [`Event`]: fields in declaration order, strings as a length
//! and bytes, enums as their index, each event prefixed by its length. Private to one run
//! (written and read back by the same binary), so there is no version: only speed matters, and
//! JSON spent a fifth of a hunt on escaping and parsing its own output.
//!
//! The fields that repeat from event to event (account, principal, user agent, the file an
//! event came from...) are written once per run file and referred back to after that: a run
//! shrinks to about a third, and writing run files had become a tenth of a hunt (the kernel
//! copying into fresh page-cache pages). So events of one file decode in order, with the same
//! [`Decoder`] that saw the earlier ones.

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
        self.word(n as u32);
    }
    fn word(&mut self, w: u32) {
        self.0.extend_from_slice(&w.to_le_bytes());
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

/// A word with this bit set refers to a string written earlier in the run; without it, it is
/// the length of a string written out.
const SHARED: u32 = 1 << 31;
/// Strings longer than this are never shared (an attacker-chosen 100 KB user agent should not
/// sit in the table).
const MAX_SHARED_LEN: usize = 1024;
/// Bytes of shared strings per run file, at most.
const MAX_SHARED_BYTES: usize = 8 << 20;

/// Which strings are shared. Writer and reader apply the same rule to the same strings in the
/// same order, so both sides number them alike without writing the numbers.
#[derive(Default)]
struct Table {
    count: usize,
    bytes: usize,
}

impl Table {
    fn admits(&mut self, len: usize) -> bool {
        let admitted = len <= MAX_SHARED_LEN
            && self.bytes + len <= MAX_SHARED_BYTES
            && self.count < SHARED as usize;
        if admitted {
            self.count += 1;
            self.bytes += len;
        }
        admitted
    }
}

/// Writes one run file's events.
#[derive(Default)]
pub struct Encoder {
    table: Table,
    numbers: std::collections::HashMap<Box<str>, u32, foldhash::fast::RandomState>,
}

impl Encoder {
    fn shared(&mut self, w: &mut Writer, s: &str) {
        if let Some(&n) = self.numbers.get(s) {
            w.word(SHARED | n);
            return;
        }
        w.str(s);
        let n = self.table.count as u32;
        if self.table.admits(s.len()) {
            self.numbers.insert(s.into(), n);
        }
    }

    fn shared_opt(&mut self, w: &mut Writer, s: Option<&str>) {
        match s {
            Some(s) => {
                w.u8(1);
                self.shared(w, s);
            }
            None => w.u8(0),
        }
    }

    /// Append `ev` to `out`, length first.
    pub fn encode(&mut self, ev: &Event, out: &mut Vec<u8>) {
        let at = out.len();
        out.extend_from_slice(&[0; 4]);
        let mut w = Writer(out);
        // Seconds and nanoseconds apart: one count of nanoseconds is a 128-bit division to
        // read back, for every event merged.
        w.0.extend_from_slice(&ev.time.as_second().to_le_bytes());
        w.0.extend_from_slice(&ev.time.subsec_nanosecond().to_le_bytes());
        w.u8(index(&CLOUDS, ev.cloud));
        self.shared(&mut w, &ev.account);
        self.shared_opt(&mut w, ev.region.as_deref());
        self.shared(&mut w, &ev.principal);
        w.u8(index(&PRINCIPAL_KINDS, ev.principal_kind));
        self.shared_opt(&mut w, ev.principal_account.as_deref());
        self.shared_opt(&mut w, ev.invoked_by.as_deref());
        self.shared_opt(&mut w, ev.source_ip.as_deref());
        self.shared_opt(&mut w, ev.user_agent.as_deref());
        self.shared(&mut w, &ev.service);
        self.shared(&mut w, &ev.operation);
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
        self.shared_opt(&mut w, ev.outcome.error_code.as_deref());
        w.len(ev.request_tags.len());
        for (k, v) in &ev.request_tags {
            w.str(k);
            w.str(v);
        }
        w.len(ev.facts.len());
        for f in &ev.facts {
            self.shared(&mut w, f);
        }
        w.str(&ev.event_id);
        w.opt(&ev.op_key);
        w.u8(u8::from(ev.op_final));
        w.strs(&ev.merged_ids);
        // `file:line N`: the file is shared, the rest is not (split anywhere, rejoined as is).
        let (file, rest) = ev
            .origin
            .split_at(ev.origin.rfind(':').map_or(0, |i| i + 1));
        self.shared(&mut w, file);
        w.str(rest);
        let n = (out.len() - at - 4) as u32;
        out[at..at + 4].copy_from_slice(&n.to_le_bytes());
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
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
    /// A string, owned as `String` or as an inline `Text`.
    fn str<T: for<'s> From<&'s str>>(&mut self) -> Option<T> {
        self.text().map(T::from)
    }
    /// A string, borrowed from the bytes.
    fn text(&mut self) -> Option<&'a str> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).ok()
    }
    fn opt(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            _ => self.str().map(Some),
        }
    }
    /// A count, then that many items read by `item`.
    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let n = self.len()?;
        (0..n).map(|_| item(self)).collect()
    }
    fn pick<T: Copy>(&mut self, table: &[T]) -> Option<T> {
        table.get(self.u8()? as usize).copied()
    }
}

/// Reads one run file's events, in the order they were written.
#[derive(Default)]
pub struct Decoder {
    table: Table,
    strings: Vec<String>,
}

impl Decoder {
    fn shared<T: for<'s> From<&'s str>>(&mut self, r: &mut Reader) -> Option<T> {
        self.shared_text(r).map(T::from)
    }

    /// A shared string, borrowed from the table or from the bytes.
    fn shared_text<'s, 'a: 's>(&'s mut self, r: &mut Reader<'a>) -> Option<&'s str> {
        let word = r.len()? as u32;
        if word & SHARED != 0 {
            return self
                .strings
                .get((word & !SHARED) as usize)
                .map(String::as_str);
        }
        let s = std::str::from_utf8(r.take(word as usize)?).ok()?;
        if self.table.admits(s.len()) {
            self.strings.push(s.to_string());
        }
        Some(s)
    }

    fn shared_opt<T: for<'s> From<&'s str>>(&mut self, r: &mut Reader) -> Option<Option<T>> {
        match r.u8()? {
            0 => Some(None),
            _ => self.shared(r).map(Some),
        }
    }

    /// Decode one event's bytes (without the length prefix); `None` if they are not an event.
    pub fn decode(&mut self, bytes: &[u8]) -> Option<Event> {
        let mut r = Reader(bytes);
        let r = &mut r;
        let second = i64::from_le_bytes(r.take(8)?.try_into().ok()?);
        let nanosecond = i32::from_le_bytes(r.take(4)?.try_into().ok()?);
        Some(Event {
            time: Timestamp::new(second, nanosecond).ok()?,
            cloud: r.pick(&CLOUDS)?,
            account: self.shared(r)?,
            region: self.shared_opt(r)?,
            principal: self.shared(r)?,
            principal_kind: r.pick(&PRINCIPAL_KINDS)?,
            principal_account: self.shared_opt(r)?,
            invoked_by: self.shared_opt(r)?,
            source_ip: self.shared_opt(r)?,
            user_agent: self.shared_opt(r)?,
            service: self.shared(r)?,
            operation: self.shared(r)?,
            component: r.pick(&COMPONENTS)?,
            resources: r.list(|r| {
                Some(Resource {
                    kind: r.pick(&RESOURCE_KINDS)?,
                    id: r.str()?,
                })
            })?,
            share_targets: r.list(|r| {
                Some(ShareTarget {
                    action: r.pick(&SHARE_ACTIONS)?,
                    kind: r.pick(&TARGET_KINDS)?,
                    id: r.str()?,
                })
            })?,
            outcome: Outcome {
                success: r.u8()? != 0,
                error_code: self.shared_opt(r)?,
            },
            request_tags: r.list(|r| Some((r.str()?, r.str()?)))?,
            facts: r.list(|r| self.shared(r))?,
            event_id: r.str()?,
            op_key: r.opt()?,
            op_final: r.u8()? != 0,
            merged_ids: r.list(Reader::str)?,
            // One allocation: copying the file's name and then growing it by the place in the
            // file took three, for every event merged.
            origin: {
                let file = self.shared_text(r)?;
                let place = r.text()?;
                let mut origin = String::with_capacity(file.len() + place.len());
                origin.push_str(file);
                origin.push_str(place);
                origin
            },
        })
    }
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
        Encoder::default().encode(&ev, &mut bytes);
        assert_eq!(Decoder::default().decode(&bytes[4..]), Some(ev));
        for cut in 4..bytes.len() - 1 {
            assert_eq!(
                Decoder::default().decode(&bytes[4..cut]).map(|e| e.origin),
                None,
                "cut at {cut}"
            );
        }
    }

    fn sample(agent: &str, origin: &str) -> Event {
        serde_json::from_value(serde_json::json!({
            "time": "2026-01-05T10:00:00Z", "cloud": "aws", "account": "310987654321",
            "region": "eu-west-1", "principal": "arn:aws:iam::310987654321:user/alice",
            "principal_kind": "user", "source_ip": "198.51.100.7", "user_agent": agent,
            "service": "ec2", "operation": "CreateSnapshot", "component": "create",
            "outcome": {"success": true}, "facts": ["include-public"], "event_id": origin,
            "origin": origin
        }))
        .unwrap()
    }

    /// Encode `events` into one run, then read it back in order.
    fn round_trip(events: &[Event]) -> (Vec<Event>, Vec<usize>) {
        let mut encoder = Encoder::default();
        let mut run = Vec::new();
        let mut sizes = Vec::new();
        for ev in events {
            let before = run.len();
            encoder.encode(ev, &mut run);
            sizes.push(run.len() - before);
        }
        let mut decoder = Decoder::default();
        let mut rest = &run[..];
        let mut back = Vec::new();
        while let Some((len, tail)) = rest.split_first_chunk::<4>() {
            let n = u32::from_le_bytes(*len) as usize;
            back.push(decoder.decode(&tail[..n]).expect("decodes"));
            rest = &tail[n..];
        }
        (back, sizes)
    }

    #[test]
    fn repeated_strings_are_written_once_per_run_and_read_back_whole() {
        let events: Vec<Event> = (0..50)
            .map(|i| {
                sample(
                    "aws-cli/2.15.0 Python/3.11.6",
                    &format!("logs/a:b.jsonl:line {i}"),
                )
            })
            .collect();
        let (back, sizes) = round_trip(&events);
        assert_eq!(back, events);
        assert!(
            sizes[1] * 2 < sizes[0],
            "later events refer back to the first one's strings: {sizes:?}"
        );
        // The origin's file (with its own colon) is shared; each line number is not.
        assert_eq!(back[7].origin, "logs/a:b.jsonl:line 7");
    }

    #[test]
    fn times_read_back_to_the_nanosecond_on_both_sides_of_the_epoch() {
        let times = [
            Timestamp::MIN,
            Timestamp::new(-1, -1).unwrap(),
            Timestamp::new(-1_700_000_000, -999_999_999).unwrap(),
            Timestamp::UNIX_EPOCH,
            Timestamp::new(0, 1).unwrap(),
            Timestamp::new(1_767_607_200, 123_456_789).unwrap(),
            Timestamp::MAX,
        ];
        let events: Vec<Event> = times
            .iter()
            .map(|&t| Event {
                time: t,
                ..sample("a", "f:1")
            })
            .collect();
        let (back, _) = round_trip(&events);
        assert_eq!(
            back.iter().map(|e| e.time).collect::<Vec<_>>(),
            times.to_vec()
        );
    }

    #[test]
    fn long_and_too_many_strings_are_written_out_and_still_read_back() {
        // Agents over the length cap, then more distinct bytes than the table holds: both sides
        // must stop sharing at the same string.
        let long = "x".repeat(MAX_SHARED_LEN + 1);
        let mut events = vec![sample(&long, "f:1"), sample(&long, "f:2")];
        let distinct = MAX_SHARED_BYTES / 1000 + 50;
        events.extend((0..distinct).map(|i| sample(&format!("{i:01000}"), "f:3")));
        events.push(sample(&format!("{:01000}", 3), "f:4"));
        events.push(sample(&format!("{:01000}", distinct - 1), "f:5"));
        let (back, sizes) = round_trip(&events);
        assert_eq!(back.len(), events.len());
        assert!(back == events, "every event reads back as written");
        assert!(
            sizes[1] > MAX_SHARED_LEN,
            "an over-long agent is written out again"
        );
        let (early, late) = (sizes[sizes.len() - 2], sizes[sizes.len() - 1]);
        assert!(
            early + 900 < late,
            "an early agent is shared, one past the cap is not: {early} {late}"
        );
    }
}
