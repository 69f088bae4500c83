#!/usr/bin/env python3
"""Writes the hand-made fixtures in tests/data/ (committed; rerun only to change them).

Accounts: 310987654321 is ours, 410987654321 is the trusted DR account, 999988887777 is the
attacker's. Times are chosen against Europe/Berlin business hours 07:00-19:00 (snaptrail.toml
beside this file).
"""
import gzip, json, os, uuid

OWN, DR, EVIL = "310987654321", "410987654321", "999988887777"
ALICE = f"arn:aws:iam::{OWN}:user/alice"
OPS = f"arn:aws:sts::{OWN}:assumed-role/ops-admin/bob"
BACKUP = f"arn:aws:sts::{OWN}:assumed-role/AWSServiceRoleForBackup/AWSBackup-AWSServiceRoleForBackup"
CLI = "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/ec2.create-snapshot"
BOTO_PACU = "Boto3/1.26.47 Python/3.10.12 Linux/5.15.0 Botocore/1.29.47 Pacu-Session-2b3c1f6e-9c1e-4c52-9f1e-2f0d7a1c9e11"
n = 0


def eid():
    global n
    n += 1
    return str(uuid.UUID(int=0x5EED0000000000000000000000000000 + n))


def ct(name, t, arn=ALICE, source="ec2.amazonaws.com", req=None, resp=None, ip="203.0.113.7",
       ua=CLI, err=None, identity=None, account=OWN, region="eu-west-1", **extra):
    if identity is None:
        kind = "IAMUser" if ":user/" in arn else "AssumedRole"
        identity = {"type": kind, "principalId": "AIDAEXAMPLE", "arn": arn, "accountId": account,
                    "accessKeyId": "AKIAEXAMPLE"}
        if kind == "IAMUser":
            identity["userName"] = arn.rsplit("/", 1)[1]
    r = {"eventVersion": "1.09", "userIdentity": identity, "eventTime": t, "eventSource": source,
         "eventName": name, "awsRegion": region, "sourceIPAddress": ip, "userAgent": ua,
         "requestParameters": req, "responseElements": resp, "requestID": eid(), "eventID": eid(),
         "readOnly": name.startswith(("Describe", "List", "Get")), "eventType": "AwsApiCall",
         "managementEvent": True, "recipientAccountId": account, "eventCategory": "Management"}
    if err:
        r["errorCode"], r["errorMessage"] = err
    r.update(extra)
    return r


def share(t, snap, add=(), remove=(), group=None, **kw):
    perm = {}
    if add or group:
        items = [{"userId": a} for a in add] + ([{"group": group}] if group else [])
        perm["add"] = {"items": items}
    if remove:
        perm["remove"] = {"items": [{"userId": a} for a in remove]}
    return ct("ModifySnapshotAttribute", t, req={"snapshotId": snap, "attributeType": "CREATE_VOLUME_PERMISSION",
              "createVolumePermission": perm}, resp={"_return": True}, **kw)


def create(t, vol, snap, **kw):
    return ct("CreateSnapshot", t, req={"volumeId": vol, "description": "", "tagSpecificationSet": kw.pop("tags", {"items": []})},
              resp={"snapshotId": snap, "volumeId": vol, "status": "pending", "volumeSize": 100, "ownerId": OWN}, **kw)


def write(path, records, gz=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = json.dumps({"Records": records}, separators=(",", ":")).encode()
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)


# --- The seed's four adversary tests (spec section 6) ----------------------------------
write("seed/1-ebs-snapshot-cli.json", [create("2026-01-14T10:15:00Z", "vol-0a1b2c3d4e5f60001", "snap-0a1b2c3d4e5f60001"),
                                       create("2026-01-14T10:16:30Z", "vol-0a1b2c3d4e5f60002", "snap-0a1b2c3d4e5f60002")])
write("seed/2-cross-account-share.json", [
    share("2026-01-14T10:20:00Z", "snap-0a1b2c3d4e5f60001", add=[EVIL],
          err=("Client.OperationNotPermitted", "Encrypted snapshots with EBS default key cannot be shared")),
    share("2026-01-14T10:21:00Z", "snap-0a1b2c3d4e5f60002", add=[EVIL]),
])
az_sub = "7d3c2b1a-0000-4000-8000-00000000abcd"
snap_id = f"/subscriptions/{az_sub}/resourceGroups/prod-rg/providers/Microsoft.Compute/snapshots/db01-osdisk-snap"
corr = "c0ffee00-1111-4222-8333-444455556666"
def az(op, t, status, rid, corr, caller="mallory@contoso.example", ip="198.51.100.23", event_id=None, props=None):
    return {"time": t, "resourceId": rid, "operationName": op, "category": "Administrative",
            "resultType": status, "resultSignature": "Succeeded.OK" if status == "Success" else "Started.",
            "durationMs": "0", "callerIpAddress": ip, "correlationId": corr, "identity": {"claims": {
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": caller, "idtyp": "user"}},
            "level": "Information", "location": "westeurope", "properties": props or {"eventCategory": "Administrative",
            "entity": rid, "message": op, "hierarchy": f"tenant/{az_sub}"}, "eventDataId": event_id or eid(), "tenantId": "tenant"}
azure = [az("MICROSOFT.COMPUTE/SNAPSHOTS/WRITE", "2026-01-14T22:40:01.1234567Z", "Start", snap_id, corr),
         az("MICROSOFT.COMPUTE/SNAPSHOTS/WRITE", "2026-01-14T22:40:03.7654321Z", "Success", snap_id, corr),
         az("Microsoft.Compute/snapshots/write", "2026-01-14T22:41:00.0000000Z", "Start", snap_id.replace("db01", "db02"), "c0ffee00-2222-4222-8333-444455556666"),
         az("Microsoft.Compute/snapshots/write", "2026-01-14T22:41:02.0000000Z", "Success", snap_id.replace("db01", "db02"), "c0ffee00-2222-4222-8333-444455556666")]
os.makedirs("seed", exist_ok=True)
with open("seed/3-azure-snapshot-cli.json", "w") as f:
    json.dump({"records": azure}, f, indent=1)
pacu = [ct("DescribeSnapshots", f"2026-01-15T01:{m:02d}:{s:02d}Z", arn=f"arn:aws:iam::{OWN}:user/ci-deployer", ua=BOTO_PACU,
           ip="192.0.2.66", region=r, req={"ownerIds": {"items": [{"owner": "self"}]}}, resp=None)
        for m, s, r in [(2, 1, "eu-west-1"), (2, 3, "us-east-1"), (2, 5, "us-west-2"), (2, 8, "ap-southeast-2"),
                        (2, 9, "eu-central-1"), (2, 11, "eu-west-2"), (2, 14, "ca-central-1"), (2, 15, "sa-east-1"),
                        (2, 17, "ap-northeast-1"), (2, 20, "us-east-2"), (2, 22, "eu-north-1"), (2, 25, "ap-south-1")]]
pacu.append(create("2026-01-15T01:04:00Z", "vol-0fedcba987654321f", "snap-0fedcba987654321f",
                   arn=f"arn:aws:iam::{OWN}:user/ci-deployer", ua=BOTO_PACU, ip="192.0.2.66"))
write("seed/4-pacu-enumerate-then-create.json", pacu)

# --- One file per detector --------------------------------------------------------------
write("aws/share-public.json.gz", [create("2026-01-17T01:00:00Z", "vol-0000000000000aaaa", "snap-0000000000000aaaa"),
                                   share("2026-01-17T01:02:00Z", "snap-0000000000000aaaa", group="all")], gz=True)
write("aws/share-trusted-and-revert.json", [
    share("2026-01-13T09:00:00Z", "snap-0000000000000bbbb", add=[DR], arn=OPS),
    share("2026-01-13T09:05:00Z", "snap-0000000000000cccc", add=[OWN], arn=OPS),
    share("2026-01-13T09:30:00Z", "snap-0000000000000dddd", remove=[EVIL], arn=OPS),
])
write("aws/rds-and-ami-shares.json", [
    ct("ModifyDBSnapshotAttribute", "2026-01-13T11:00:00Z", source="rds.amazonaws.com",
       req={"dBSnapshotIdentifier": "billing-prod-2026-01-13", "attributeName": "restore", "valuesToAdd": [EVIL]},
       resp={"dBSnapshotIdentifier": "billing-prod-2026-01-13"}),
    ct("ModifyDBClusterSnapshotAttribute", "2026-01-13T11:01:00Z", source="rds.amazonaws.com",
       req={"dBClusterSnapshotIdentifier": "aurora-prod-manual", "attributeName": "restore", "valuesToAdd": ["all"]},
       resp={"dBClusterSnapshotIdentifier": "aurora-prod-manual"}),
    ct("ModifyImageAttribute", "2026-01-13T11:02:00Z",
       req={"imageId": "ami-0123456789abcdef0", "launchPermission": {"add": {"items": [{"userId": EVIL}]}}, "attributeType": "launchPermission"},
       resp={"_return": True}),
])
consumer = {"accountId": EVIL, "invokedBy": "ec2.amazonaws.com"}
write("aws/consumed-external.json", [
    ct("SharedSnapshotVolumeCreated", "2026-01-17T01:30:00Z", identity=consumer, req=None, resp=None, ip="ec2.amazonaws.com",
       ua="ec2.amazonaws.com", eventType="AwsServiceEvent", readOnly=False,
       serviceEventDetails={"snapshotId": "snap-0000000000000aaaa"}),
    ct("SharedSnapshotCopyInitiated", "2026-01-13T12:00:00Z", identity={"accountId": DR, "invokedBy": "ec2.amazonaws.com"},
       req=None, resp=None, ip="ec2.amazonaws.com", ua="ec2.amazonaws.com", eventType="AwsServiceEvent",
       serviceEventDetails={"snapshotId": "snap-0000000000000bbbb"}),
])
write("aws/exports.json", [
    ct("StartExportTask", "2026-01-13T13:00:00Z", source="rds.amazonaws.com",
       req={"exportTaskIdentifier": "exp-1", "sourceArn": f"arn:aws:rds:eu-west-1:{OWN}:snapshot:billing-prod-2026-01-13",
            "s3BucketName": "exfil-bucket-123", "iamRoleArn": f"arn:aws:iam::{OWN}:role/export", "kmsKeyId": "k"},
       resp={"exportTaskIdentifier": "exp-1", "s3Bucket": "exfil-bucket-123", "status": "STARTING"}),
    *[ct(op, f"2026-01-13T13:1{i}:00Z", source="ebs.amazonaws.com", req={"snapshotId": "snap-0000000000000eeee", "blockIndex": i},
         resp=None, ua="python-requests/2.31.0", eventCategory="Data", managementEvent=False)
      for i, op in enumerate(["ListSnapshotBlocks", "GetSnapshotBlock", "GetSnapshotBlock", "GetSnapshotBlock"])],
    ct("CreateInstanceExportTask", "2026-01-13T13:30:00Z", err=("Client.NotExportable", "This instance cannot be exported"),
       req={"instanceId": "i-0abc", "targetEnvironment": "vmware", "exportToS3": {"s3Bucket": "exfil-bucket-123"}}),
])
write("aws/bulk-and-benign.json", [
    *[create(f"2026-01-16T23:{10 + i}:00Z", f"vol-00000000000001{i:02d}", f"snap-00000000000001{i:02d}", arn=OPS) for i in range(7)],
    *[create(f"2026-01-16T03:{10 + i}:00Z", f"vol-00000000000002{i:02d}", f"snap-00000000000002{i:02d}", arn=BACKUP,
             ip="backup.amazonaws.com", ua="backup.amazonaws.com",
             identity={"type": "AssumedRole", "arn": BACKUP, "accountId": OWN, "invokedBy": "backup.amazonaws.com"}) for i in range(8)],
    *[create(f"2026-01-13T10:{10 + i}:00Z", f"vol-00000000000003{i:02d}", f"snap-00000000000003{i:02d}", arn=ALICE,
             tags={"items": [{"resourceType": "snapshot", "tags": [{"key": "ChangeTicket", "value": "CHG-4711"}]}]}) for i in range(6)],
    ct("CreateSnapshot", "2026-01-16T23:30:00Z", arn=OPS, req={"volumeId": "vol-0000000000000999"},
       err=("Client.UnauthorizedOperation", "You are not authorized")),
])
# GCP: public IAM policy on a snapshot; snapshot insert by an outside domain (first/last entries).
def gcp(method, t, email, resource, request=None, op=None, first=None, last=None, insert=None, service_data=None, status=None):
    e = {"protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                          "authenticationInfo": {"principalEmail": email},
                          "requestMetadata": {"callerIp": "198.51.100.99", "callerSuppliedUserAgent": "google-cloud-sdk gcloud/455.0.0"},
                          "serviceName": "compute.googleapis.com", "methodName": method, "resourceName": resource,
                          "request": request or {}},
         "insertId": insert or eid()[:12], "resource": {"type": "gce_snapshot", "labels": {"project_id": "acme-prod"}},
         "timestamp": t, "severity": "NOTICE", "logName": "projects/acme-prod/logs/cloudaudit.googleapis.com%2Factivity",
         "receiveTimestamp": t}
    if op:
        e["operation"] = {"id": op, "producer": "compute.googleapis.com", **({"first": True} if first else {}), **({"last": True} if last else {})}
    if service_data:
        e["protoPayload"]["serviceData"] = service_data
    if status:
        e["protoPayload"]["status"] = status
    return e
os.makedirs("gcp", exist_ok=True)
with open("gcp/public-and-foreign.jsonl", "w") as f:
    for e in [
        gcp("v1.compute.snapshots.insert", "2026-01-14T23:00:00.100Z", "eve@attacker.example", "projects/acme-prod/global/snapshots/db-snap-1",
            request={"name": "db-snap-1", "sourceDisk": "projects/acme-prod/zones/europe-west1-b/disks/db-1"}, op="operation-1-snap", first=True),
        gcp("v1.compute.snapshots.insert", "2026-01-14T23:00:09.900Z", "eve@attacker.example", "projects/acme-prod/global/snapshots/db-snap-1",
            op="operation-1-snap", last=True),
        gcp("v1.compute.snapshots.setIamPolicy", "2026-01-14T23:05:00Z", "eve@attacker.example", "projects/acme-prod/global/snapshots/db-snap-1",
            request={"policy": {"bindings": [{"role": "roles/compute.storageAdmin", "members": ["allUsers"]}]}},
            service_data={"@type": "type.googleapis.com/google.iam.v1.logging.AuditData", "policyDelta": {"bindingDeltas": [
                {"action": "ADD", "role": "roles/compute.storageAdmin", "member": "allUsers"}]}}),
        gcp("v1.compute.snapshots.setIamPolicy", "2026-01-14T23:06:00Z", "ops@example.com", "projects/acme-prod/global/snapshots/app-snap",
            request={"policy": {"bindings": [{"role": "roles/compute.imageUser", "members": ["user:dev@example.com"]}]}}),
    ]:
        f.write(json.dumps(e) + "\n")
# --- Added later (appended so earlier ids stay stable) -----------------------------------
MALLORY = f"arn:aws:iam::{OWN}:user/mallory"
write("aws/deletion-burst.json", [
    *[ct("DeleteSnapshot", f"2026-01-18T03:0{i}:30Z", arn=MALLORY, req={"snapshotId": f"snap-00000000000004{i:02d}"}, resp={"_return": True}, ip="192.0.2.200")
      for i in range(6)],
    ct("DeleteRecoveryPoint", "2026-01-18T03:07:00Z", arn=MALLORY, source="backup.amazonaws.com", ip="192.0.2.200",
       req={"backupVaultName": "prod-vault", "recoveryPointArn": f"arn:aws:ec2:eu-west-1::snapshot/snap-0000000000000500"}),
    ct("DeleteBackupVault", "2026-01-18T03:09:00Z", arn=MALLORY, source="backup.amazonaws.com", ip="192.0.2.200",
       req={"backupVaultName": "prod-vault"}),
])
write("aws/rds-restore-public.json", [
    ct("RestoreDBInstanceFromDBSnapshot", "2026-01-19T21:00:00Z", arn=OPS, source="rds.amazonaws.com",
       req={"dBInstanceIdentifier": "restored-billing", "dBSnapshotIdentifier": "billing-prod-2026-01-13", "publiclyAccessible": True},
       resp={"dBInstanceIdentifier": "restored-billing", "publiclyAccessible": True, "dBInstanceStatus": "creating"}),
])
disk = f"/subscriptions/{az_sub}/resourceGroups/prod-rg/providers/Microsoft.Compute/disks/sql01-data"
sas_corr = "5a5a5a5a-1111-4222-8333-444455556666"
os.makedirs("azure", exist_ok=True)
with open("azure/sas-export.json", "w") as f:
    json.dump({"records": [
        az("MICROSOFT.COMPUTE/DISKS/BEGINGETACCESS/ACTION", "2026-01-20T02:00:00.0000000Z", "Start", disk, sas_corr),
        az("MICROSOFT.COMPUTE/DISKS/BEGINGETACCESS/ACTION", "2026-01-20T02:00:01.0000000Z", "Accepted", disk, sas_corr),
        az("MICROSOFT.COMPUTE/DISKS/BEGINGETACCESS/ACTION", "2026-01-20T02:00:20.0000000Z", "Success", disk, sas_corr),
        az("MICROSOFT.COMPUTE/DISKS/ENDGETACCESS/ACTION", "2026-01-20T04:00:00.0000000Z", "Success", disk, "5a5a5a5a-2222-4222-8333-444455556666"),
    ]}, f, indent=1)
# --- The restore chain: created by alice, restored and exposed by mallory -------------------
SNAP = "snap-0000000000000fff1"
write("aws/restore-chain.json", [
    create("2026-01-21T09:00:00Z", "vol-0000000000000fff0", SNAP),
    ct("CreateVolume", "2026-01-21T20:00:00Z", arn=MALLORY, ip="192.0.2.200",
       req={"snapshotId": SNAP, "zone": "eu-west-1a", "volumeType": "gp3"},
       resp={"volumeId": "vol-0000000000000fff2", "snapshotId": SNAP, "status": "creating", "size": 100}),
    ct("RunInstances", "2026-01-21T20:02:00Z", arn=MALLORY, ip="192.0.2.200",
       req={"instancesSet": {"items": [{"imageId": "ami-0abc", "minCount": 1, "maxCount": 1}]}, "instanceType": "t3.micro",
            "groupSet": {"items": [{"groupId": "sg-0000000000000fff3"}]}},
       resp={"instancesSet": {"items": [{"instanceId": "i-0000000000000fff4"}]}}),
    ct("AttachVolume", "2026-01-21T20:05:00Z", arn=MALLORY, ip="192.0.2.200",
       req={"volumeId": "vol-0000000000000fff2", "instanceId": "i-0000000000000fff4", "device": "/dev/sdf"},
       resp={"volumeId": "vol-0000000000000fff2", "instanceId": "i-0000000000000fff4", "status": "attaching"}),
    ct("AuthorizeSecurityGroupIngress", "2026-01-21T20:06:00Z", arn=MALLORY, ip="192.0.2.200",
       req={"groupId": "sg-0000000000000fff3", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
            "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}, "ipv6Ranges": {}, "prefixListIds": {}, "groups": {}}]}},
       resp={"_return": True}),
    ct("RestoreDBInstanceFromDBSnapshot", "2026-01-22T21:00:00Z", arn=MALLORY, source="rds.amazonaws.com", ip="192.0.2.200",
       req={"dBInstanceIdentifier": "copy-of-billing", "dBSnapshotIdentifier": "billing-prod-2026-01-13"},
       resp={"dBInstanceIdentifier": "copy-of-billing", "publiclyAccessible": False, "dBInstanceStatus": "creating"}),
    ct("ModifyDBInstance", "2026-01-22T21:20:00Z", arn=MALLORY, source="rds.amazonaws.com", ip="192.0.2.200",
       req={"dBInstanceIdentifier": "copy-of-billing", "masterUserPassword": "****", "applyImmediately": True},
       resp={"dBInstanceIdentifier": "copy-of-billing"}),
])
print("wrote fixtures")
