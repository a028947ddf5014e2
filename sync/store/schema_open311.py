"""Migration 3: citizens' requests through Open311 GeoReport v2 (PROTOCOL.md, "Open311").

`open311_requests` ties a `service_request_id` (and the POST's `token`) to its task and
keeps what the request carried beyond the task: the address and media URL (returned), and
the reporter's personal fields (email, phone, names, device, account: stored, never
returned).
"""

from __future__ import annotations

OPEN311_MIGRATION = """
CREATE TABLE open311_requests (
    service_request_id TEXT PRIMARY KEY,
    task_id TEXT UNIQUE NOT NULL,
    token TEXT UNIQUE,
    key_name TEXT NOT NULL,
    service_code TEXT NOT NULL,
    address_string TEXT,
    address_id TEXT,
    zipcode TEXT,
    media_url TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    private TEXT NOT NULL DEFAULT '{}',
    requested_at TEXT NOT NULL);
"""
