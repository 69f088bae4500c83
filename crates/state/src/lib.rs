//! The state store, SQLite in WAL mode under `--state DIR`:
//! - `seen`: every source event id already counted, so re-running an input counts nothing twice;
//! - `baseline`: first/last time and count of facts (principal did snapshot work, from this IP,
//!   with this agent; account shared to this target), the answer to "first seen?";
//! - `events`: relevant events of the recent past, so a chain split across runs still links;
//! - `alerts`: ids of alerts already reported, so a rerun reports nothing twice.
//!
//! A run's changes are one transaction: a run killed at any moment (kill -9) leaves the store as
//! it was before the run or as it is after it, never in between. Caps bound the store; what
//! they evict is counted.

use rusqlite::{Connection, OptionalExtension, params};
use snaptrail_model::{Alert, Baseline, Component, Event, ShareAction};
use std::path::{Path, PathBuf};

pub const FILE: &str = "snaptrail.db";

#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Retained events (for chains across runs).
    pub events: u64,
    /// Baseline facts.
    pub baseline: u64,
    /// Seen event ids (idempotency).
    pub seen: u64,
    /// Events older than this before the newest event are evicted (seconds).
    pub retention_secs: i64,
}

impl Default for Caps {
    fn default() -> Caps {
        Caps {
            events: 1_000_000,
            baseline: 2_000_000,
            seen: 20_000_000,
            retention_secs: 7 * 86400,
        }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CommitStats {
    pub new_events: u64,
    pub already_seen: u64,
    pub new_alerts: u64,
    pub evicted: u64,
}

pub struct Store {
    conn: Connection,
    pub path: PathBuf,
    caps: Caps,
    /// The counts of the run in progress.
    stats: std::cell::Cell<CommitStats>,
}

fn err(path: &Path, e: impl std::fmt::Display) -> String {
    format!("state store {}: {e}", path.display())
}

/// The default place: `$XDG_DATA_HOME/snaptrail`, else `~/.local/share/snaptrail`.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("snaptrail"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share/snaptrail"))
}

impl Store {
    pub fn open(dir: &Path, caps: Caps) -> Result<Store, String> {
        std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
        let path = dir.join(FILE);
        let conn = Connection::open(&path).map_err(|e| err(&path, e))?;
        // WAL with synchronous=NORMAL survives a killed process (not a power cut), and lets a
        // reader look while a run writes.
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=NORMAL;
             PRAGMA busy_timeout=10000;
             CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, time INTEGER NOT NULL) WITHOUT ROWID;
             CREATE INDEX IF NOT EXISTS seen_time ON seen(time);
             CREATE TABLE IF NOT EXISTS baseline (kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                 first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, count INTEGER NOT NULL,
                 PRIMARY KEY (kind, key, value)) WITHOUT ROWID;
             CREATE INDEX IF NOT EXISTS baseline_last ON baseline(last_seen);
             CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, time INTEGER NOT NULL, json TEXT NOT NULL) WITHOUT ROWID;
             CREATE INDEX IF NOT EXISTS events_time ON events(time);
             CREATE TABLE IF NOT EXISTS alerts (id TEXT PRIMARY KEY, detector TEXT NOT NULL, first_seen INTEGER NOT NULL,
                 reported_at_event_time INTEGER NOT NULL) WITHOUT ROWID;",
        )
        .map_err(|e| err(&path, e))?;
        Ok(Store {
            conn,
            path,
            caps,
            stats: Default::default(),
        })
    }

    /// Retained events with time in `[from, to]` (unix seconds), for chains across runs.
    pub fn retained(&self, from: i64, to: i64) -> Result<Vec<Event>, String> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT json FROM events WHERE time BETWEEN ?1 AND ?2 ORDER BY time")
            .map_err(|e| err(&self.path, e))?;
        let rows = stmt
            .query_map(params![from, to], |r| r.get::<_, String>(0))
            .map_err(|e| err(&self.path, e))?;
        let mut out = Vec::new();
        for row in rows {
            let json = row.map_err(|e| err(&self.path, e))?;
            // A row this version cannot read is skipped, not fatal: the store outlives versions.
            if let Ok(ev) = serde_json::from_str::<Event>(&json) {
                out.push(ev);
            }
        }
        Ok(out)
    }

    pub fn reported(&self, alert_id: &str) -> bool {
        self.conn
            .query_row(
                "SELECT 1 FROM alerts WHERE id = ?1",
                params![alert_id],
                |_| Ok(()),
            )
            .optional()
            .ok()
            .flatten()
            .is_some()
    }

    pub fn alert_ids(&self) -> Result<Vec<String>, String> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM alerts ORDER BY id")
            .map_err(|e| err(&self.path, e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| err(&self.path, e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| err(&self.path, e))
    }

    /// Record a run: its events (baseline counted once per source event id), the alerts it
    /// reported, then evict by age and by cap. One transaction.
    pub fn commit(
        &mut self,
        events: &[Event],
        alerts: &[Alert],
        learn_only: bool,
    ) -> Result<CommitStats, String> {
        self.begin_run()?;
        for ev in events {
            self.record(ev, learn_only)?;
        }
        self.end_run(alerts)
    }

    /// Start a run: one transaction until [`Store::end_run`]. A run killed before that leaves
    /// the store as it was. Facts of this run are staged apart until the end, so first-seen
    /// questions asked during the run are answered from earlier runs only.
    pub fn begin_run(&self) -> Result<(), String> {
        self.stats.set(CommitStats::default());
        self.conn
            .execute_batch(
                "BEGIN IMMEDIATE;
                 CREATE TEMP TABLE IF NOT EXISTS staged_facts (kind TEXT NOT NULL, key TEXT NOT NULL,
                     value TEXT NOT NULL, time INTEGER NOT NULL);
                 DELETE FROM temp.staged_facts;",
            )
            .map_err(|e| err(&self.path, e))
    }

    /// Record one event of the run; false if an earlier run (or this one) already had it.
    pub fn record(&self, ev: &Event, learn_only: bool) -> Result<bool, String> {
        let path = &self.path;
        let t = ev.time.as_second();
        // The same identity dedupe uses, so "seen" and "duplicate" agree.
        let key = ev.source_key();
        let mut stats = self.stats.take();
        let fresh = self
            .conn
            .prepare_cached("INSERT OR IGNORE INTO seen (id, time) VALUES (?1, ?2)")
            .and_then(|mut s| s.execute(params![key, t]))
            .map_err(|e| err(path, e))?
            > 0;
        if fresh {
            stats.new_events += 1;
            let mut fact = self
                .conn
                .prepare_cached(
                    "INSERT INTO temp.staged_facts (kind, key, value, time) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(|e| err(path, e))?;
            for (kind, k, v) in facts(ev) {
                fact.execute(params![kind, k, v, t])
                    .map_err(|e| err(path, e))?;
            }
            if !learn_only {
                let json = serde_json::to_string(ev).map_err(|e| err(path, e))?;
                self.conn
                    .prepare_cached(
                        "INSERT OR IGNORE INTO events (id, time, json) VALUES (?1, ?2, ?3)",
                    )
                    .and_then(|mut s| s.execute(params![key, t, json]))
                    .map_err(|e| err(path, e))?;
            }
        } else {
            stats.already_seen += 1;
        }
        self.stats.set(stats);
        Ok(fresh)
    }

    /// Finish the run: fold its facts into the baseline, record the alerts it reported, evict
    /// by age and cap, commit.
    pub fn end_run(&self, alerts: &[Alert]) -> Result<CommitStats, String> {
        let path = self.path.clone();
        let caps = self.caps;
        let tx = &self.conn;
        let mut stats = self.stats.take();
        tx.execute(
            "INSERT INTO baseline (kind, key, value, first_seen, last_seen, count)
             SELECT kind, key, value, min(time), max(time), count(*) FROM temp.staged_facts WHERE true
             GROUP BY kind, key, value
             ON CONFLICT (kind, key, value) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen),
             last_seen = max(last_seen, excluded.last_seen), count = count + excluded.count",
            [],
        )
        .map_err(|e| err(&path, e))?;
        tx.execute("DELETE FROM temp.staged_facts", [])
            .map_err(|e| err(&path, e))?;
        {
            let mut rep = tx
                .prepare_cached("INSERT OR IGNORE INTO alerts (id, detector, first_seen, reported_at_event_time) VALUES (?1, ?2, ?3, ?4)")
                .map_err(|e| err(&path, e))?;
            for a in alerts {
                stats.new_alerts += rep
                    .execute(params![
                        a.id,
                        a.detector,
                        a.first_seen.as_second(),
                        a.last_seen.as_second()
                    ])
                    .map_err(|e| err(&path, e))? as u64;
            }
        }
        // Eviction by age (event time, never the wall clock), then by cap.
        let newest: Option<i64> = tx
            .query_row("SELECT max(time) FROM events", [], |r| r.get(0))
            .map_err(|e| err(&path, e))?;
        if let Some(newest) = newest {
            stats.evicted += tx
                .execute(
                    "DELETE FROM events WHERE time < ?1",
                    params![newest - caps.retention_secs],
                )
                .map_err(|e| err(&path, e))? as u64;
        }
        for (table, order, cap) in [
            ("events", "time", caps.events),
            ("baseline", "last_seen", caps.baseline),
            ("seen", "time", caps.seen),
        ] {
            let n: i64 = tx
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .map_err(|e| err(&path, e))?;
            if n as u64 > cap {
                let excess = n as u64 - cap;
                // Delete everything older than the row `excess` places from the oldest.
                let threshold: i64 = tx
                    .query_row(
                        &format!("SELECT {order} FROM {table} ORDER BY {order} LIMIT 1 OFFSET ?1"),
                        params![excess as i64],
                        |r| r.get(0),
                    )
                    .map_err(|e| err(&path, e))?;
                stats.evicted += tx
                    .execute(
                        &format!("DELETE FROM {table} WHERE {order} < ?1"),
                        params![threshold],
                    )
                    .map_err(|e| err(&path, e))? as u64;
            }
        }
        tx.execute_batch("COMMIT").map_err(|e| err(&path, e))?;
        Ok(stats)
    }

    pub fn count(&self, table: &str) -> i64 {
        let sql = match table {
            "seen" => "SELECT count(*) FROM seen",
            "baseline" => "SELECT count(*) FROM baseline",
            "events" => "SELECT count(*) FROM events",
            _ => "SELECT count(*) FROM alerts",
        };
        self.conn.query_row(sql, [], |r| r.get(0)).unwrap_or(0)
    }
}

impl Baseline for Store {
    fn first_seen(&self, kind: &str, key: &str, value: &str) -> Option<i64> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT first_seen FROM baseline WHERE kind = ?1 AND key = ?2 AND value = ?3",
            )
            .ok()?;
        stmt.query_row(params![kind, key, value], |r| r.get(0))
            .optional()
            .ok()
            .flatten()
    }
}

/// The baseline facts one event contributes.
fn facts(ev: &Event) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    let snapshot_work = !matches!(ev.component, Component::Other | Component::Consume);
    if snapshot_work && ev.outcome.success {
        out.push(("principal", ev.principal.clone(), String::new()));
    }
    if let Some(ip) = &ev.source_ip {
        out.push(("principal-ip", ev.principal.clone(), ip.to_string()));
    }
    if let Some(ua) = &ev.user_agent {
        out.push(("principal-ua", ev.principal.clone(), ua.clone()));
    }
    if ev.component == Component::Share && ev.outcome.success {
        for t in ev
            .share_targets
            .iter()
            .filter(|t| t.action == ShareAction::Add)
        {
            out.push(("share-target", ev.account.to_string(), t.id.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use snaptrail_model::{Cloud, Outcome, PrincipalKind};

    fn ev(id: &str, t: i64, principal: &str) -> Event {
        Event {
            time: jiff::Timestamp::from_second(t).unwrap(),
            cloud: Cloud::Aws,
            account: "1".into(),
            region: None,
            principal: principal.into(),
            principal_kind: PrincipalKind::User,
            principal_account: None,
            invoked_by: None,
            source_ip: Some("203.0.113.1".into()),
            user_agent: None,
            service: "ec2".into(),
            operation: "CreateSnapshot".into(),
            component: Component::Create,
            resources: vec![],
            share_targets: vec![],
            outcome: Outcome {
                success: true,
                error_code: None,
            },
            request_tags: vec![],
            facts: vec![],
            event_id: id.into(),
            op_key: None,
            op_final: true,
            merged_ids: vec![],
            origin: String::new(),
        }
    }

    #[test]
    fn recommitting_the_same_events_counts_nothing_twice() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path(), Caps::default()).unwrap();
        let events = vec![ev("a", 100, "p"), ev("b", 200, "p")];
        let first = s.commit(&events, &[], false).unwrap();
        assert_eq!((first.new_events, first.already_seen), (2, 0));
        let again = s.commit(&events, &[], false).unwrap();
        assert_eq!((again.new_events, again.already_seen), (0, 2));
        let count: i64 = s
            .conn
            .query_row(
                "SELECT count FROM baseline WHERE kind='principal' AND key='p'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(count, 2);
        assert_eq!(s.first_seen("principal", "p", ""), Some(100));
        assert_eq!(s.first_seen("principal-ip", "p", "203.0.113.1"), Some(100));
        assert_eq!(s.first_seen("principal", "q", ""), None);
        assert_eq!(s.retained(0, 1000).unwrap().len(), 2);
    }

    #[test]
    fn caps_and_age_evict_and_count() {
        let dir = tempfile::tempdir().unwrap();
        let caps = Caps {
            events: 10,
            baseline: 5,
            seen: 1000,
            retention_secs: 1000,
        };
        let mut s = Store::open(dir.path(), caps).unwrap();
        let events: Vec<Event> = (0..50)
            .map(|i| ev(&format!("e{i}"), 10_000 + i * 10, &format!("p{i}")))
            .collect();
        let stats = s.commit(&events, &[], false).unwrap();
        assert!(stats.evicted > 0);
        assert!(s.count("events") <= 10, "{}", s.count("events"));
        assert!(s.count("baseline") <= 5 + 1, "{}", s.count("baseline"));
        // The newest survive.
        assert_eq!(s.first_seen("principal", "p49", ""), Some(10_490));
        let old: Vec<Event> = vec![ev("old", 1, "ancient")];
        s.commit(&old, &[], false).unwrap();
        assert!(
            s.retained(0, 5).unwrap().is_empty(),
            "older than the retention horizon"
        );
    }
}
