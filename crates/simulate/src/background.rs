//! Normal activity: describe/list/get calls dominate, S3 data events, role assumptions, console
//! logins, instance churn — and the routine snapshot work that must not alert: AWS Backup and
//! DLM at night, DR shares to the trusted account, a few manual snapshots in business hours.
//! Diurnal and weekly rhythm in the organization's time zone.

use crate::estate::{AZURE_BACKUP_APP, Estate, Principal};
use crate::records::{Call, Record, azure_row, cloudtrail, cloudtrail_service_event, gcp_entry};
use crate::rng::Rng;
use jiff::Timestamp;

/// Relative activity per local hour of a weekday.
const HOURLY: [u32; 24] = [
    2, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 13, 11, 13, 14, 14, 12, 10, 7, 5, 4, 3, 3, 2,
];

pub struct Day {
    /// Local midnight of this day, as an instant.
    pub midnight: Timestamp,
    pub weekend: bool,
}

impl Day {
    /// A moment `secs` after local midnight (wall-clock arithmetic is fine at this grain).
    pub fn at(&self, secs: i64) -> Timestamp {
        Timestamp::from_second(self.midnight.as_second() + secs).unwrap_or(self.midnight)
    }

    fn random_time(&self, rng: &mut Rng) -> Timestamp {
        let total: u32 = HOURLY.iter().sum();
        let mut pick = rng.below(total as u64) as u32;
        let mut hour = 0;
        for (h, w) in HOURLY.iter().enumerate() {
            if pick < *w {
                hour = h;
                break;
            }
            pick -= w;
        }
        self.at(hour as i64 * 3600 + rng.below(3600) as i64)
    }
}

/// AWS background for one account on one day: `n` generic events plus the routine snapshot work.
pub fn aws_day(
    estate: &Estate,
    acct: usize,
    day: &Day,
    day_index: u64,
    n: u64,
    rng: &mut Rng,
) -> Vec<Record> {
    let mut out = Vec::with_capacity(n as usize + 64);
    let workers = &estate.workers[acct];
    let home = estate.regions[acct % estate.regions.len()];
    for _ in 0..n {
        let who = rng.pick(workers);
        let t = day.random_time(rng);
        let region = if rng.chance(0.8) {
            home
        } else {
            *rng.pick(&estate.regions)
        };
        out.push(generic_call(who, t, region, rng));
    }
    routine_snapshots(estate, acct, day, day_index, home, rng, &mut out);
    out
}

/// `api` is the (event source, event name) pair.
fn call<'a>(
    t: Timestamp,
    who: &'a Principal,
    api: (&'a str, &'a str),
    region: &'static str,
    request: &'a str,
    response: &'a str,
    rng: &mut Rng,
) -> Call<'a> {
    let (source, name) = api;
    Call {
        time: t,
        who,
        source,
        name,
        region,
        request,
        response,
        error: None,
        id: rng.uuid(),
        request_id: rng.uuid(),
        data_event: false,
    }
}

fn generic_call(who: &Principal, t: Timestamp, region: &'static str, rng: &mut Rng) -> Record {
    let acct = &who.account;
    let roll = rng.below(1000);
    let (source, name, request, response, data): (&str, &str, String, String, bool) = match roll {
        0..=99 => ("ec2.amazonaws.com", "DescribeInstances", format!("{{\"instancesSet\":{{\"items\":[{{\"instanceId\":\"i-{}\"}}]}},\"filterSet\":{{}}}}", rng.hex(17)), "null".into(), false),
        100..=169 => ("ec2.amazonaws.com", "DescribeVolumes", "{\"volumeSet\":{},\"filterSet\":{\"items\":[{\"name\":\"attachment.status\",\"valueSet\":{\"items\":[{\"value\":\"attached\"}]}}]}}".into(), "null".into(), false),
        170..=219 => ("ec2.amazonaws.com", "DescribeSecurityGroups", "{\"securityGroupSet\":{},\"securityGroupIdSet\":{},\"filterSet\":{}}".into(), "null".into(), false),
        220..=249 => ("ec2.amazonaws.com", "DescribeSubnets", "{\"subnetSet\":{},\"filterSet\":{}}".into(), "null".into(), false),
        250..=449 => ("s3.amazonaws.com", "GetObject", format!("{{\"bucketName\":\"acme-data-{acct}\",\"Host\":\"acme-data-{acct}.s3.{region}.amazonaws.com\",\"key\":\"events/dt=2026-01-1{}/part-{}.parquet\"}}", rng.below(10), rng.hex(12)), "null".into(), true),
        450..=529 => ("s3.amazonaws.com", "PutObject", format!("{{\"bucketName\":\"acme-logs-{acct}\",\"Host\":\"acme-logs-{acct}.s3.{region}.amazonaws.com\",\"key\":\"app/{}.json\",\"x-amz-server-side-encryption\":\"aws:kms\"}}", rng.hex(20)), "null".into(), true),
        530..=619 => {
            let role = format!("app-service-{:03}", rng.below(40));
            ("sts.amazonaws.com", "AssumeRole",
             format!("{{\"roleArn\":\"arn:aws:iam::{acct}:role/{role}\",\"roleSessionName\":\"{}\",\"durationSeconds\":3600}}", rng.hex(16)),
             format!("{{\"credentials\":{{\"accessKeyId\":\"ASIA{}\",\"sessionToken\":\"IQoJb3JpZ2luX2VjE{}\",\"expiration\":\"Jan 1, 2027, 1:00:00 AM\"}},\"assumedRoleUser\":{{\"assumedRoleId\":\"AROA{}:s\",\"arn\":\"arn:aws:sts::{acct}:assumed-role/{role}/s\"}}}}", rng.hex(16).to_uppercase(), rng.hex(120), rng.hex(16).to_uppercase()), false)
        }
        620..=719 => ("kms.amazonaws.com", if rng.chance(0.5) { "Decrypt" } else { "GenerateDataKey" }, format!("{{\"encryptionContext\":{{\"aws:s3:arn\":\"arn:aws:s3:::acme-data-{acct}/events\"}},\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}}"), "null".into(), false),
        720..=779 => ("monitoring.amazonaws.com", "GetMetricData", "{\"startTime\":\"Jan 1, 2026, 12:00:00 AM\",\"endTime\":\"Jan 1, 2026, 1:00:00 AM\",\"metricDataQueries\":[{\"id\":\"m1\",\"metricStat\":{\"metric\":{\"namespace\":\"AWS/EC2\",\"metricName\":\"CPUUtilization\"},\"period\":300,\"stat\":\"Average\"}}]}".into(), "null".into(), false),
        780..=829 => ("iam.amazonaws.com", if rng.chance(0.5) { "GetRole" } else { "ListRoles" }, format!("{{\"roleName\":\"app-service-{:03}\"}}", rng.below(40)), "null".into(), false),
        830..=879 => ("rds.amazonaws.com", "DescribeDBInstances", "{\"maxRecords\":100}".into(), "null".into(), false),
        880..=909 => ("logs.amazonaws.com", "DescribeLogGroups", "{\"limit\":50}".into(), "null".into(), false),
        910..=939 => ("ec2.amazonaws.com", "CreateTags", format!("{{\"resourcesSet\":{{\"items\":[{{\"resourceId\":\"i-{}\"}}]}},\"tagSet\":{{\"items\":[{{\"key\":\"Owner\",\"value\":\"team-{}\"}}]}}}}", rng.hex(17), rng.below(9)), "{\"_return\":true}".into(), false),
        940..=959 => ("ec2.amazonaws.com", "RunInstances",
            format!("{{\"instancesSet\":{{\"items\":[{{\"imageId\":\"ami-{}\",\"minCount\":1,\"maxCount\":1}}]}},\"instanceType\":\"m6i.large\",\"blockDeviceMapping\":{{}},\"monitoring\":{{\"enabled\":false}},\"disableApiTermination\":false}}", rng.hex(17)),
            format!("{{\"instancesSet\":{{\"items\":[{{\"instanceId\":\"i-{}\",\"imageId\":\"ami-0abc\",\"instanceState\":{{\"code\":0,\"name\":\"pending\"}}}}]}}}}", rng.hex(17)), false),
        960..=979 => ("ec2.amazonaws.com", if rng.chance(0.5) { "StopInstances" } else { "TerminateInstances" }, format!("{{\"instancesSet\":{{\"items\":[{{\"instanceId\":\"i-{}\"}}]}}}}", rng.hex(17)), "null".into(), false),
        980..=994 => {
            let failed = rng.chance(0.05);
            ("signin.amazonaws.com", "ConsoleLogin", "null".into(), if failed { "{\"ConsoleLogin\":\"Failure\"}".into() } else { "{\"ConsoleLogin\":\"Success\"}".into() }, false)
        }
        _ => ("iam.amazonaws.com", "GetUser", "null".into(), "null".into(), false),
    };
    let mut c = call(t, who, (source, name), region, &request, &response, rng);
    c.data_event = data;
    cloudtrail(&c)
}

/// The snapshot work of a healthy organization, which must stay below medium severity.
fn routine_snapshots(
    estate: &Estate,
    acct: usize,
    day: &Day,
    day_index: u64,
    home: &'static str,
    rng: &mut Rng,
    out: &mut Vec<Record>,
) {
    let account = &estate.accounts[acct];
    // AWS Backup: nightly snapshots of eight volumes at 01:00.
    for v in 0..8 {
        let vol = format!("vol-0{acct:02}{v:02}00000000000b");
        let snap = format!("snap-0{}", rng.hex(16));
        let req = format!(
            "{{\"volumeId\":\"{vol}\",\"description\":\"This snapshot is created by the AWS Backup service.\",\"tagSpecificationSet\":{{\"items\":[{{\"resourceType\":\"snapshot\",\"tags\":[{{\"key\":\"aws:backup:source-resource\",\"value\":\"{vol}\"}}]}}]}}}}"
        );
        let resp = format!(
            "{{\"requestId\":\"{}\",\"snapshotId\":\"{snap}\",\"volumeId\":\"{vol}\",\"status\":\"pending\",\"volumeSize\":100,\"ownerId\":\"{account}\"}}",
            rng.uuid()
        );
        out.push(cloudtrail(&call(
            day.at(3600 + v * 40),
            &estate.backup[acct],
            ("ec2.amazonaws.com", "CreateSnapshot"),
            home,
            &req,
            &resp,
            rng,
        )));
    }
    // DLM: multi-volume snapshots at 03:00 and expiry of six old ones minutes later.
    let req = format!(
        "{{\"instanceSpecification\":{{\"instanceId\":\"i-0{acct:02}000000000000d\",\"excludeBootVolume\":false}},\"copyTagsFromSource\":\"volume\"}}"
    );
    let resp = format!(
        "{{\"snapshotSet\":{{\"items\":[{{\"snapshotId\":\"snap-0{}\"}},{{\"snapshotId\":\"snap-0{}\"}}]}}}}",
        rng.hex(16),
        rng.hex(16)
    );
    out.push(cloudtrail(&call(
        day.at(3 * 3600),
        &estate.dlm[acct],
        ("ec2.amazonaws.com", "CreateSnapshots"),
        home,
        &req,
        &resp,
        rng,
    )));
    for k in 0..6 {
        let req = format!("{{\"snapshotId\":\"snap-0{}\"}}", rng.hex(16));
        out.push(cloudtrail(&call(
            day.at(3 * 3600 + 120 + k * 15),
            &estate.dlm[acct],
            ("ec2.amazonaws.com", "DeleteSnapshot"),
            home,
            &req,
            "{\"_return\":true}",
            rng,
        )));
    }
    // Disaster recovery: the allow-listed copier shares last night's snapshot with the DR
    // account, which copies it.
    let snap = format!("snap-0{}", rng.hex(16));
    let req = format!(
        "{{\"snapshotId\":\"{snap}\",\"attributeType\":\"CREATE_VOLUME_PERMISSION\",\"createVolumePermission\":{{\"add\":{{\"items\":[{{\"userId\":\"{}\"}}]}}}}}}",
        estate.dr_account
    );
    out.push(cloudtrail(&call(
        day.at(4 * 3600),
        &estate.dr_copier[acct],
        ("ec2.amazonaws.com", "ModifySnapshotAttribute"),
        home,
        &req,
        "{\"_return\":true}",
        rng,
    )));
    out.push(cloudtrail_service_event(
        day.at(4 * 3600 + 600),
        account,
        &estate.dr_account,
        "SharedSnapshotCopyInitiated",
        home,
        &snap,
        rng.uuid(),
    ));
    if day.weekend {
        return;
    }
    // Business hours: a few manual snapshots before changes, and snapshot monitoring.
    for k in 0..(1 + (day_index + acct as u64) % 3) {
        let vol = format!("vol-0{}", rng.hex(16));
        let req = format!("{{\"volumeId\":\"{vol}\",\"description\":\"before patching\"}}");
        let resp = format!(
            "{{\"snapshotId\":\"snap-0{}\",\"volumeId\":\"{vol}\",\"status\":\"pending\"}}",
            rng.hex(16)
        );
        out.push(cloudtrail(&call(
            day.at(10 * 3600 + k as i64 * 5400 + rng.below(1800) as i64),
            &estate.ops[acct],
            ("ec2.amazonaws.com", "CreateSnapshot"),
            home,
            &req,
            &resp,
            rng,
        )));
    }
    for h in 8..18 {
        let req = "{\"ownerIds\":{\"items\":[{\"owner\":\"self\"}]},\"maxResults\":1000}";
        out.push(cloudtrail(&call(
            day.at(h * 3600 + 1800),
            &estate.ops[acct],
            ("ec2.amazonaws.com", "DescribeSnapshots"),
            home,
            req,
            "null",
            rng,
        )));
    }
}

/// Azure background for one day: `n` rows of routine writes (each operation Start+Success)
/// and the nightly snapshots of the allow-listed backup application.
pub fn azure_day(estate: &Estate, day: &Day, n: u64, rng: &mut Rng) -> Vec<Record> {
    let sub = &estate.azure_subscription;
    let mut out = Vec::with_capacity(n as usize + 16);
    let ops = [
        (
            "Microsoft.Compute/virtualMachines/write",
            "virtualMachines",
            "vm",
        ),
        (
            "Microsoft.Network/networkInterfaces/write",
            "networkInterfaces",
            "nic",
        ),
        (
            "Microsoft.Storage/storageAccounts/listKeys/action",
            "storageAccounts",
            "st",
        ),
        (
            "Microsoft.Compute/virtualMachines/start/action",
            "virtualMachines",
            "vm",
        ),
        ("Microsoft.Web/sites/write", "sites", "app"),
    ];
    let mut rows = 0;
    while rows < n {
        let (op, kind, prefix) = *rng.pick(&ops);
        let provider = op.split('/').next().unwrap_or("");
        let rid = format!(
            "/subscriptions/{sub}/resourceGroups/rg-{}/providers/{provider}/{kind}/{prefix}-{}",
            rng.below(12),
            rng.below(200)
        );
        let user = rng.pick(&estate.azure_users).clone();
        let t = day.random_time(rng);
        let corr = rng.uuid();
        out.push(azure_row(
            t,
            sub,
            &user,
            "198.51.100.44",
            op,
            &rid,
            "Start",
            &corr,
            rng.uuid(),
            None,
        ));
        out.push(azure_row(
            Timestamp::from_second(t.as_second() + 3).unwrap_or(t),
            sub,
            &user,
            "198.51.100.44",
            op,
            &rid,
            "Success",
            &corr,
            rng.uuid(),
            None,
        ));
        rows += 2;
    }
    for k in 0..6 {
        let rid = format!(
            "/subscriptions/{sub}/resourceGroups/rg-backup/providers/Microsoft.Compute/snapshots/nightly-{k}-{}",
            rng.hex(6)
        );
        let corr = rng.uuid();
        let t = day.at(90 * 60 + k * 60);
        out.push(azure_row(
            t,
            sub,
            AZURE_BACKUP_APP,
            "20.50.1.1",
            "Microsoft.Compute/snapshots/write",
            &rid,
            "Start",
            &corr,
            rng.uuid(),
            None,
        ));
        out.push(azure_row(
            day.at(90 * 60 + k * 60 + 5),
            sub,
            AZURE_BACKUP_APP,
            "20.50.1.1",
            "Microsoft.Compute/snapshots/write",
            &rid,
            "Success",
            &corr,
            rng.uuid(),
            None,
        ));
    }
    out
}

/// GCP background for one day: instance churn (first/last entries), and snapshot schedules run
/// by the Compute Engine service agent.
pub fn gcp_day(estate: &Estate, day: &Day, n: u64, rng: &mut Rng) -> Vec<Record> {
    let project = &estate.gcp_project;
    let mut out = Vec::with_capacity(n as usize + 16);
    let mut rows = 0;
    while rows < n {
        let user = rng.pick(&estate.gcp_users).clone();
        let t = day.random_time(rng);
        let name = format!("web-{}", rng.hex(6));
        let (method, resource, request) = match rng.below(3) {
            0 => (
                "v1.compute.instances.insert",
                format!("projects/{project}/zones/europe-west1-b/instances/{name}"),
                format!(
                    "{{\"name\":\"{name}\",\"machineType\":\"zones/europe-west1-b/machineTypes/e2-standard-4\",\"disks\":[{{\"boot\":true,\"initializeParams\":{{\"sourceImage\":\"projects/debian-cloud/global/images/family/debian-12\"}}}}],\"@type\":\"type.googleapis.com/compute.instances.insert\"}}"
                ),
            ),
            1 => (
                "v1.compute.instances.delete",
                format!("projects/{project}/zones/europe-west1-b/instances/{name}"),
                "{\"@type\":\"type.googleapis.com/compute.instances.delete\"}".to_string(),
            ),
            _ => (
                "v1.compute.disks.insert",
                format!("projects/{project}/zones/europe-west1-b/disks/{name}"),
                format!(
                    "{{\"name\":\"{name}\",\"sizeGb\":\"100\",\"type\":\"zones/europe-west1-b/diskTypes/pd-balanced\",\"@type\":\"type.googleapis.com/compute.disks.insert\"}}"
                ),
            ),
        };
        let op = format!("operation-{}-{}", t.as_millisecond(), rng.hex(8));
        out.push(gcp_entry(
            t,
            project,
            &user,
            method,
            &resource,
            &request,
            Some((&op, true, false)),
            rng.hex(12),
            None,
        ));
        out.push(gcp_entry(
            Timestamp::from_second(t.as_second() + 20).unwrap_or(t),
            project,
            &user,
            method,
            &resource,
            "{}",
            Some((&op, false, true)),
            rng.hex(12),
            None,
        ));
        rows += 2;
    }
    let agent = "service-123456789012@compute-system.iam.gserviceaccount.com";
    for k in 0..6 {
        let disk = format!("projects/{project}/zones/europe-west1-b/disks/db-{k}");
        let req = format!(
            "{{\"name\":\"db-{k}-{}\",\"@type\":\"type.googleapis.com/compute.disks.createSnapshot\"}}",
            rng.hex(8)
        );
        let t = day.at(2 * 3600 + k * 30);
        out.push(gcp_entry(
            t,
            project,
            agent,
            "v1.compute.disks.createSnapshot",
            &disk,
            &req,
            None,
            rng.hex(12),
            None,
        ));
    }
    out
}
