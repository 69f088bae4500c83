//! The simulated organization: its accounts, subscription and project, and the people, roles
//! and services that act in them.

use crate::rng::Rng;

/// Accounts outside the organization, the attacker's.
pub const ATTACKER_ACCOUNT: &str = "999988887777";
pub const DOMAIN: &str = "example.com";
pub const AZURE_BACKUP_APP: &str = "a1b2c3d4-0000-4000-8000-00000000bac0";

#[derive(Clone, Debug)]
pub struct Principal {
    /// CloudTrail `userIdentity.type`.
    pub kind: &'static str,
    pub arn: String,
    pub account: String,
    pub name: String,
    pub ip: String,
    pub agent: &'static str,
    pub invoked_by: Option<&'static str>,
}

#[derive(Clone, Debug)]
pub struct Estate {
    pub accounts: Vec<String>,
    pub dr_account: String,
    pub regions: Vec<&'static str>,
    pub azure_subscription: String,
    pub gcp_project: String,
    /// Humans and roles doing day-to-day work, per account (same order as `accounts`).
    pub workers: Vec<Vec<Principal>>,
    pub ops: Vec<Principal>,
    pub backup: Vec<Principal>,
    pub dlm: Vec<Principal>,
    pub dr_copier: Vec<Principal>,
    pub azure_users: Vec<String>,
    pub gcp_users: Vec<String>,
}

pub const AGENTS: &[&str] = &[
    "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0-1014-aws exe/x86_64.amzn.2023 prompt/off",
    "aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.141.0",
    "Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#6.1.66 md/arch#x86_64 lang/python#3.11.6 cfg/retry-mode#legacy Botocore/1.34.11",
    "console.ec2.amazonaws.com",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "aws-sdk-java/2.21.29 Linux/5.10.201-191.748.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS Java/17.0.9 vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy",
    "terraform-provider-aws/5.31.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.24.0",
];

impl Estate {
    pub fn build(seed: u64, accounts: usize, principals: usize) -> Estate {
        let mut rng = Rng::derive(seed, &[0xE57A7E]);
        let accounts: Vec<String> = (0..accounts.max(1))
            .map(|i| format!("3109876543{:02}", 21 + i))
            .collect();
        let mut workers = Vec::new();
        let mut ops = Vec::new();
        let mut backup = Vec::new();
        let mut dlm = Vec::new();
        let mut dr_copier = Vec::new();
        for acct in &accounts {
            let mut list = Vec::new();
            for i in 0..principals.max(4) {
                let ip = format!("198.51.{}.{}", rng.below(100) + 100, rng.below(250) + 1);
                let agent = *rng.pick(AGENTS);
                let p = match i % 4 {
                    0 => Principal {
                        kind: "IAMUser",
                        arn: format!("arn:aws:iam::{acct}:user/dev{i:03}"),
                        account: acct.clone(),
                        name: format!("dev{i:03}"),
                        ip,
                        agent,
                        invoked_by: None,
                    },
                    1 => Principal {
                        kind: "AssumedRole",
                        arn: format!(
                            "arn:aws:sts::{acct}:assumed-role/AWSReservedSSO_Developer_1a2b3c/person{i:03}@{DOMAIN}"
                        ),
                        account: acct.clone(),
                        name: format!("person{i:03}"),
                        ip,
                        agent,
                        invoked_by: None,
                    },
                    2 => Principal {
                        kind: "AssumedRole",
                        arn: format!(
                            "arn:aws:sts::{acct}:assumed-role/app-service-{i:03}/i-{}",
                            rng.hex(17)
                        ),
                        account: acct.clone(),
                        name: format!("app-service-{i:03}"),
                        ip: format!("10.0.{}.{}", rng.below(250), rng.below(250) + 1),
                        agent: AGENTS[5],
                        invoked_by: None,
                    },
                    _ => Principal {
                        kind: "AssumedRole",
                        arn: format!(
                            "arn:aws:sts::{acct}:assumed-role/ci-deploy/GitHubActions-{i:03}"
                        ),
                        account: acct.clone(),
                        name: "ci-deploy".into(),
                        ip: format!(
                            "20.{}.{}.{}",
                            rng.below(200),
                            rng.below(250),
                            rng.below(250) + 1
                        ),
                        agent: AGENTS[6],
                        invoked_by: None,
                    },
                };
                list.push(p);
            }
            workers.push(list);
            ops.push(Principal {
                kind: "AssumedRole",
                arn: format!("arn:aws:sts::{acct}:assumed-role/ops-admin/oncall@{DOMAIN}"),
                account: acct.clone(),
                name: "ops-admin".into(),
                ip: "198.51.100.10".into(),
                agent: AGENTS[0],
                invoked_by: None,
            });
            backup.push(Principal { kind: "AssumedRole", arn: format!("arn:aws:sts::{acct}:assumed-role/AWSServiceRoleForBackup/AWSBackup-AWSServiceRoleForBackup"), account: acct.clone(), name: "AWSServiceRoleForBackup".into(), ip: "backup.amazonaws.com".into(), agent: "backup.amazonaws.com", invoked_by: Some("backup.amazonaws.com") });
            dlm.push(Principal {
                kind: "AssumedRole",
                arn: format!(
                    "arn:aws:sts::{acct}:assumed-role/AWSDataLifecycleManagerDefaultRole/DLMSession"
                ),
                account: acct.clone(),
                name: "AWSDataLifecycleManagerDefaultRole".into(),
                ip: "dlm.amazonaws.com".into(),
                agent: "dlm.amazonaws.com",
                invoked_by: Some("dlm.amazonaws.com"),
            });
            dr_copier.push(Principal {
                kind: "AssumedRole",
                arn: format!("arn:aws:sts::{acct}:assumed-role/backup-dr-copier/nightly"),
                account: acct.clone(),
                name: "backup-dr-copier".into(),
                ip: "10.0.0.5".into(),
                agent: AGENTS[2],
                invoked_by: None,
            });
        }
        Estate {
            dr_account: "410987654321".into(),
            regions: vec!["eu-west-1", "us-east-1", "eu-central-1", "us-west-2"],
            azure_subscription: "7d3c2b1a-0000-4000-8000-00000000abcd".into(),
            gcp_project: "acme-prod".into(),
            azure_users: (0..principals.max(2))
                .map(|i| format!("user{i:03}@{DOMAIN}"))
                .collect(),
            gcp_users: (0..principals.max(2))
                .map(|i| format!("eng{i:03}@{DOMAIN}"))
                .collect(),
            accounts,
            workers,
            ops,
            backup,
            dlm,
            dr_copier,
        }
    }

    /// The snaptrail.toml lines that describe this estate (validate merges them into the
    /// user's config).
    pub fn organization(&self) -> (Vec<String>, Vec<String>, Vec<String>, Vec<String>) {
        let mut accounts = self.accounts.clone();
        accounts.push(self.azure_subscription.clone());
        accounts.push(self.gcp_project.clone());
        (
            accounts,
            vec![DOMAIN.to_string()],
            vec![self.dr_account.clone()],
            vec![
                "arn:aws:sts::*:assumed-role/backup-*".to_string(),
                AZURE_BACKUP_APP.to_string(),
            ],
        )
    }
}
