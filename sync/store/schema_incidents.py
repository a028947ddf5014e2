"""Migration 2: camera detections and the incidents they make (PROTOCOL.md, "Street cameras").

- `incidents`: one problem in one place (kind, the first sighting's point, its grid and
  street, its task, the number of sightings, first and last sighting by the hub's clock, the
  cameras that saw it as a JSON list, the latest snapshot's hash, and when a sighting was
  last written into the task's history). `incidents_rtree` (keyed by `rid`, a point box)
  makes "the same kind within the merge radius" an index lookup; an incident that can no
  longer be merged into or reopened leaves the R-tree, so it stays the size of the live
  incidents, not of the city's history.
- `detections`: every detection as received and what the hub did with it (`action`), with
  the fields a camera sent beyond PROTOCOL.md's in `extra`: nothing a camera sent is dropped
  without a trace. An incident's snapshots are its detections' snapshot hashes (index
  `detections_incident`), so a much-seen incident is not one ever-growing row.
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
    task_id TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    camera_ids TEXT NOT NULL DEFAULT '[]',
    latest_snapshot TEXT,
    noted_at TEXT);
CREATE INDEX incidents_task ON incidents(task_id);
CREATE VIRTUAL TABLE incidents_rtree USING rtree(id, minx, maxx, miny, maxy);
CREATE TABLE detections (
    id TEXT PRIMARY KEY,
    camera_id TEXT NOT NULL,
    key_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    lon REAL NOT NULL,
    lat REAL NOT NULL,
    confidence REAL NOT NULL,
    cleared INTEGER NOT NULL DEFAULT 0,
    detected_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    snapshot_sha256 TEXT,
    incident_id TEXT,
    task_id TEXT,
    action TEXT NOT NULL CHECK (action IN ('dispatched', 'queued', 'reopened', 'merged',
        'queued_for_triage', 'closed', 'noted')),
    extra TEXT NOT NULL DEFAULT '{}');
CREATE INDEX detections_incident ON detections(incident_id) WHERE incident_id IS NOT NULL;
"""
