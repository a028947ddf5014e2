"""Open311 GeoReport v2 on a real hub over HTTP (PROTOCOL.md "Open311 GeoReport v2").

Covers: discovery, services and definitions in JSON and XML (the XML read with ElementTree
and its element names checked); a POST that becomes a `reported` citizen task in the street
dispatcher's feed (and not in another street's); GET requests with each of the
specification's filters; `open`/`closed` as the office triages, fixes, confirms or cancels;
personal fields stored but found in no answer; every refusal in the specification's error
list with its status and nothing written; and an Open311 client this project did not write
(`georeport` from PyPI) reading services and requests in JSON and XML.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
from conftest import HttpDevice, jpeg, op

from sync import model

KEY = "demo-open311-key"
CAMERA_KEY = "demo-camera-key"
SERVICE_CHILDREN = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
REQUEST_CHILDREN = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
PERSONAL = {
    "email": "wang.xiaoming.4471@example.cn",
    "phone": "+86 139 1234 5678",
    "first_name": "晓明甲",
    "last_name": "王乙丙",
    "device_id": "device-7f3a9c21-private",
    "account_id": "acct-55019-private",
}


class Open311:
    """A citizen's client and the office's view of one live hub."""

    def __init__(self, live: Any) -> None:
        self.live = live
        self.hub = live.hub
        self.base = f"{live.url}/open311/v2"
        self.seen: list[str] = []  # every answer body, to search for personal data

    def get(self, path: str, **params: Any) -> requests.Response:
        headers = params.pop("headers", None)
        resp = requests.get(f"{self.base}/{path}", params=params, headers=headers, timeout=10)
        self.seen.append(resp.text)
        return resp

    def post(self, fmt: str = "json", **fields: Any) -> requests.Response:
        resp = requests.post(f"{self.base}/requests.{fmt}", data=fields, timeout=10)
        self.seen.append(resp.text)
        return resp

    def report(self, service_code: str, lon: float, lat: float, **fields: Any) -> str:
        """Posts a report that must be accepted; returns its service_request_id."""
        resp = self.post(api_key=KEY, service_code=service_code, lat=lat, long=lon, **fields)
        assert resp.status_code == 201, resp.text
        body = resp.json()
        assert isinstance(body, list) and len(body) == 1, body
        return str(body[0]["service_request_id"])

    def one(self, service_request_id: str, lang: str = "zh") -> dict[str, Any]:
        resp = self.get(f"requests/{service_request_id}.json", headers={"Accept-Language": lang})
        assert resp.status_code == 200, resp.text
        [item] = resp.json()
        return dict(item)


class Office(HttpDevice):
    """A street-office account over the hub's own API; every op it pushes must apply."""

    def __init__(self, url: str, username: str) -> None:
        super().__init__(url, username, device="pc")

    def push(self, *ops: dict[str, Any]) -> list[dict[str, Any]]:
        results = super().push(*ops)
        assert [r["status"] for r in results] == ["applied"] * len(ops), results
        return results


@pytest.fixture
def o311(live_hub: Any) -> Open311:
    return Open311(live_hub)


def point_in(hub: Any, street: str, grid_code: str | None = None) -> tuple[float, float, str]:
    """(lon, lat, grid_code) of a demo task's point in the street (or in that grid): demo
    points lie inside their grids."""
    sql = "SELECT lon, lat, grid_code FROM tasks WHERE street_code = ?"
    args: list[Any] = [street]
    if grid_code:
        sql += " AND grid_code = ?"
        args.append(grid_code)
    lon, lat, grid = hub.store.reader.execute(sql + " ORDER BY id LIMIT 1", args).fetchone()
    assert hub.store.locate(lon, lat) == (grid, street)
    return float(lon), float(lat), str(grid)


def xml_of(resp: requests.Response) -> ET.Element:
    assert resp.headers["content-type"].startswith("text/xml"), resp.headers
    assert resp.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>'), resp.content[:60]
    return ET.fromstring(resp.content)


def children(element: ET.Element) -> list[str]:
    return [child.tag for child in element]


def counts(hub: Any) -> dict[str, int]:
    reader = hub.store.reader
    return {
        table: int(reader.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        for table in ("tasks", "ops", "changes", "open311_requests", "open311_reporters")
    }


# ------------------------------------------------------------------- discovery and services


def test_discovery_in_json_and_xml(o311: Open311) -> None:
    body = o311.get("discovery.json").json()
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    [endpoint] = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == o311.base
    assert endpoint["type"] == "production"
    assert sorted(endpoint["formats"]) == ["application/json", "text/xml"]

    root = xml_of(o311.get("discovery.xml"))
    assert root.tag == "discovery"
    assert children(root) == ["changeset", "contact", "key_service", "endpoints"]
    [endpoint_xml] = root.find("endpoints")  # type: ignore[union-attr]
    assert endpoint_xml.tag == "endpoint"
    assert endpoint_xml.findtext("url") == o311.base
    assert [f.text for f in endpoint_xml.find("formats")] == ["text/xml", "application/json"]  # type: ignore[union-attr]
    assert [f.tag for f in endpoint_xml.find("formats")] == ["format", "format"]  # type: ignore[union-attr]


def test_services_in_json_and_xml_with_chinese_and_english_names(o311: Open311) -> None:
    services = o311.get("services.json").json()
    assert [s["service_code"] for s in services] == list(model.KINDS)
    for service in services:
        assert list(service) == SERVICE_CHILDREN
        assert service["type"] == "realtime"
        assert isinstance(service["metadata"], bool)
    by_code = {s["service_code"]: s for s in services}
    assert by_code["waterlogging"]["service_name"] == "路面积水"
    assert by_code["waterlogging"]["group"] == "防汛排水"
    assert by_code["waterlogging"]["metadata"] is True
    assert by_code["illegal_drying"]["metadata"] is False
    # Both languages are in the keywords, whichever language the answer is in.
    assert "Waterlogged road" in by_code["waterlogging"]["keywords"]

    english = o311.get("services.json", headers={"Accept-Language": "en-GB,en;q=0.9"}).json()
    assert {s["service_code"]: s["service_name"] for s in english}["waterlogging"] == (
        "Waterlogged road"
    )
    assert {s["service_code"]: s["group"] for s in english}["litter"] == "City appearance"

    root = xml_of(o311.get("services.xml", jurisdiction_id="gridops"))
    assert root.tag == "services"
    assert children(root) == ["service"] * len(model.KINDS)
    for element in root:
        assert children(element) == SERVICE_CHILDREN
        assert element.findtext("metadata") in ("true", "false")
        assert element.findtext("type") == "realtime"
    assert [e.findtext("service_code") for e in root] == list(model.KINDS)
    assert root[0].findtext("service_name") == "路面垃圾堆积"


def test_service_definitions_in_json_and_xml(o311: Open311) -> None:
    definition = o311.get("services/waterlogging.json").json()
    assert definition["service_code"] == "waterlogging"
    depth = definition["attributes"][0]
    assert list(depth) == [
        "variable",
        "code",
        "datatype",
        "required",
        "datatype_description",
        "order",
        "description",
        "values",
    ]
    assert depth["code"] == "depth" and depth["required"] is True and depth["order"] == 1
    assert depth["datatype"] == "singlevaluelist"
    assert [v["key"] for v in depth["values"]] == ["ankle", "knee", "deeper"]
    assert depth["values"][1]["name"] == "没过膝盖"

    root = xml_of(o311.get("services/manhole_damaged.xml"))
    assert root.tag == "service_definition"
    assert children(root) == ["service_code", "attributes"]
    [attribute] = root.find("attributes")  # type: ignore[union-attr]
    assert attribute.tag == "attribute"
    assert attribute.findtext("required") == "true"
    assert attribute.findtext("variable") == "true"
    values = attribute.find("values")
    assert values is not None and children(values) == ["value"] * 4
    assert children(values[0]) == ["key", "name"]
    assert values[0].findtext("key") == "missing"

    lists = o311.get("services/bike_parking.json").json()["attributes"]
    assert [(a["code"], a["datatype"]) for a in lists] == [
        ("bike_count", "number"),
        ("blocking", "multivaluelist"),
    ]
    empty = o311.get("services/illegal_drying.xml")
    assert children(xml_of(empty).find("attributes")) == []  # type: ignore[arg-type]

    assert o311.get("services/potholes.json").json() == [
        {"code": 404, "description": "service_code 'potholes' not found"}
    ]
    missing = o311.get("services/potholes.xml")
    assert missing.status_code == 404
    errors = xml_of(missing)
    assert errors.tag == "errors" and children(errors) == ["error"]
    assert children(errors[0]) == ["code", "description"]
    assert errors[0].findtext("code") == "404"


# ------------------------------------------------------------------- posting


def test_post_becomes_a_reported_citizen_task_in_the_street_office_feed(live_hub: Any) -> None:
    o311 = Open311(live_hub)
    jsl = Office(live_hub.url, "jsl-dispatcher")
    hm = Office(live_hub.url, "hm-dispatcher")
    jsl.pull()
    hm.pull()
    lon, lat, grid = point_in(live_hub.hub, "JSL")

    resp = o311.post(
        "xml",
        api_key=KEY,
        service_code="waterlogging",
        lat=lat,
        long=lon,
        description="路口积水很深，\n电动车过不去。",
        address_string="江苏路与延安西路路口",
        media_url="https://photos.example.cn/flood/123.jpg",
        **{"attribute[depth]": "knee", "attribute[passable]": "no"},
    )
    assert resp.status_code == 201, resp.text
    root = xml_of(resp)
    assert root.tag == "service_requests" and children(root) == ["request"]
    assert children(root[0]) == ["service_request_id", "service_notice", "account_id"]
    assert root[0].find("account_id") is not None and root[0].findtext("account_id") == ""
    assert "4小时" in (root[0].findtext("service_notice") or "")
    request_id = root[0].findtext("service_request_id") or ""
    assert model.is_uuid(request_id)

    # The street's dispatcher reads it in the feed: a `reported` citizen task for triage.
    changes = [c for c in jsl.pull() if c["entity"] == "task" and c["id"] == request_id]
    assert len(changes) == 1 and changes[0]["op"] == "upsert"
    task = changes[0]["data"]
    assert task["status"] == "reported"
    assert task["source"] == "citizen"
    assert (task["grid_code"], task["street_code"]) == (grid, "JSL")
    assert (task["lon"], task["lat"]) == (lon, lat)
    assert task["kind"] == "waterlogging"
    assert task["title"] == "市民上报：路面积水"
    assert task["assignee_id"] is None
    for text in ("电动车过不去", "积水有多深：没过膝盖", "行人和车辆还能通过吗：无法通过"):
        assert text in task["description"]
    assert "江苏路与延安西路路口" in task["description"]
    assert "https://photos.example.cn/flood/123.jpg" in task["description"]
    [created] = task["history"]
    assert created["type"] == "task.create" and created["actor_id"] == "system"
    assert created["payload"]["source"] == "citizen"
    assert task["due_at"] is not None
    # Another street's office does not see it.
    assert all(c["id"] != request_id for c in hm.pull())

    item = o311.one(request_id)
    assert list(item) == REQUEST_CHILDREN
    assert item["service_request_id"] == request_id
    assert item["status"] == "open"
    assert item["status_notes"] == "已收到，等待街道办事处受理"
    assert item["service_code"] == "waterlogging" and item["service_name"] == "路面积水"
    assert item["description"] == "路口积水很深，\n电动车过不去。"
    assert item["agency_responsible"] == "江苏路街道办事处"
    assert item["address"] == "江苏路与延安西路路口"
    assert item["media_url"] == "https://photos.example.cn/flood/123.jpg"
    assert (item["lat"], item["long"]) == (lat, lon)
    due = datetime.fromisoformat(task["due_at"].replace("Z", "+00:00"))
    assert item["expected_datetime"] == due.strftime("%Y-%m-%dT%H:%M:%SZ")
    requested = datetime.fromisoformat(item["requested_datetime"].replace("Z", "+00:00"))
    assert timedelta(hours=4) <= due - requested < timedelta(hours=4, seconds=1)
    assert item["updated_datetime"] == item["requested_datetime"]

    # The same request in XML, every element in the specification's order.
    root = xml_of(o311.get(f"requests/{request_id}.xml"))
    assert root.tag == "service_requests" and children(root) == ["request"]
    assert children(root[0]) == REQUEST_CHILDREN
    assert root[0].findtext("status") == "open"
    assert root[0].findtext("lat") == str(lat)
    # Its token (every service is realtime: a request's token is its id).
    token = o311.get(f"tokens/{request_id}.json").json()
    assert token == [{"service_request_id": request_id, "token": request_id}]
    token_xml = xml_of(o311.get(f"tokens/{request_id}.xml"))
    assert children(token_xml[0]) == ["service_request_id", "token"]

    # A service without attributes, posted as JSON, lands in HM's office.
    hm_lon, hm_lat, _ = point_in(live_hub.hub, "HM")
    other = o311.report("illegal_drying", hm_lon, hm_lat, description="阳台衣服挂到人行道上")
    assert any(c["id"] == other for c in hm.pull())
    assert o311.one(other)["agency_responsible"] == "花木街道办事处"
    assert o311.one(other)["address"].startswith("花木街道 ")


def test_personal_fields_are_stored_but_never_returned(live_hub: Any) -> None:
    o311 = Open311(live_hub)
    office = Office(live_hub.url, "jsl-dispatcher")
    office.pull()
    lon, lat, _ = point_in(live_hub.hub, "JSL")
    request_id = o311.report("litter", lon, lat, description="垃圾堆在门口", **PERSONAL)
    xml_post = o311.post("xml", api_key=KEY, service_code="other", lat=lat, long=lon, **PERSONAL)
    assert xml_post.status_code == 201

    stored = live_hub.hub.store.reader.execute(
        "SELECT email, phone, first_name, last_name, device_id, account_id "
        "FROM open311_reporters WHERE service_request_id = ?",
        (request_id,),
    ).fetchone()
    assert dict(stored) == PERSONAL

    for fmt in ("json", "xml"):
        o311.get(f"requests.{fmt}")
        o311.get(f"requests.{fmt}", service_request_id=request_id)
        o311.get(f"requests/{request_id}.{fmt}")
        o311.get(f"tokens/{request_id}.{fmt}")
        o311.get(f"services.{fmt}")
        o311.get(f"discovery.{fmt}")
    # Nor through the office's own API: the task, the feed.
    o311.seen.append(office.session.get(f"{live_hub.url}/api/v1/tasks/{request_id}").text)
    o311.seen.append(json.dumps(office.pull(), ensure_ascii=False))
    task = office.session.get(f"{live_hub.url}/api/v1/tasks/{request_id}").json()
    assert task["source"] == "citizen"
    everything = "\n".join(o311.seen)
    assert request_id in everything  # the searched answers are the right ones
    for name, value in PERSONAL.items():
        assert value not in everything, f"{name} leaked"


# ------------------------------------------------------------------- reading requests


def test_get_requests_with_each_filter(live_hub: Any) -> None:
    o311 = Open311(live_hub)
    hub = live_hub.hub
    jsl_lon, jsl_lat, _ = point_in(hub, "JSL")
    hm_lon, hm_lat, _ = point_in(hub, "HM")
    litter = o311.report("litter", jsl_lon, jsl_lat, description="一")
    water = o311.report("waterlogging", jsl_lon, jsl_lat, **{"attribute[depth]": "ankle"})
    manhole = o311.report("manhole_damaged", hm_lon, hm_lat, **{"attribute[state]": "missing"})
    old = o311.report("other", hm_lon, hm_lat, description="很久以前的上报")
    long_ago = datetime.now(timezone.utc) - timedelta(days=120)
    with hub.store.write() as conn:
        conn.execute(
            "UPDATE open311_requests SET requested_at = ? WHERE service_request_id = ?",
            (long_ago.strftime("%Y-%m-%dT%H:%M:%S.000Z"), old),
        )

    def ids(fmt: str = "json", **params: Any) -> list[str]:
        resp = o311.get(f"requests.{fmt}", **params)
        assert resp.status_code == 200, resp.text
        if fmt == "json":
            return [item["service_request_id"] for item in resp.json()]
        root = xml_of(resp)
        assert root.tag == "service_requests"
        assert all(child.tag == "request" for child in root)
        return [child.findtext("service_request_id") or "" for child in root]

    # By default the last 90 days, newest first: the backdated one is not there.
    assert ids() == [manhole, water, litter]
    assert ids("xml") == [manhole, water, litter]
    # service_request_id (comma-separated) overrides every other filter, even the dates.
    assert sorted(ids(service_request_id=f"{litter},{old}")) == sorted([litter, old])
    assert ids(service_request_id=litter, service_code="manhole_damaged") == [litter]
    # service_code, one or several.
    assert ids(service_code="litter") == [litter]
    assert ids("xml", service_code="litter,manhole_damaged") == [manhole, litter]
    # start_date / end_date (W3C, with a zone), at most 90 days apart.
    now = datetime.now(timezone.utc)
    w3 = "%Y-%m-%dT%H:%M:%SZ"
    assert ids(
        start_date=(now - timedelta(days=130)).strftime(w3),
        end_date=(now - timedelta(days=100)).strftime(w3),
    ) == [old]
    assert ids(start_date=(now - timedelta(hours=1)).strftime(w3)) == [manhole, water, litter]
    assert ids(end_date=(now - timedelta(days=100)).strftime(w3)) == [old]
    assert ids(start_date=(now + timedelta(hours=1)).strftime(w3)) == []
    east = (now - timedelta(hours=1)).astimezone(timezone(timedelta(hours=8)))
    assert ids(start_date=east.isoformat(timespec="seconds")) == [manhole, water, litter]
    # status
    assert ids(status="open") == [manhole, water, litter]
    assert ids(status="closed") == []
    office = Office(live_hub.url, "hm-dispatcher")
    task = hub.store.get_task(manhole)
    office.push(op("task.cancel", manhole, reason="已由供水公司处理", base_version=task["version"]))
    assert ids(status="closed") == [manhole]
    assert ids("xml", status="open") == [water, litter]
    assert ids(status="open,closed") == [manhole, water, litter]
    assert ids(status="closed", service_code="litter") == []
    # The jurisdiction this hub answers to.
    assert ids(jurisdiction_id="gridops", service_code="litter") == [litter]


def test_status_open_then_closed_as_the_office_works(live_hub: Any) -> None:
    o311 = Open311(live_hub)
    hub = live_hub.hub
    lon, lat, grid = point_in(hub, "JSL", "JSL-03")
    fixed = o311.report("litter", lon, lat, description="门口一堆垃圾")
    canceled = o311.report("bike_parking", lon, lat, **{"attribute[blocking][]": "entrance"})
    refused = o311.report("other", lon, lat, description="隔壁太吵")
    dispatcher = Office(live_hub.url, "jsl-dispatcher")
    supervisor = Office(live_hub.url, "jsl-supervisor")
    worker = Office(live_hub.url, "jsl-worker-03")
    assert grid == "JSL-03"

    dispatcher.push(op("task.triage", fixed, decision="accept"))
    assert o311.one(fixed)["status"] == "open"
    assert o311.one(fixed)["status_notes"] == "街道办事处已受理"
    dispatcher.push(op("task.assign", fixed, assignee_id="jsl-worker-03"))
    assert o311.one(fixed)["status_notes"] == "已安排网格员处理"
    assert o311.one(fixed, "en")["status_notes"] == "A grid worker has been assigned"
    data, sha = jpeg(7)
    worker.upload(data, sha)
    worker.push(op("task.start", fixed))
    worker.push(op("task.submit", fixed, note="已清运", photos=[{"sha256": sha, "role": "after"}]))
    submitted = o311.one(fixed)
    assert submitted["status"] == "open"
    assert submitted["status_notes"] == "已处理，等待核查：已清运"
    # A comment is internal: the notes still say what last happened.
    dispatcher.push(op("task.comment", fixed, text="请督查员尽快核查"))
    assert o311.one(fixed)["status_notes"] == "已处理，等待核查：已清运"
    supervisor.push(op("task.confirm", fixed, note="现场已清理干净"))
    done = o311.one(fixed)
    assert done["status"] == "closed"
    assert done["status_notes"] == "已办结：现场已清理干净"
    assert o311.one(fixed, "en")["status_notes"] == "Done: 现场已清理干净"
    closed_at = hub.store.get_task(fixed)["updated_at"]
    assert done["updated_datetime"] == closed_at[:19] + "Z"

    dispatcher.push(op("task.triage", canceled, decision="accept"))
    dispatcher.push(op("task.cancel", canceled, reason="单车已由运营公司清走"))
    item = o311.one(canceled)
    assert item["status"] == "closed"
    assert item["status_notes"] == "已撤销：单车已由运营公司清走"

    dispatcher.push(op("task.triage", refused, decision="invalid", reason="噪音问题请拨打110"))
    root = xml_of(o311.get(f"requests/{refused}.xml"))
    assert root[0].findtext("status") == "closed"
    assert root[0].findtext("status_notes") == "未予受理：噪音问题请拨打110"

    supervisor.push(op("task.reopen", fixed, reason="群众反映又有垃圾"))
    again = o311.one(fixed)
    assert again["status"] == "open"
    assert again["status_notes"] == "已重新开启处理：群众反映又有垃圾"


# ------------------------------------------------------------------- refusals


def test_refused_posts_answer_the_spec_errors_and_write_nothing(live_hub: Any) -> None:
    o311 = Open311(live_hub)
    hub = live_hub.hub
    lon, lat, _ = point_in(hub, "JSL")
    revoked = "revoked-open311-key"
    from sync.server.auth import secret_hash

    hub.store.add_api_key(secret_hash(revoked), "old-portal", "open311")
    hub.store.revoke_api_key("old-portal")
    good = {"api_key": KEY, "service_code": "litter", "lat": lat, "long": lon}
    before = counts(hub)

    def refused(status: int, words: str, fmt: str = "json", **fields: Any) -> None:
        resp = o311.post(fmt, **fields)
        assert resp.status_code == status, (fields, resp.text)
        if fmt == "json":
            assert resp.headers["content-type"].startswith("application/json")
            [error] = resp.json()
            assert list(error) == ["code", "description"]
            assert error["code"] == status
            description = error["description"]
        else:
            root = xml_of(resp)
            assert root.tag == "errors" and children(root) == ["error"]
            assert children(root[0]) == ["code", "description"]
            assert root[0].findtext("code") == str(status)
            description = root[0].findtext("description") or ""
        assert words in description, description

    no_key = {k: v for k, v in good.items() if k != "api_key"}
    refused(403, "api_key", **no_key)
    refused(403, "api_key", "xml", **no_key)
    refused(403, "api_key", **{**good, "api_key": "not-a-key"})
    refused(403, "api_key", "xml", **{**good, "api_key": CAMERA_KEY})
    refused(403, "api_key", **{**good, "api_key": revoked})
    refused(404, "jurisdiction_id", **good, jurisdiction_id="sfgov.org")
    refused(
        400, "service_code is required", **{k: v for k, v in good.items() if k != "service_code"}
    )
    refused(404, "potholes", "xml", **{**good, "service_code": "potholes"})
    refused(
        400,
        "does not geocode",
        api_key=KEY,
        service_code="litter",
        address_string="江苏路100号",
    )
    refused(400, "lat and long are required", api_key=KEY, service_code="litter", lat=lat)
    refused(400, "lat must be within", **{**good, "lat": 91})
    refused(400, "long must be a number", "xml", **{**good, "long": "121度"})
    refused(400, "lat must be within", **{**good, "lat": "nan"})
    refused(400, "outside every grid", **{**good, "lat": 39.9, "long": 116.4})
    refused(400, "attribute[depth] is required", **{**good, "service_code": "waterlogging"})
    refused(
        400,
        "must be one of ankle, knee, deeper",
        **{**good, "service_code": "waterlogging", "attribute[depth]": "waist"},
    )
    refused(400, "not part of service litter", **{**good, "attribute[colour]": "red"})
    refused(
        400,
        "attribute[bike_count] must be a number",
        **{
            **good,
            "service_code": "bike_parking",
            "attribute[bike_count]": "many",
        },
    )
    refused(400, "unknown field 'reporter'", **good, reporter="me")
    refused(400, "media_url", **good, media_url="javascript:alert(1)")
    refused(400, "longer than 4000", **good, description="堆" * 4001)
    refused(400, "control character", **good, description="bad\x00byte")
    refused(400, "email", **good, email="not an email")
    # A field given twice, and a body that is not form-encoded.
    twice = requests.post(
        f"{o311.base}/requests.json",
        data=[*good.items(), ("lat", lat)],
        timeout=10,
    )
    assert twice.status_code == 400 and "more than once" in twice.text
    as_json = requests.post(f"{o311.base}/requests.json", json=good, timeout=10)
    assert (
        as_json.status_code == 400 and "x-www-form-urlencoded" in as_json.json()[0]["description"]
    )
    assert counts(hub) == before

    # The same body with a good key is taken: the refusals above were for their reasons.
    ok = o311.post(**good)
    assert ok.status_code == 201, ok.text
    assert counts(hub)["open311_requests"] == before["open311_requests"] + 1


def test_bad_reads_answer_the_spec_errors(o311: Open311) -> None:
    now = datetime.now(timezone.utc)
    w3 = "%Y-%m-%dT%H:%M:%SZ"

    def error(path: str, code: int, words: str, **params: Any) -> None:
        resp = o311.get(path, **params)
        assert resp.status_code == code, (path, params, resp.text)
        if path.endswith(".json"):
            [item] = resp.json()
            assert item["code"] == code and words in item["description"], item
        else:
            root = xml_of(resp)
            assert root.tag == "errors"
            assert root[0].findtext("code") == str(code)
            assert words in (root[0].findtext("description") or "")

    wide = {
        "start_date": (now - timedelta(days=91)).strftime(w3),
        "end_date": now.strftime(w3),
    }
    error("requests.json", 400, "more than 90 days", **wide)
    error("requests.xml", 400, "more than 90 days", **wide)
    error(
        "requests.json",
        400,
        "before start_date",
        start_date=now.strftime(w3),
        end_date=(now - timedelta(days=1)).strftime(w3),
    )
    error("requests.json", 400, "start_date must be a W3C", start_date="2026-06-01")
    error("requests.xml", 400, "end_date must be a W3C", end_date="yesterday")
    error("requests.json", 400, "status must be open or closed", status="pending")
    error("requests.json", 400, "unknown service_code", service_code="litter,graffiti")
    error("requests.json", 400, "not a request id", service_request_id="12345")
    error("requests.json", 404, "jurisdiction_id", jurisdiction_id="sfgov.org")
    error("requests/5c0f3a52-9f2e-4c55-a2bc-1d7e0c3b1a40.json", 404, "not found")
    error("requests/not-an-id.xml", 404, "not found")
    error("tokens/5c0f3a52-9f2e-4c55-a2bc-1d7e0c3b1a40.xml", 404, "not found")
    error("services.csv", 404, "unknown format")
    error("requests", 404, "no such GeoReport v2 resource")
    resp = requests.delete(f"{o311.base}/services.json", timeout=10)
    assert resp.status_code == 405 and resp.json()[0]["code"] == 405


# ------------------------------------------------------------------- a client we did not write


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_client_reads_services_and_requests(live_hub: Any, fmt: str) -> None:
    """`georeport` (PyPI, Apache-2.0, not written here) reads the hub as it reads a city."""
    from georeport import GeoReport

    o311 = Open311(live_hub)
    lon, lat, _ = point_in(live_hub.hub, "JSL")
    first = o311.report("litter", lon, lat, description="第一条")
    second = o311.report("waterlogging", lon, lat, **{"attribute[depth]": "deeper"})
    client = GeoReport(o311.base, jurisdiction="gridops", output_format=fmt)

    services = client.get_service_list()
    assert [s["service_code"] for s in services] == list(model.KINDS)
    assert services[3]["service_name"] == "路面积水"
    assert str(services[3]["metadata"]).lower() == "true"

    definition = client.get_service_definition("waterlogging")
    attributes = definition["attributes"]
    depth = attributes[0] if fmt == "json" else attributes["attribute"][0]
    assert depth["code"] == "depth"
    values = depth["values"] if fmt == "json" else depth["values"]["value"]
    assert [v["key"] for v in values] == ["ankle", "knee", "deeper"]

    listed = client.get_service_requests()
    assert [r["service_request_id"] for r in listed] == [second, first]
    assert listed[0]["status"] == "open"
    assert listed[0]["agency_responsible"] == "江苏路街道办事处"
    assert float(listed[0]["lat"]) == lat and float(listed[0]["long"]) == lon

    by_code = client.get_service_requests(service_code="waterlogging,litter", status="open")
    assert len(by_code) == 2
    start = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ranged = client.get_service_requests(start_date=start, service_request_id=None)
    assert {r["service_request_id"] for r in ranged} == {first, second}

    one = client.get_service_request(first)
    assert one["service_request_id"] == first
    assert one["service_name"] == "路面垃圾堆积"
    assert one["description"] == "第一条"


# ------------------------------------------------------------------- found, not fixed here


def test_the_system_id_is_reserved(live_hub: Any) -> None:
    """Tasks the hub files itself carry reporter_id "system": no account may take that id,
    or it would read every one of them as their reporter."""
    from sync.server.auth import hash_password

    hub = live_hub.hub
    before = hub.store.reader.execute("SELECT COUNT(*) FROM users").fetchone()[0]
    for user_id, username in (("system", "sys-worker"), ("sys-worker", "system")):
        with pytest.raises(ValueError, match="reserved"):
            hub.store.add_user(
                user_id=user_id,
                username=username,
                display_name="系统",
                role="worker",
                street_code="HM",
                password_hash=hash_password("demo"),
                grid_codes=["HM-01"],
            )
    assert hub.store.reader.execute("SELECT COUNT(*) FROM users").fetchone()[0] == before
