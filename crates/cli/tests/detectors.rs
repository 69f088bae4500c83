//! Golden tests: each detector on real-format fixtures, and the whole fixture set pinned.

mod common;
use common::*;

#[test]
fn public_share_from_gzipped_cloudtrail_object_is_critical_with_containment() {
    let (code, alerts, _) = hunt(&[data("aws/share-public.json.gz")], &[]);
    assert_eq!(code, 1);
    let a = by_detector(&alerts, "snapshot.share.public")[0];
    assert_eq!(a["severity"], "critical");
    assert_eq!(a["share_targets"], serde_json::json!(["all"]));
    assert!(has_tag(a, "public") && has_tag(a, "off-hours") && has_tag(a, "weekend"));
    let containment: Vec<&str> = a["triage"]["containment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(containment.contains(
        &"aws ec2 modify-snapshot-attribute --region eu-west-1 --snapshot-id snap-0000000000000aaaa --attribute createVolumePermission --operation-type remove --group-names all"
    ), "{containment:?}");
    assert_eq!(a["triage"]["escalate"], true);
    assert_eq!(alerts[0], *a, "critical alerts sort first");
}

#[test]
fn consumed_by_an_external_account_is_critical_and_by_the_trusted_one_low() {
    let (_, alerts, _) = hunt(&[data("aws/consumed-external.json")], &[]);
    let ext = by_detector(&alerts, "snapshot.consumed.external");
    assert_eq!(ext.len(), 1);
    assert_eq!(ext[0]["severity"], "critical");
    assert_eq!(ext[0]["share_targets"], serde_json::json!(["999988887777"]));
    assert!(ext[0]["title"].as_str().unwrap().contains("999988887777"));
    let dr = by_detector(&alerts, "snapshot.consumed");
    assert_eq!(dr.len(), 1);
    assert_eq!(
        dr[0]["severity"], "low",
        "the trusted DR account copying what it was shared is expected"
    );
    assert!(has_tag(dr[0], "trusted"));
}

#[test]
fn exports_group_block_reads_and_report_failures() {
    let (_, alerts, _) = hunt(&[data("aws/exports.json")], &[]);
    let exports = by_detector(&alerts, "snapshot.export");
    assert_eq!(
        exports.len(),
        2,
        "one RDS export, one EBS direct-read group"
    );
    let direct = exports
        .iter()
        .find(|a| a["evidence"]["family"] == "ebs-direct-read")
        .unwrap();
    assert_eq!(
        direct["count"], 4,
        "ListSnapshotBlocks and three GetSnapshotBlock in one alert"
    );
    let failed = by_detector(&alerts, "snapshot.export.failed");
    assert_eq!(failed.len(), 1);
    assert!(has_tag(failed[0], "failed"));
}

#[test]
fn benign_actors_and_change_tickets_lower_severity_but_never_hide() {
    let (_, alerts, _) = hunt(&[data("aws/bulk-and-benign.json")], &[]);
    let summaries = by_detector(&alerts, "snapshot.caller_summary");
    let backup = summaries
        .iter()
        .find(|a| {
            a["principal"]
                .as_str()
                .unwrap()
                .contains("AWSServiceRoleForBackup")
        })
        .unwrap();
    assert!(has_tag(backup, "service-principal"));
    assert_eq!(
        backup["evidence"]["seed_score"], 3,
        "8 off-hours snapshots: the seed's score stands"
    );
    assert_eq!(
        backup["severity"], "low",
        "high lowered two steps for AWS Backup"
    );
    let ticket = summaries
        .iter()
        .find(|a| a["principal"].as_str().unwrap().ends_with("user/alice"))
        .unwrap();
    assert!(has_tag(ticket, "change-ticket"));
    assert_eq!(
        ticket["severity"], "low",
        "medium (6 > 5) lowered one step for ChangeTicket=CHG-4711"
    );
}

#[test]
fn deletion_burst_and_safety_net_removal() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = Vec::new();
    for i in 0..6 {
        records.push(serde_json::json!({"eventTime": format!("2026-02-03T04:0{i}:00Z"), "eventSource": "ec2.amazonaws.com",
            "eventName": "DeleteSnapshot", "eventID": format!("del-{i}"), "recipientAccountId": "310987654321", "awsRegion": "eu-west-1",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::310987654321:user/mallory", "accountId": "310987654321"},
            "requestParameters": {"snapshotId": format!("snap-{i}")}}));
    }
    records.push(serde_json::json!({"eventTime": "2026-02-05T04:00:00Z", "eventSource": "backup.amazonaws.com",
        "eventName": "DeleteBackupVault", "eventID": "vault-1", "recipientAccountId": "310987654321",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::310987654321:user/mallory", "accountId": "310987654321"},
        "requestParameters": {"backupVaultName": "prod-vault"}}));
    let file = dir.path().join("deletes.json");
    std::fs::write(&file, serde_json::json!({"Records": records}).to_string()).unwrap();
    let (_, alerts, _) = hunt(&[file], &[]);
    let bursts = by_detector(&alerts, "snapshot.delete.burst");
    assert_eq!(bursts.len(), 2, "{alerts:#?}");
    assert_eq!(
        bursts[0]["severity"], "critical",
        "deleting the vault removes the safety net"
    );
    assert_eq!(bursts[1]["count"], 6);
    assert_eq!(bursts[1]["severity"], "high");
}

#[test]
fn the_whole_fixture_set_is_pinned() {
    let (code, alerts, stderr) = hunt(&[data("seed"), data("aws"), data("gcp")], &[]);
    assert_eq!(code, 1);
    assert!(stderr.contains("0 bad records"), "{stderr}");
    let text: String = alerts.iter().map(|a| format!("{a}\n")).collect();
    insta::assert_snapshot!("fixtures_alerts", text);
}
