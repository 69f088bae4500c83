-- The seed detection with its defects fixed, as DuckDB SQL over CloudTrail JSON lines: the same
-- caller-summary rows `snaptrail hunt` reports (detector snapshot.caller_summary), for AWS.
-- Parameters (replaced by run.py): {files}, {own_accounts}, {trusted}, {window}, {bulk},
-- {day_start}, {day_end} (minutes after midnight, UTC).
WITH raw AS (
    SELECT * FROM read_json({files}, format = 'newline_delimited',
        columns = {eventName: 'VARCHAR', eventTime: 'VARCHAR', userIdentity: 'JSON',
                   errorCode: 'VARCHAR', requestParameters: 'JSON', recipientAccountId: 'VARCHAR',
                   sourceIPAddress: 'VARCHAR'})
),
ops AS (
    SELECT
        coalesce(json_extract_string(userIdentity, '$.arn'), json_extract_string(userIdentity, '$.invokedBy')) AS caller,
        CAST(eventTime AS TIMESTAMPTZ) AS t,
        eventName,
        errorCode IS NULL AS ok,
        recipientAccountId AS account,
        coalesce(json_extract_string(requestParameters, '$.createVolumePermission.add.items[*].userId'), [])
          || coalesce(json_extract_string(requestParameters, '$.launchPermission.add.items[*].userId'), [])
          || coalesce(json_extract_string(requestParameters, '$.valuesToAdd[*]'), []) AS accounts_added,
        coalesce(json_extract_string(requestParameters, '$.createVolumePermission.add.items[*].group'), [])
          || coalesce(json_extract_string(requestParameters, '$.launchPermission.add.items[*].group'), []) AS groups_added,
        eventName IN ('ModifySnapshotAttribute', 'ModifyImageAttribute', 'ModifyDBSnapshotAttribute',
                      'ModifyDBClusterSnapshotAttribute', 'AuthorizeSnapshotAccess') AS is_share
    FROM raw
    WHERE eventName IN (
        -- create
        'CreateSnapshot', 'CreateSnapshots', 'CopySnapshot', 'CreateImage', 'CopyImage', 'CreateDBSnapshot',
        'CreateDBClusterSnapshot', 'CopyDBSnapshot', 'CopyDBClusterSnapshot', 'StartBackupJob', 'StartCopyJob',
        'StartSnapshot', 'CreateClusterSnapshot', 'CopyClusterSnapshot', 'CreateInstanceSnapshot',
        'CreateDiskSnapshot', 'CreateRestoreImageTask',
        -- share and unshare
        'ModifySnapshotAttribute', 'ModifyImageAttribute', 'ModifyDBSnapshotAttribute',
        'ModifyDBClusterSnapshotAttribute', 'AuthorizeSnapshotAccess', 'DisableSnapshotBlockPublicAccess',
        'DisableImageBlockPublicAccess', 'ResetSnapshotAttribute', 'ResetImageAttribute', 'RevokeSnapshotAccess',
        -- export
        'CreateInstanceExportTask', 'ExportImage', 'CreateStoreImageTask', 'StartExportTask',
        'ListSnapshotBlocks', 'ListChangedBlocks', 'GetSnapshotBlock')
),
classified AS (
    SELECT *,
        ok AND is_share AND (list_contains(groups_added, 'all') OR list_contains(accounts_added, 'all')) AS public_share,
        ok AND is_share AND len(list_filter(accounts_added, lambda x: x <> 'all' AND x <> account
            AND NOT list_contains({own_accounts}, x) AND NOT list_contains({trusted}, x))) > 0 AS external_share,
        ok AND is_share AND len(accounts_added) > 0 AS any_share,
        (isodow(t AT TIME ZONE 'UTC') >= 6) AS weekend,
        (isodow(t AT TIME ZONE 'UTC') >= 6
         OR hour(t AT TIME ZONE 'UTC') * 60 + minute(t AT TIME ZONE 'UTC') < {day_start}
         OR hour(t AT TIME ZONE 'UTC') * 60 + minute(t AT TIME ZONE 'UTC') >= {day_end}) AS off_hours
    FROM ops
),
summary AS (
    SELECT
        caller,
        to_timestamp(floor(epoch(t) / {window}) * {window}) AS window_start,
        count(*) FILTER (WHERE ok) AS snapshot_count,
        count(*) FILTER (WHERE public_share) AS public_share_count,
        count(*) FILTER (WHERE external_share AND NOT public_share) AS external_share_count,
        count(*) FILTER (WHERE any_share AND NOT external_share AND NOT public_share) AS internal_share_count,
        count(*) FILTER (WHERE ok AND off_hours) AS off_hours_count,
        count(*) FILTER (WHERE ok AND weekend) AS weekend_count,
        count(*) FILTER (WHERE NOT ok) AS failed_count
    FROM classified
    GROUP BY ALL
)
SELECT caller, epoch(window_start)::BIGINT AS window_start, snapshot_count, external_share_count,
       public_share_count, off_hours_count, weekend_count, failed_count,
       CASE WHEN external_share_count + public_share_count > 0 THEN 3
            WHEN snapshot_count > {bulk} AND off_hours_count > 0 THEN 3
            WHEN snapshot_count > {bulk} THEN 2 ELSE 1 END AS seed_score
FROM summary
WHERE snapshot_count > 1 OR external_share_count + public_share_count + internal_share_count > 0
ORDER BY caller, window_start;
