//! The seed's four adversary tests (spec section 6) and its five defects (section 2), each
//! fixed and pinned.

mod common;
use common::*;

#[test]
fn adversary_test_1_ebs_snapshot_via_cli_is_covered() {
    let file = data("seed/1-ebs-snapshot-cli.json");
    let (code, alerts, _) = hunt(std::slice::from_ref(&file), &[]);
    assert_eq!(code, 1);
    let summary = by_detector(&alerts, "snapshot.caller_summary");
    assert_eq!(summary.len(), 1);
    let want = fixture_ids(&file);
    assert_eq!(
        ids(summary[0]),
        want,
        "the alert covers both CreateSnapshot events"
    );
    assert_eq!(summary[0]["evidence"]["snapshot_count"], 2);
    assert_eq!(
        summary[0]["resources"].as_array().unwrap().len(),
        4,
        "volumes and snapshots"
    );
}

#[test]
fn adversary_test_2_cross_account_share_alerts_even_when_it_errors() {
    let file = data("seed/2-cross-account-share.json");
    let (_, alerts, _) = hunt(std::slice::from_ref(&file), &[]);
    let want = fixture_ids(&file);
    let failed = by_detector(&alerts, "snapshot.share.failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(ids(failed[0]), vec![want[0].clone()]);
    assert!(has_tag(failed[0], "failed") && has_tag(failed[0], "external"));
    let shared = by_detector(&alerts, "snapshot.share.external");
    assert_eq!(shared.len(), 1);
    assert_eq!(ids(shared[0]), vec![want[1].clone()]);
    assert_eq!(shared[0]["severity"], "high");
    assert_eq!(
        shared[0]["share_targets"],
        serde_json::json!(["999988887777"])
    );
}

#[test]
fn adversary_test_3_azure_snapshot_via_cli_counts_operations_not_rows() {
    let file = data("seed/3-azure-snapshot-cli.json");
    let (_, alerts, _) = hunt(std::slice::from_ref(&file), &[]);
    let summary = by_detector(&alerts, "snapshot.caller_summary");
    assert_eq!(summary.len(), 1);
    let a = summary[0];
    assert_eq!(a["cloud"], "azure");
    assert_eq!(a["principal"], "mallory@contoso.example");
    assert_eq!(a["count"], 2, "two operations, four rows");
    assert_eq!(a["evidence"]["snapshot_count"], 2);
    let mut all = ids(a);
    all.sort();
    let mut want = fixture_ids(&file);
    want.sort();
    assert_eq!(all, want, "Start and Success rows are all referenced");
    // 22:40 UTC is 23:40 in Berlin: off-hours in the configured zone.
    assert_eq!(a["evidence"]["off_hours_count"], 2);
}

#[test]
fn adversary_test_4_pacu_enumeration_then_creation_is_one_alert() {
    let file = data("seed/4-pacu-enumerate-then-create.json");
    let (_, alerts, _) = hunt(std::slice::from_ref(&file), &[]);
    let enumeration = by_detector(&alerts, "snapshot.enumerate.burst");
    assert_eq!(enumeration.len(), 1);
    let a = enumeration[0];
    assert_eq!(
        ids(a),
        fixture_ids(&file),
        "every DescribeSnapshots and the CreateSnapshot"
    );
    assert_eq!(a["severity"], "high");
    assert!(has_tag(a, "chain") && has_tag(a, "burst"));
    assert_eq!(a["techniques"], serde_json::json!(["T1580", "T1578.001"]));
}

#[test]
fn defect_1_caller_is_the_arn_not_a_null_concatenation() {
    let (_, alerts, _) = hunt(&[data("seed/1-ebs-snapshot-cli.json")], &[]);
    assert_eq!(
        alerts[0]["principal"],
        "arn:aws:iam::310987654321:user/alice"
    );
}

#[test]
fn defect_2_a_real_create_volume_permission_share_scores_3() {
    let (_, alerts, _) = hunt(&[data("seed/2-cross-account-share.json")], &[]);
    let summary = by_detector(&alerts, "snapshot.caller_summary");
    assert_eq!(summary[0]["evidence"]["seed_score"], 3);
    assert_eq!(
        summary[0]["evidence"]["external_share_count"], 1,
        "the failed share is not counted as a share"
    );
    assert_eq!(summary[0]["evidence"]["failed_count"], 1);
}

#[test]
fn defect_3_removes_own_accounts_public_and_rds_shares_are_told_apart() {
    let (_, alerts, _) = hunt(&[data("aws/share-trusted-and-revert.json")], &[]);
    let summary = by_detector(&alerts, "snapshot.caller_summary");
    assert_eq!(
        summary[0]["evidence"]["external_share_count"], 0,
        "a remove and shares to own/trusted accounts are not external"
    );
    assert_eq!(summary[0]["evidence"]["seed_score"], 1);
    let revert = by_detector(&alerts, "snapshot.unshare");
    assert_eq!(revert.len(), 1);
    assert_eq!(revert[0]["severity"], "info");
    assert!(has_tag(revert[0], "revert"));
    let internal = by_detector(&alerts, "snapshot.share.internal");
    assert_eq!(internal.len(), 2);
    assert!(internal.iter().all(|a| a["severity"] == "info"));
    assert!(
        internal.iter().any(|a| has_tag(a, "trusted"))
            && internal.iter().any(|a| has_tag(a, "own-account"))
    );

    let (_, alerts, _) = hunt(&[data("aws/rds-and-ami-shares.json")], &[]);
    let public = by_detector(&alerts, "snapshot.share.public");
    assert_eq!(public.len(), 1, "RDS cluster snapshot shared with `all`");
    assert_eq!(public[0]["severity"], "critical");
    let external = by_detector(&alerts, "snapshot.share.external");
    assert_eq!(external.len(), 2, "RDS snapshot and AMI shared out");
    let summary = by_detector(&alerts, "snapshot.caller_summary");
    assert_eq!(summary[0]["evidence"]["public_share_count"], 1);
    assert_eq!(summary[0]["evidence"]["external_share_count"], 2);
}

#[test]
fn defect_4_off_hours_uses_the_configured_zone_weekends_count_and_failures_are_apart() {
    // The ops role's seven snapshots at 23:10-23:16 UTC Friday are 00:10-00:16 Saturday in Berlin.
    let (_, alerts, _) = hunt(&[data("aws/bulk-and-benign.json")], &[]);
    let ops = alerts
        .iter()
        .find(|a| {
            a["detector"] == "snapshot.caller_summary"
                && a["principal"].as_str().unwrap().contains("ops-admin")
        })
        .unwrap();
    assert_eq!(ops["evidence"]["snapshot_count"], 7);
    assert_eq!(ops["evidence"]["failed_count"], 1);
    assert_eq!(ops["evidence"]["weekend_count"], 7);
    assert_eq!(ops["evidence"]["off_hours_count"], 7);
    assert_eq!(ops["evidence"]["seed_score"], 3);
    assert_eq!(ops["severity"], "high");
    // The same hunt in UTC: Friday 23:10 is off-hours but not weekend.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("utc.toml");
    std::fs::write(&cfg, "[business_hours]\ntimezone = \"UTC\"\n").unwrap();
    let out = snaptrail()
        .args(["hunt", "--no-state", "--format", "jsonl", "--config"])
        .arg(&cfg)
        .arg(data("aws/bulk-and-benign.json"))
        .output()
        .unwrap();
    let utc: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ops = utc
        .iter()
        .find(|a| {
            a["detector"] == "snapshot.caller_summary"
                && a["principal"].as_str().unwrap().contains("ops-admin")
        })
        .unwrap();
    assert_eq!(ops["evidence"]["weekend_count"], 0);
    assert_eq!(ops["evidence"]["off_hours_count"], 7);
}

#[test]
fn defect_5_azure_rows_count_once_and_gcp_is_covered() {
    let (_, alerts, _) = hunt(&[data("gcp/public-and-foreign.jsonl")], &[]);
    let public = by_detector(&alerts, "snapshot.share.public");
    assert_eq!(public.len(), 1);
    assert_eq!(public[0]["cloud"], "gcp");
    assert_eq!(public[0]["share_targets"], serde_json::json!(["allUsers"]));
    let summary = alerts
        .iter()
        .find(|a| {
            a["detector"] == "snapshot.caller_summary" && a["principal"] == "eve@attacker.example"
        })
        .unwrap();
    assert_eq!(
        summary["evidence"]["snapshot_count"], 2,
        "insert (first+last entries = one) and setIamPolicy"
    );
    assert_eq!(summary["evidence"]["seed_score"], 3);
    let outside = by_detector(&alerts, "snapshot.create.outside_principal");
    assert_eq!(
        outside.len(),
        1,
        "eve@attacker.example is not in organization.domains"
    );
}
