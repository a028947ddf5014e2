"""Migration 3: citizens' requests through Open311 GeoReport v2 (PROTOCOL.md, "Open311").

- `open311_requests`: one row per request a citizen's client POSTed. Its
  `service_request_id` is the id of the task it became (so the request, the task and the
  feed agree on one id); the row keeps what the request carried beyond the task and is
  public: the service code, the citizen's own description (the office may edit the task's,
  never this), the address and media URL, the attributes (JSON), the API key's name (which
  portal sent it) and the jurisdiction it named. `requested_at` (UTC, the hub's clock) is
  indexed: `GET requests` reads a date window through it.
- `open311_reporters`: the reporter's personal fields (email, phone, names, device,
  account), apart from everything that is ever returned: no endpoint reads this table.
"""

from __future__ import annotations

OPEN311_MIGRATION = """
CREATE TABLE open311_requests (
    service_request_id TEXT PRIMARY KEY,
    task_id TEXT UNIQUE NOT NULL REFERENCES tasks(id),
    key_name TEXT NOT NULL,
    jurisdiction_id TEXT,
    service_code TEXT NOT NULL,
    description TEXT,
    address_string TEXT,
    address_id TEXT,
    media_url TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    requested_at TEXT NOT NULL);
CREATE INDEX open311_requests_requested ON open311_requests(requested_at);
CREATE TABLE open311_reporters (
    service_request_id TEXT PRIMARY KEY REFERENCES open311_requests(service_request_id),
    email TEXT,
    phone TEXT,
    first_name TEXT,
    last_name TEXT,
    device_id TEXT,
    account_id TEXT);
"""
