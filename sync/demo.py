"""Seeds the demo district of PROTOCOL.md into a hub, deterministically.

Streets JSL and HM, grids `JSL-01..12` and `HM-01..12`, the twin layers of
`sync.demo_district`, the pinned accounts (password `demo`), the camera and Open311 keys,
and a few dozen tasks in every status. Tasks are made the way real ones are: by pushing ops
as the people who would send them (dispatcher, workers, supervisor), with real photos from
`sync.demo_photos`, so their history, photos and conflicts are what the hub itself writes.
Times are backdated over the last week so that overdue marks and statistics have
something to show.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from . import demo_district
from .server.auth import hash_password, secret_hash
from .server.hub import Hub

DEMO_PASSWORD = "demo"
CAMERA_KEY = "demo-camera-key"
OPEN311_KEY = "demo-open311-key"
SEED = 20260601
_NS = uuid.UUID("6f1c1a52-8d7e-4c1e-9a53-9d3c2b7e0a11")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "秀英",
    "桂英",
    "建华",
    "志强",
    "玥",
    "喆",
    "堃",
    "晓燕",
]
KIND_TITLES = {
    "litter": "路面垃圾堆积",
    "bike_parking": "共享单车乱停放",
    "illegal_drying": "沿街晾晒",
    "waterlogging": "路面积水",
    "streetlight_out": "路灯不亮",
    "manhole_damaged": "井盖破损",
    "other": "其他问题",
}


def _uid(*parts: Any) -> str:
    return str(uuid.uuid5(_NS, "/".join(str(p) for p in parts)))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def is_seeded(hub: Hub) -> bool:
    return hub.store.get_meta("demo_seeded") is not None


def seed(hub: Hub, *, now: datetime | None = None, tasks: bool = True) -> dict[str, int]:
    """Creates the demo district in an empty hub; returns counts. Not for a hub in use."""
    if is_seeded(hub):
        raise RuntimeError("the demo district is already there")
    store = hub.store
    rng = random.Random(SEED)
    for street in demo_district.STREETS:
        store.upsert_street(street["code"], street["name"], street["district"])
    grid_list = demo_district.grids(SEED)
    store.upsert_grids(grid_list)
    password = hash_password(DEMO_PASSWORD)
    store.add_user(
        user_id="admin",
        username="admin",
        display_name="系统管理员",
        role="admin",
        street_code=None,
        password_hash=password,
    )
    for street in demo_district.STREETS:
        code, low = street["code"], street["code"].lower()
        store.add_user(
            user_id=f"{low}-dispatcher",
            username=f"{low}-dispatcher",
            display_name=f"{street['name']}调度员",
            role="dispatcher",
            street_code=code,
            password_hash=password,
        )
        store.add_user(
            user_id=f"{low}-supervisor",
            username=f"{low}-supervisor",
            display_name=f"{street['name']}督查员",
            role="supervisor",
            street_code=code,
            password_hash=password,
        )
        for n in range(1, 13):
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            store.add_user(
                user_id=f"{low}-worker-{n:02d}",
                username=f"{low}-worker-{n:02d}",
                display_name=name,
                role="worker",
                street_code=code,
                password_hash=password,
                grid_codes=[f"{code}-{n:02d}"],
                on_duty=True,
            )
    store.add_api_key(secret_hash(CAMERA_KEY), "demo-camera", "camera")
    store.add_api_key(secret_hash(OPEN311_KEY), "demo-open311", "open311")
    counts = {"grids": len(grid_list), "components": 0, "pipelines": 0, "areas": 0}
    batch: dict[str, list[dict[str, Any]]] = {}
    for feature in demo_district.twin_features(SEED):
        layer = feature["properties"]["layer"]
        batch.setdefault(layer, []).append(feature)
        counts[layer] += 1
        if len(batch[layer]) >= 2000:
            store.upsert_twin(layer, batch.pop(layer))
    for layer, features in batch.items():
        store.upsert_twin(layer, features)
    if tasks:
        counts["tasks"] = _seed_tasks(hub, rng, grid_list, now or datetime.now(timezone.utc))
    with store.write() as conn:
        store.set_meta(conn, "demo_seeded", _iso(datetime.now(timezone.utc)))
    return counts


def _photo(hub: Hub, kind: str, role: str, n: int, uploader: str) -> str:
    from . import demo_photos

    data = demo_photos.make_photo(kind, role, SEED + n)
    sha = hashlib.sha256(data).hexdigest()
    stored = hub.photos.put(sha, data, None)
    if stored.status == 201:
        hub.store.add_photo_record(
            sha, stored.offset, stored.content_type, stored.width, stored.height, uploader
        )
    return sha


def _inside(grid: dict[str, Any], rng: random.Random) -> tuple[float, float]:
    from .geo import bbox, point_in_polygon

    minx, miny, maxx, maxy = bbox(grid["geometry"])
    while True:
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if point_in_polygon(lon, lat, grid["geometry"]):
            return round(lon, 6), round(lat, 6)


# The life of each demo task: the steps it went through, in order.
STORIES: list[list[str]] = [
    ["create"],  # open
    ["create", "assign"],  # assigned
    ["create", "assign", "start"],  # in_progress
    ["create", "assign", "start", "pause"],  # paused
    ["create", "assign", "start", "submit"],  # submitted
    ["create", "assign", "start", "submit", "confirm"],  # closed
    ["create", "assign", "start", "submit", "reject"],  # rework
    ["create", "assign", "decline"],  # declined
    ["create", "assign", "start", "submit", "reject", "start", "submit", "confirm"],
    ["create", "cancel"],  # canceled
    ["report"],  # reported (citizen)
    ["patrol"],  # a worker's own find, self-fix
    ["report", "triage_invalid"],  # invalid
]


def _seed_tasks(hub: Hub, rng: random.Random, grid_list: list[dict], now: datetime) -> int:
    store = hub.store
    users = {u["id"]: u for u in store.list_users()}
    made = 0
    photo_n = 0
    for street in ("JSL", "HM"):
        low = street.lower()
        dispatcher, supervisor = users[f"{low}-dispatcher"], users[f"{low}-supervisor"]
        grids = [g for g in grid_list if g["street_code"] == street]
        for i in range(26):
            story = STORIES[i % len(STORIES)]
            grid = grids[i % len(grids)]
            worker = users[f"{low}-worker-{int(grid['code'][-2:]):02d}"]
            kind = list(KIND_TITLES)[rng.randrange(len(KIND_TITLES))]
            lon, lat = _inside(grid, rng)
            task_id = _uid("task", street, i)
            start = now - timedelta(days=rng.uniform(0.5, 7), hours=rng.uniform(0, 8))
            clock = [start]

            def push(
                user: dict[str, Any],
                op_type: str,
                payload: dict[str, Any],
                clock: list[datetime] = clock,
                task_id: str = task_id,
            ) -> None:
                clock[0] += timedelta(minutes=rng.uniform(10, 180))
                op = {
                    "op_id": _uid("op", task_id, op_type, len(payload), clock[0].timestamp()),
                    "type": op_type,
                    "task_id": task_id,
                    "at": _iso(clock[0]),
                    "payload": payload,
                }
                result = store.push(user, "demo-seed", [op], now=_iso(clock[0]))[0]
                if result["status"] != "applied":
                    raise RuntimeError(f"demo seed: {op_type} {result}")

            title = KIND_TITLES[kind]
            priority = rng.choice(["urgent", "high", "normal", "normal", "normal", "low"])
            due = _iso(start + timedelta(hours=rng.choice([4, 24, 48, 72])))
            for step in story:
                if step == "create":
                    photo_n += 1
                    before = _photo(hub, kind, "before", photo_n, dispatcher["id"])
                    push(
                        dispatcher,
                        "task.create",
                        {
                            "kind": kind,
                            "lon": lon,
                            "lat": lat,
                            "title": f"{title}（{grid['name']}）",
                            "description": f"{grid['name']}内发现{title}，请尽快处置。",
                            "priority": priority,
                            "due_at": due,
                            "source": rng.choice(["office", "hotline", "camera"]),
                            "photos": [
                                {
                                    "sha256": before,
                                    "role": "before",
                                    "taken_at": _iso(start),
                                    "lon": lon,
                                    "lat": lat,
                                }
                            ],
                        },
                    )
                elif step == "report":
                    photo_n += 1
                    sha = _photo(hub, kind, "evidence", photo_n, worker["id"])
                    push(
                        worker,
                        "task.create",
                        {
                            "kind": kind,
                            "lon": lon,
                            "lat": lat,
                            "title": f"巡查上报：{title}",
                            "description": "巡查中发现，需街道协调处置。",
                            "source": "patrol",
                            "self_fix": False,
                            "photos": [
                                {
                                    "sha256": sha,
                                    "role": "evidence",
                                    "taken_at": _iso(start),
                                    "lon": lon,
                                    "lat": lat,
                                }
                            ],
                        },
                    )
                elif step == "patrol":
                    photo_n += 1
                    sha = _photo(hub, kind, "before", photo_n, worker["id"])
                    push(
                        worker,
                        "task.create",
                        {
                            "kind": kind,
                            "lon": lon,
                            "lat": lat,
                            "title": f"巡查发现：{title}",
                            "source": "patrol",
                            "self_fix": True,
                            "photos": [
                                {
                                    "sha256": sha,
                                    "role": "before",
                                    "taken_at": _iso(start),
                                    "lon": lon,
                                    "lat": lat,
                                }
                            ],
                        },
                    )
                elif step == "assign":
                    push(dispatcher, "task.assign", {"assignee_id": worker["id"]})
                elif step == "start":
                    push(worker, "task.start", {})
                elif step == "pause":
                    push(worker, "task.pause", {"reason": "等待物业配合开门"})
                elif step == "decline":
                    push(worker, "task.decline", {"reason": "不属于本网格，请改派"})
                elif step == "submit":
                    photo_n += 1
                    after = _photo(hub, kind, "after", photo_n, worker["id"])
                    spot_lon = lon + rng.uniform(-0.0002, 0.0002)
                    spot_lat = lat + rng.uniform(-0.0002, 0.0002)
                    push(
                        worker,
                        "task.submit",
                        {
                            "note": "已处置完毕，现场已清理。",
                            "lon": spot_lon,
                            "lat": spot_lat,
                            "accuracy_m": round(rng.uniform(4, 25), 1),
                            "photos": [
                                {
                                    "sha256": after,
                                    "role": "after",
                                    "taken_at": _iso(clock[0]),
                                    "lon": spot_lon,
                                    "lat": spot_lat,
                                }
                            ],
                        },
                    )
                elif step == "confirm":
                    push(supervisor, "task.confirm", {"note": "现场照片确认，已整改。"})
                elif step == "reject":
                    push(
                        supervisor, "task.reject", {"comment": "照片未显示全貌，请补拍后重新上报。"}
                    )
                elif step == "cancel":
                    push(dispatcher, "task.cancel", {"reason": "重复上报"})
                elif step == "triage_invalid":
                    push(
                        dispatcher,
                        "task.triage",
                        {"decision": "invalid", "reason": "现场核实无此问题"},
                    )
            made += 1
    return made


def accounts_text() -> str:
    """What `gridops demo` prints for people trying it."""
    lines = [
        "Demo accounts (password: demo):",
        "  admin",
        "  jsl-dispatcher  jsl-supervisor  jsl-worker-01 … jsl-worker-12   (江苏路街道 JSL)",
        "  hm-dispatcher   hm-supervisor   hm-worker-01 … hm-worker-12     (花木街道 HM)",
        f"Camera API key: {CAMERA_KEY}    Open311 api_key: {OPEN311_KEY}",
    ]
    return "\n".join(lines)
