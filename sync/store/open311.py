"""Citizens' Open311 GeoReport v2 requests in the store: each one a `reported` task.

Invariants (PROTOCOL.md "Open311 GeoReport v2"):
- A request becomes a task through the push path (`TaskMixin.push_in`), as a `task.create`
  op of the hub's own `system` actor with `source: citizen` and `triage: true`: the task is
  `reported` for the street office to triage, its grid and street come from the grid that
  holds the point (`DirectoryMixin.locate`), and its history, the `ops` ledger and the feed
  (readable under the task's keys, so the street's dispatchers see it) are written exactly
  as for any op, in the same write transaction as the request's own rows.
- A request that would be refused (a point in no grid, a bad field) writes nothing: it is
  checked before the transaction, and a refusal inside it rolls everything back.
- The reporter's personal fields go to `open311_reporters` and are read by nothing here:
  every read below selects named public columns only.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from .. import model
from .tasks import TaskMixin, task_from_row

# The hub acting for the citizen: the `system` actor of PROTOCOL.md, an admin in scope (it
# files in any street) that no one can log in as.
SYSTEM_USER: dict[str, Any] = {
    "id": model.SYSTEM_ID,
    "role": "admin",
    "street_code": None,
    "grid_codes": [],
}
PERSONAL_FIELDS = ("email", "phone", "first_name", "last_name", "device_id", "account_id")
# The public columns of a request, joined with its task, its street and its grid.
_SELECT = (
    "SELECT r.service_request_id, r.task_id, r.jurisdiction_id, r.service_code, "
    "r.description AS request_description, r.address_string, r.address_id, r.media_url, "
    "r.attributes, r.requested_at, t.*, s.name AS street_name, g.name AS grid_name "
    "FROM open311_requests r JOIN tasks t ON t.id = r.task_id "
    "LEFT JOIN streets s ON s.code = t.street_code LEFT JOIN grids g ON g.code = t.grid_code"
)


class Open311Error(ValueError):
    """A refusal in Open311's terms: the HTTP `status` (400, 403, 404) and a description
    for people. Nothing was written."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def store_time(value: datetime) -> str:
    """A time as the store writes it (`base.utc_now`'s form): text order is time order."""
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _record(row: Any) -> dict[str, Any]:
    """A request as the server presents it: its public fields, `task` (the task as it
    stands, internal fields included) and the names of its street and grid."""
    data = dict(row)
    task = task_from_row(row)
    for key in (
        "service_request_id",
        "task_id",
        "jurisdiction_id",
        "service_code",
        "request_description",
        "address_string",
        "address_id",
        "media_url",
        "attributes",
        "requested_at",
        "street_name",
        "grid_name",
    ):
        task.pop(key, None)
    return {
        "service_request_id": data["service_request_id"],
        "jurisdiction_id": data["jurisdiction_id"],
        "service_code": data["service_code"],
        "description": data["request_description"],
        "address_string": data["address_string"],
        "address_id": data["address_id"],
        "media_url": data["media_url"],
        "attributes": json.loads(data["attributes"]),
        "requested_at": data["requested_at"],
        "street_name": data["street_name"],
        "grid_name": data["grid_name"],
        "task": task,
    }


class Open311Mixin(TaskMixin):
    """Open311 requests: the API key check, filing a request, reading requests back."""

    def open311_key_name(self, key_hash: str) -> str | None:
        """The name of a live API key of purpose `open311` with this hash, else None (a
        camera key, a revoked or an unknown one). Read-only."""
        row = self.reader.execute(
            "SELECT name FROM api_keys WHERE key_hash = ? AND purpose = 'open311' "
            "AND revoked_at IS NULL",
            (key_hash,),
        ).fetchone()
        return str(row[0]) if row else None

    def add_open311_request(
        self,
        *,
        key_name: str,
        jurisdiction_id: str | None,
        service_code: str,
        lon: float,
        lat: float,
        title: str,
        task_description: str,
        due_hours: float | None,
        description: str | None,
        address_string: str | None,
        address_id: str | None,
        media_url: str | None,
        attributes: dict[str, Any],
        reporter: dict[str, str | None],
    ) -> dict[str, Any]:
        """Files a citizen's request: a `reported` task with `source: citizen` (its
        description `task_description`, due `due_hours` after now), the request's public
        row and the reporter's personal fields, in one write transaction.

        Raises `Open311Error` (400, nothing written) for a point in no grid or a task the
        push path refuses. Returns the request as `open311_request` reads it.
        """
        unknown = set(reporter) - set(PERSONAL_FIELDS)
        if unknown:
            raise ValueError(f"not a personal field: {sorted(unknown)}")
        clock = datetime.now(timezone.utc)
        now = store_time(clock)
        due_at = None if due_hours is None else store_time(clock + timedelta(hours=due_hours))
        task_id = str(uuid.uuid4())
        payload = {
            "kind": service_code,
            "lon": lon,
            "lat": lat,
            "title": title,
            "description": task_description,
            "priority": "normal",
            "due_at": due_at,
            "source": "citizen",
            "triage": True,
        }
        try:
            model.validate_payload("task.create", payload)
        except model.OpError as err:
            raise Open311Error(400, err.message) from None
        if self.locate(lon, lat) is None:
            raise Open311Error(
                400,
                "the point (lat, long) is outside every grid this hub serves: "
                "no street office looks after it",
            )
        op = {
            "op_id": str(uuid.uuid4()),
            "type": "task.create",
            "task_id": task_id,
            "at": now,
            "payload": payload,
        }
        with self.write() as conn:
            result = self.push_in(conn, SYSTEM_USER, f"open311:{key_name}"[:128], [op], now)[0]
            if result["status"] != "applied":
                # Raised inside the transaction: the ledger row and everything else roll back.
                raise Open311Error(400, f"the request was refused: {result['message']}")
            conn.execute(
                "INSERT INTO open311_requests(service_request_id, task_id, key_name, "
                "jurisdiction_id, service_code, description, address_string, address_id, "
                "media_url, attributes, requested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    task_id,
                    task_id,
                    key_name,
                    jurisdiction_id,
                    service_code,
                    description,
                    address_string,
                    address_id,
                    media_url,
                    json.dumps(attributes, ensure_ascii=False),
                    now,
                ),
            )
            conn.execute(
                "INSERT INTO open311_reporters(service_request_id, email, phone, first_name, "
                "last_name, device_id, account_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (task_id, *(reporter.get(name) for name in PERSONAL_FIELDS)),
            )
        found = self.open311_request(task_id)
        assert found is not None
        return found

    def open311_request(self, service_request_id: str) -> dict[str, Any] | None:
        """One request with its task as it stands now, or None. Read-only."""
        row = self.reader.execute(
            _SELECT + " WHERE r.service_request_id = ?", (service_request_id,)
        ).fetchone()
        return _record(row) if row else None

    def open311_requests(
        self,
        *,
        ids: list[str] | None = None,
        service_codes: list[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        statuses: list[str] | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Requests, newest first, at most `limit`. `ids` (when given) overrides every
        other filter; otherwise those requested within [`start`, `end`], of these service
        codes, whose Open311 status (`open`: the task is active; `closed`: it is final) is
        one of `statuses`. Reads through the `requested_at` index. Read-only."""
        where: list[str] = []
        args: list[Any] = []
        if ids is not None:
            where.append(f"r.service_request_id IN ({','.join('?' * len(ids))})")
            args += ids
        else:
            if start is not None:
                where.append("r.requested_at >= ?")
                args.append(store_time(start))
            if end is not None:
                where.append("r.requested_at <= ?")
                args.append(store_time(end))
            if service_codes:
                where.append(f"t.kind IN ({','.join('?' * len(service_codes))})")
                args += service_codes
            if statuses and set(statuses) != {"open", "closed"}:
                chosen = sorted(model.ACTIVE if "open" in statuses else model.FINAL)
                where.append(f"t.status IN ({','.join('?' * len(chosen))})")
                args += chosen
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY r.requested_at DESC, r.rowid DESC LIMIT ?"
        rows = self.reader.execute(sql, [*args, limit]).fetchall()
        return [_record(row) for row in rows]
