//! The principal cap forgets the least recently active principals, but never one whose alert is
//! still waiting for its look-ahead: its triage answers would otherwise turn into "first seen".

use snaptrail_detect::{Config, Hunter};
use snaptrail_model::Event;
use std::sync::Arc;

fn event(minute: i64, principal: &str, operation: &str, extra: serde_json::Value) -> Event {
    let mut v = serde_json::json!({
        "time": jiff::Timestamp::from_second(1_767_607_200 + minute * 60).unwrap(),
        "cloud": "aws", "account": "310987654321", "principal": principal,
        "principal_kind": "user", "service": "ec2", "operation": operation,
        "component": "create", "resources": [{"kind": "snapshot", "id": format!("snap-{minute}")}],
        "outcome": {"success": true}, "event_id": format!("{principal}-{minute}"),
        "source_ip": "203.0.113.7", "origin": "test"
    });
    if let (Some(v), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
        v.extend(extra.clone());
    }
    serde_json::from_value(v).unwrap()
}

fn answer_for(cfg: &Config) -> (String, u64) {
    let alice = "arn:aws:iam::310987654321:user/alice";
    let mut events = vec![
        event(0, alice, "CreateSnapshot", serde_json::json!({})),
        event(
            60,
            alice,
            "ModifySnapshotAttribute",
            serde_json::json!({"component": "share",
                "share_targets": [{"action": "add", "kind": "public", "id": "all"}]}),
        ),
    ];
    // 300 other principals after her, one a minute: past the cap of 100.
    for i in 0..300 {
        let who = format!("arn:aws:iam::310987654321:user/u{i}");
        events.push(event(
            120 + i,
            &who,
            "CreateSnapshot",
            serde_json::json!({}),
        ));
    }
    let mut hunter = Hunter::new(cfg, None);
    for ev in events {
        hunter.push(Arc::new(ev));
    }
    let (alerts, stats) = hunter.finish();
    let public = alerts
        .iter()
        .find(|a| a.detector == "snapshot.share.public")
        .expect("a public share alert");
    (
        public.triage.questions[0].a.clone(),
        stats.forgotten_principals,
    )
}

#[test]
fn a_principal_with_a_waiting_alert_is_not_forgotten() {
    let cfg = Config::parse("[limits]\nmax_principals = 100\n").unwrap();
    let (answer, forgotten) = answer_for(&cfg);
    assert!(forgotten > 0, "the cap must have forgotten someone");
    assert!(
        answer.starts_with("Yes: 1 earlier in this input"),
        "alice's creation an hour before her public share is still known: {answer}"
    );
    // And without the cap the answer is the same.
    let (uncapped, none) = answer_for(&Config::default());
    assert_eq!(none, 0);
    assert_eq!(uncapped, answer);
}
