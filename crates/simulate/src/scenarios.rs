//! Attack scenarios with their ground truth: which detector must fire on which events, and which
//! events must not raise anything of medium severity or above.

use crate::background::Day;
use crate::estate::{ATTACKER_ACCOUNT, DOMAIN, Estate, Principal};
use crate::records::{Call, Record, azure_row, cloudtrail, cloudtrail_service_event, gcp_entry};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Expect {
    pub detector: String,
    /// The alert must have at least this severity.
    pub min_severity: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Truth {
    pub scenario: String,
    pub description: String,
    /// Alerts that must exist, each covering at least one of `attack_ids`.
    pub expect: Vec<Expect>,
    /// The scenario's malicious events: alerts covering them are true positives.
    pub attack_ids: Vec<String>,
    /// Look-alike events that must not appear in any alert of medium severity or above.
    pub benign_ids: Vec<String>,
}

pub const NAMES: &[&str] = &[
    "seed-ebs-snapshot-cli",
    "seed-cross-account-share",
    "seed-azure-snapshot-cli",
    "seed-pacu-enumerate-create",
    "bulk-offhours-creation",
    "public-share",
    "external-share",
    "trusted-share",
    "unshare",
    "consumed-elsewhere",
    "rds-external-share",
    "rds-public-restore",
    "sas-export",
    "gcp-public-iam",
    "gcp-outside-principal",
    "deletion-burst",
    "enumeration-burst-pacu",
    "failed-share",
    "restore-chain",
];

const PACU: &str = "Boto3/1.26.47 Python/3.10.12 Linux/5.15.0 Botocore/1.29.47 Pacu-Session-2b3c1f6e-9c1e-4c52-9f1e-2f0d7a1c9e11";
const CLI: &str = "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off";

struct Ctx {
    rng: Rng,
    records: Vec<Record>,
    attack: Vec<String>,
    benign: Vec<String>,
}

impl Ctx {
    fn aws(&mut self, c: Call, benign: bool) -> String {
        let r = cloudtrail(&c);
        let id = r.id.clone();
        (if benign {
            &mut self.benign
        } else {
            &mut self.attack
        })
        .push(id.clone());
        self.records.push(r);
        id
    }

    fn call<'b>(
        &mut self,
        who: &'b Principal,
        t: jiff::Timestamp,
        name: &'b str,
        request: &'b str,
        response: &'b str,
    ) -> Call<'b> {
        let source = if name.contains("DB") {
            "rds.amazonaws.com"
        } else {
            "ec2.amazonaws.com"
        };
        Call {
            time: t,
            who,
            source,
            name,
            region: "eu-west-1",
            request,
            response,
            error: None,
            id: self.rng.uuid(),
            request_id: self.rng.uuid(),
            data_event: false,
        }
    }

    fn snapshot(&mut self, who: &Principal, t: jiff::Timestamp) -> String {
        let vol = format!("vol-0{}", self.rng.hex(16));
        let snap = format!("snap-0{}", self.rng.hex(16));
        let req = format!("{{\"volumeId\":\"{vol}\",\"description\":\"\"}}");
        let resp =
            format!("{{\"snapshotId\":\"{snap}\",\"volumeId\":\"{vol}\",\"status\":\"pending\"}}");
        let c = self.call(who, t, "CreateSnapshot", &req, &resp);
        self.aws(c, false);
        snap
    }

    fn share(
        &mut self,
        who: &Principal,
        t: jiff::Timestamp,
        snap: &str,
        items: &str,
        error: Option<(&str, &str)>,
        benign: bool,
    ) -> String {
        let req = format!(
            "{{\"snapshotId\":\"{snap}\",\"attributeType\":\"CREATE_VOLUME_PERMISSION\",\"createVolumePermission\":{items}}}"
        );
        let mut c = self.call(
            who,
            t,
            "ModifySnapshotAttribute",
            &req,
            "{\"_return\":true}",
        );
        c.error = error;
        self.aws(c, benign)
    }
}

fn actor(estate: &Estate, name: &str, agent: &'static str) -> Principal {
    let acct = &estate.accounts[0];
    Principal {
        kind: "IAMUser",
        arn: format!("arn:aws:iam::{acct}:user/{name}"),
        account: acct.clone(),
        name: name.into(),
        ip: "203.0.113.66".into(),
        agent,
        invoked_by: None,
    }
}

/// Generate one scenario on `day`. Off-hours steps happen at 02:xx local time, business-hours
/// steps at 11:xx.
pub fn generate(
    name: &str,
    estate: &Estate,
    day: &Day,
    seed: u64,
    index: u64,
) -> Option<(Vec<Record>, Truth)> {
    let mut x = Ctx {
        rng: Rng::derive(seed, &[0x5CE7A, index]),
        records: Vec::new(),
        attack: Vec::new(),
        benign: Vec::new(),
    };
    let night = |m: i64| day.at(2 * 3600 + m * 60);
    let noon = |m: i64| day.at(11 * 3600 + m * 60);
    let acct = estate.accounts[0].clone();
    let (description, expect): (&str, Vec<(&str, &str)>) = match name {
        "seed-ebs-snapshot-cli" => {
            let who = actor(estate, "s1-analyst", CLI);
            x.snapshot(&who, noon(0));
            x.snapshot(&who, noon(2));
            (
                "Seed test 1: EBS snapshots created with the CLI",
                vec![("snapshot.caller_summary", "low")],
            )
        }
        "seed-cross-account-share" => {
            let who = actor(estate, "s2-contractor", CLI);
            let snap = x.snapshot(&who, night(0));
            let items =
                format!("{{\"add\":{{\"items\":[{{\"userId\":\"{ATTACKER_ACCOUNT}\"}}]}}}}");
            x.share(
                &who,
                night(2),
                &snap,
                &items,
                Some((
                    "Client.OperationNotPermitted",
                    "Encrypted snapshots with EBS default key cannot be shared",
                )),
                false,
            );
            let snap2 = x.snapshot(&who, night(3));
            x.share(&who, night(4), &snap2, &items, None, false);
            (
                "Seed test 2: cross-account share, the first attempt failing",
                vec![
                    ("snapshot.share.failed", "medium"),
                    ("snapshot.share.external", "high"),
                ],
            )
        }
        "seed-azure-snapshot-cli" => {
            let sub = &estate.azure_subscription;
            for k in 0..2 {
                let rid = format!(
                    "/subscriptions/{sub}/resourceGroups/prod-rg/providers/Microsoft.Compute/snapshots/s3-{k}-{}",
                    x.rng.hex(6)
                );
                let corr = x.rng.uuid();
                for (m, status) in [(0, "Start"), (1, "Success")] {
                    let id = x.rng.uuid();
                    let r = azure_row(
                        night(k * 3 + m),
                        sub,
                        &format!("s3-operator@{DOMAIN}"),
                        "203.0.113.67",
                        "MICROSOFT.COMPUTE/SNAPSHOTS/WRITE",
                        &rid,
                        status,
                        &corr,
                        id,
                        None,
                    );
                    x.attack.push(r.id.clone());
                    x.records.push(r);
                }
            }
            (
                "Seed test 3: Azure disk snapshots with the CLI (Start and Success rows)",
                vec![("snapshot.caller_summary", "low")],
            )
        }
        "seed-pacu-enumerate-create" | "enumeration-burst-pacu" => {
            let pacu = name == "seed-pacu-enumerate-create";
            let who = actor(
                estate,
                if pacu { "s4-ci-key" } else { "e1-leaked-key" },
                PACU,
            );
            let regions = [
                "eu-west-1",
                "us-east-1",
                "us-west-2",
                "ap-southeast-2",
                "eu-central-1",
                "ca-central-1",
                "sa-east-1",
                "ap-northeast-1",
                "eu-north-1",
                "ap-south-1",
                "us-east-2",
                "eu-west-2",
            ];
            for (k, region) in regions.iter().enumerate() {
                let (op, req) = if pacu {
                    (
                        "DescribeSnapshots",
                        "{\"ownerIds\":{\"items\":[{\"owner\":\"self\"}]}}",
                    )
                } else {
                    (
                        "DescribeDBSnapshots",
                        "{\"includePublic\":true,\"includeShared\":true,\"maxRecords\":100}",
                    )
                };
                let mut c = x.call(&who, night(k as i64 / 4), op, req, "null");
                c.region = region;
                if !pacu {
                    c.source = "rds.amazonaws.com";
                }
                x.aws(c, false);
            }
            if pacu {
                x.snapshot(&who, night(5));
                (
                    "Seed test 4: Pacu enumerates snapshots across regions, then creates one",
                    vec![("snapshot.enumerate.burst", "high")],
                )
            } else {
                (
                    "RDS snapshot enumeration for public and shared snapshots with a Pacu user agent",
                    vec![("snapshot.enumerate.burst", "high")],
                )
            }
        }
        "bulk-offhours-creation" => {
            let who = actor(estate, "b1-stolen-session", CLI);
            for k in 0..8 {
                x.snapshot(&who, night(k));
            }
            (
                "Eight snapshots at 02:00 local by one user",
                vec![("snapshot.caller_summary", "high")],
            )
        }
        "public-share" => {
            let who = actor(estate, "p1-insider", CLI);
            let snap = x.snapshot(&who, night(0));
            x.share(
                &who,
                night(1),
                &snap,
                "{\"add\":{\"items\":[{\"group\":\"all\"}]}}",
                None,
                false,
            );
            (
                "EBS snapshot made public",
                vec![("snapshot.share.public", "critical")],
            )
        }
        "external-share" | "consumed-elsewhere" => {
            let consumed = name == "consumed-elsewhere";
            let who = actor(estate, if consumed { "c1-exfil" } else { "x1-exfil" }, CLI);
            let snap = x.snapshot(&who, night(0));
            let items =
                format!("{{\"add\":{{\"items\":[{{\"userId\":\"{ATTACKER_ACCOUNT}\"}}]}}}}");
            x.share(&who, night(1), &snap, &items, None, false);
            if consumed {
                let id = x.rng.uuid();
                let r = cloudtrail_service_event(
                    night(20),
                    &acct,
                    ATTACKER_ACCOUNT,
                    "SharedSnapshotVolumeCreated",
                    "eu-west-1",
                    &snap,
                    id,
                );
                x.attack.push(r.id.clone());
                x.records.push(r);
                (
                    "A shared snapshot turned into a volume by the attacker's account",
                    vec![
                        ("snapshot.consumed.external", "critical"),
                        ("snapshot.share.external", "high"),
                        ("snapshot.chain.exfiltration", "critical"),
                    ],
                )
            } else {
                (
                    "EBS snapshot shared with an account outside the organization",
                    vec![("snapshot.share.external", "high")],
                )
            }
        }
        "trusted-share" => {
            let who = estate.ops[0].clone();
            let snap = format!("snap-0{}", x.rng.hex(16));
            let items = format!(
                "{{\"add\":{{\"items\":[{{\"userId\":\"{}\"}}]}}}}",
                estate.dr_account
            );
            x.share(&who, noon(0), &snap, &items, None, true);
            (
                "Share to the trusted DR account in business hours: must not alert",
                vec![],
            )
        }
        "unshare" => {
            let who = estate.ops[0].clone();
            let snap = format!("snap-0{}", x.rng.hex(16));
            let items =
                format!("{{\"remove\":{{\"items\":[{{\"userId\":\"{ATTACKER_ACCOUNT}\"}}]}}}}");
            x.share(&who, noon(5), &snap, &items, None, true);
            ("A share revoked: info only, must not alert", vec![])
        }
        "rds-external-share" => {
            let who = actor(estate, "r1-dba", CLI);
            let req = format!(
                "{{\"dBSnapshotIdentifier\":\"billing-manual-{}\",\"attributeName\":\"restore\",\"valuesToAdd\":[\"{ATTACKER_ACCOUNT}\"]}}",
                x.rng.hex(4)
            );
            let c = x.call(&who, night(0), "ModifyDBSnapshotAttribute", &req, "{}");
            x.aws(c, false);
            (
                "RDS snapshot shared with an outside account",
                vec![("snapshot.share.external", "high")],
            )
        }
        "rds-public-restore" => {
            let who = actor(estate, "r2-dba", CLI);
            let db = format!("restored-{}", x.rng.hex(6));
            let req = format!(
                "{{\"dBInstanceIdentifier\":\"{db}\",\"dBSnapshotIdentifier\":\"billing-prod-snap\",\"publiclyAccessible\":true}}"
            );
            let resp = format!(
                "{{\"dBInstanceIdentifier\":\"{db}\",\"publiclyAccessible\":true,\"dBInstanceStatus\":\"creating\"}}"
            );
            let c = x.call(
                &who,
                night(0),
                "RestoreDBInstanceFromDBSnapshot",
                &req,
                &resp,
            );
            x.aws(c, false);
            let req = format!(
                "{{\"dBInstanceIdentifier\":\"{db}\",\"masterUserPassword\":\"****\",\"applyImmediately\":true}}"
            );
            let c = x.call(&who, night(15), "ModifyDBInstance", &req, "{}");
            x.aws(c, false);
            (
                "RDS snapshot restored publicly, then the master password reset",
                vec![
                    ("snapshot.restore.public", "high"),
                    ("snapshot.chain.restore", "high"),
                ],
            )
        }
        "sas-export" => {
            let sub = &estate.azure_subscription;
            let rid = format!(
                "/subscriptions/{sub}/resourceGroups/prod-rg/providers/Microsoft.Compute/disks/sql-data-{}",
                x.rng.hex(4)
            );
            let corr = x.rng.uuid();
            for (m, status) in [(0, "Start"), (0, "Accepted"), (1, "Success")] {
                let id = x.rng.uuid();
                let r = azure_row(
                    night(m),
                    sub,
                    &format!("sas-user@{DOMAIN}"),
                    "203.0.113.68",
                    "Microsoft.Compute/disks/beginGetAccess/action",
                    &rid,
                    status,
                    &corr,
                    id,
                    None,
                );
                x.attack.push(r.id.clone());
                x.records.push(r);
            }
            (
                "A SAS download URL issued for a managed disk",
                vec![("snapshot.export", "high")],
            )
        }
        "gcp-public-iam" | "gcp-outside-principal" => {
            let project = &estate.gcp_project;
            let outside = name == "gcp-outside-principal";
            let email = if outside {
                "eve@attacker.example".to_string()
            } else {
                format!("g1-eng@{DOMAIN}")
            };
            let snap = format!("projects/{project}/global/snapshots/db-{}", x.rng.hex(6));
            let op = format!("operation-{}", x.rng.hex(12));
            for (m, first) in [(0, true), (1, false)] {
                let req = if first {
                    "{\"sourceDisk\":\"projects/acme-prod/zones/europe-west1-b/disks/db-0\",\"@type\":\"type.googleapis.com/compute.snapshots.insert\"}"
                } else {
                    "{}"
                };
                let id = x.rng.hex(12);
                let r = gcp_entry(
                    night(m),
                    project,
                    &email,
                    "v1.compute.snapshots.insert",
                    &snap,
                    req,
                    Some((&op, first, !first)),
                    id,
                    None,
                );
                x.attack.push(r.id.clone());
                x.records.push(r);
            }
            if outside {
                (
                    "A snapshot of our disk created by an identity from another domain",
                    vec![("snapshot.create.outside_principal", "high")],
                )
            } else {
                let req = "{\"policy\":{\"bindings\":[{\"role\":\"roles/compute.storageAdmin\",\"members\":[\"allUsers\"]}]},\"@type\":\"type.googleapis.com/compute.snapshots.setIamPolicy\"}";
                let sd = "{\"@type\":\"type.googleapis.com/google.iam.v1.logging.AuditData\",\"policyDelta\":{\"bindingDeltas\":[{\"action\":\"ADD\",\"role\":\"roles/compute.storageAdmin\",\"member\":\"allUsers\"}]}}";
                let id = x.rng.hex(12);
                let r = gcp_entry(
                    night(3),
                    project,
                    &email,
                    "v1.compute.snapshots.setIamPolicy",
                    &snap,
                    req,
                    None,
                    id,
                    Some(sd),
                );
                x.attack.push(r.id.clone());
                x.records.push(r);
                (
                    "GCP snapshot IAM policy granting allUsers",
                    vec![("snapshot.share.public", "critical")],
                )
            }
        }
        "deletion-burst" => {
            let who = actor(estate, "d1-ransom", CLI);
            for k in 0..8 {
                let req = format!("{{\"snapshotId\":\"snap-0{}\"}}", x.rng.hex(16));
                let c = x.call(&who, night(k), "DeleteSnapshot", &req, "{\"_return\":true}");
                x.aws(c, false);
            }
            let mut c = x.call(
                &who,
                night(9),
                "DeleteBackupVault",
                "{\"backupVaultName\":\"prod-vault\"}",
                "null",
            );
            c.source = "backup.amazonaws.com";
            x.aws(c, false);
            (
                "Snapshots deleted in minutes, then the backup vault",
                vec![("snapshot.delete.burst", "critical")],
            )
        }
        "failed-share" => {
            let who = actor(estate, "f1-probe", CLI);
            let snap = format!("snap-0{}", x.rng.hex(16));
            let items = "{\"add\":{\"items\":[{\"group\":\"all\"}]}}";
            x.share(
                &who,
                night(0),
                &snap,
                items,
                Some((
                    "Client.InvalidParameterValue",
                    "Encrypted snapshots cannot be made public",
                )),
                false,
            );
            (
                "An attempt to make a snapshot public that failed",
                vec![("snapshot.share.failed", "medium")],
            )
        }
        "restore-chain" => {
            // Created by ops in the afternoon; restored, mounted and opened to the world at night
            // by a key never seen doing snapshot work.
            let owner = estate.ops[0].clone();
            let snap = format!("snap-0{}", x.rng.hex(16));
            let vol = format!("vol-0{}", x.rng.hex(16));
            let req = format!("{{\"volumeId\":\"vol-0{}\"}}", x.rng.hex(16));
            let resp = format!("{{\"snapshotId\":\"{snap}\",\"status\":\"pending\"}}");
            let c = x.call(&owner, noon(240), "CreateSnapshot", &req, &resp);
            x.aws(c, false);
            let who = actor(estate, "rc-restorer", CLI);
            let req = format!("{{\"snapshotId\":\"{snap}\",\"zone\":\"eu-west-1a\"}}");
            let resp = format!(
                "{{\"volumeId\":\"{vol}\",\"snapshotId\":\"{snap}\",\"status\":\"creating\"}}"
            );
            let c = x.call(&who, night(24 * 60 - 60), "CreateVolume", &req, &resp);
            x.aws(c, false);
            let inst = format!("i-0{}", x.rng.hex(16));
            let req = format!(
                "{{\"volumeId\":\"{vol}\",\"instanceId\":\"{inst}\",\"device\":\"/dev/sdf\"}}"
            );
            let c = x.call(&who, night(24 * 60 - 55), "AttachVolume", &req, "{}");
            x.aws(c, false);
            let req = "{\"groupId\":\"sg-0a1b2c3d\",\"ipPermissions\":{\"items\":[{\"ipProtocol\":\"tcp\",\"fromPort\":22,\"toPort\":22,\"ipRanges\":{\"items\":[{\"cidrIp\":\"0.0.0.0/0\"}]}}]}}";
            let c = x.call(
                &who,
                night(24 * 60 - 50),
                "AuthorizeSecurityGroupIngress",
                req,
                "{\"_return\":true}",
            );
            x.aws(c, false);
            (
                "Snapshot restored by a new identity, attached and opened to the world on port 22",
                vec![("snapshot.chain.restore", "critical")],
            )
        }
        _ => return None,
    };
    let truth = Truth {
        scenario: name.to_string(),
        description: description.to_string(),
        expect: expect
            .into_iter()
            .map(|(d, s)| Expect {
                detector: d.into(),
                min_severity: s.into(),
            })
            .collect(),
        attack_ids: x.attack,
        benign_ids: x.benign,
    };
    Some((x.records, truth))
}
