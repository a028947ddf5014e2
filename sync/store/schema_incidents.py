"""Migration 2: camera detections and the incidents they make (PROTOCOL.md, "Street cameras").

- `incidents`: one problem in one place (kind, point, its task, sightings count, first and
  last sighting, cameras and snapshot hashes as JSON), with `incidents_rtree` (keyed by
  `rid`) so that "the same kind within the merge radius" is an index lookup.
- `detections`: every detection as received and what the hub did with it (`action`), so
  that nothing a camera sent is dropped without a trace.
"""

from __future__ import annotations

INCIDENTS_MIGRATION = """
CREATE TABLE incidents (
    rid INTEGER PRIMARY KEY,
    id TEXT UNIQUE NOT NULL,
    kind TEXT NOT NULL,
    lon REAL NOT NULL,
    lat REAL NOT NULL,
    street_code TEXT NOT NULL,
    grid_code TEXT NOT NULL,
    task_id TEXT,
    count INTEGER NOT NULL DEFAULT 0,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    camera_ids TEXT NOT NULL DEFAULT '[]',
    snapshots TEXT NOT NULL DEFAULT '[]');
CREATE INDEX incidents_task ON incidents(task_id);
CREATE VIRTUAL TABLE incidents_rtree USING rtree(id, minx, maxx, miny, maxy);
CREATE TABLE detections (
    id TEXT PRIMARY KEY,
    camera_id TEXT NOT NULL,
    key_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    lon REAL NOT NULL,
    lat REAL NOT NULL,
    confidence REAL,
    cleared INTEGER NOT NULL DEFAULT 0,
    detected_at TEXT,
    received_at TEXT NOT NULL,
    snapshot_sha256 TEXT,
    incident_id TEXT,
    task_id TEXT,
    action TEXT NOT NULL);
CREATE INDEX detections_incident ON detections(incident_id);
"""
