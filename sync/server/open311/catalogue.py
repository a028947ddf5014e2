"""The Open311 service catalogue: our task kinds as GeoReport v2 services and definitions.

Each service is one task kind of PROTOCOL.md ("Service codes"), with its name, group and
description in Chinese and English (the answer's language follows `Accept-Language`;
Chinese by default: the city's people read Chinese), keywords in both, the hours in which
the street office promises to look at a report (the task's due time, the request's
`expected_datetime`, and its `service_notice`), and the attributes a reporter may (or, where
`required`, must) add. Every service is `realtime`: the request's id is answered at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ... import model

# Changed whenever the services or their definitions change (discovery's `changeset`):
# clients refresh what they cached.
CHANGESET = "2026-06-01T00:00:00Z"
LANGUAGES = ("zh", "en")
MAX_ATTRIBUTE_TEXT = 1000


@dataclass(frozen=True)
class Choice:
    """One value of a `singlevaluelist` or `multivaluelist` attribute."""

    key: str
    zh: str
    en: str


@dataclass(frozen=True)
class Attribute:
    """One field of a service definition (GeoReport v2 "GET Service Definition")."""

    code: str
    datatype: str  # string, number, datetime, text, singlevaluelist, multivaluelist
    required: bool
    order: int
    zh: str  # the description shown to the reporter
    en: str
    choices: tuple[Choice, ...] = ()
    datatype_zh: str | None = None  # datatype_description
    datatype_en: str | None = None


@dataclass(frozen=True)
class Service:
    code: str  # a task kind
    zh: str
    en: str
    group_zh: str
    group_en: str
    about_zh: str
    about_en: str
    keywords: tuple[str, ...]
    response_hours: int
    attributes: tuple[Attribute, ...] = ()


_GROUPS = {
    "city": ("市容环境", "City appearance"),
    "drain": ("防汛排水", "Drainage and flooding"),
    "street": ("市政设施", "Street furniture"),
    "other": ("其他", "Other"),
}


def _service(
    code: str, zh: str, en: str, group: str, about: tuple[str, str], **more: Any
) -> Service:
    gzh, gen = _GROUPS[group]
    return Service(code, zh, en, gzh, gen, about[0], about[1], **more)


SERVICES: tuple[Service, ...] = (
    _service(
        "litter",
        "路面垃圾堆积",
        "Litter on the street",
        "city",
        (
            "道路、人行道或绿地上堆积的垃圾、杂物。",
            "Rubbish or debris left on a road, a pavement or a green space.",
        ),
        keywords=("垃圾", "杂物", "rubbish", "trash", "litter"),
        response_hours=24,
        attributes=(
            Attribute(
                "amount",
                "singlevaluelist",
                False,
                1,
                "大约有多少垃圾？",
                "How much is there?",
                (
                    Choice("few", "零星几件", "a few items"),
                    Choice("pile", "一堆", "a pile"),
                    Choice("truck", "很多，需要车辆清运", "a lot: it needs a truck"),
                ),
            ),
        ),
    ),
    _service(
        "bike_parking",
        "共享单车乱停放",
        "Bikes parked in a heap",
        "city",
        (
            "共享单车等非机动车堵塞人行道、盲道或出入口。",
            "Shared bikes or other bicycles blocking a pavement, a tactile path or an entrance.",
        ),
        keywords=("单车", "自行车", "电动车", "bikes", "bicycles", "parking"),
        response_hours=12,
        attributes=(
            Attribute(
                "bike_count",
                "number",
                False,
                1,
                "大约有多少辆？",
                "About how many bikes?",
                datatype_zh="一个数字，例如 20",
                datatype_en="a number, e.g. 20",
            ),
            Attribute(
                "blocking",
                "multivaluelist",
                False,
                2,
                "挡住了哪里？（可多选）",
                "What do they block? (any that apply)",
                (
                    Choice("pavement", "人行道", "the pavement"),
                    Choice("tactile_path", "盲道", "a tactile path"),
                    Choice("entrance", "出入口", "an entrance"),
                    Choice("road", "车行道", "the road"),
                ),
            ),
        ),
    ),
    _service(
        "illegal_drying",
        "沿街晾晒",
        "Laundry hung over the street",
        "city",
        (
            "在沿街护栏、树木或电线上晾晒衣物。",
            "Laundry hung on railings, trees or cables along the street.",
        ),
        keywords=("晾晒", "衣物", "laundry", "drying"),
        response_hours=48,
    ),
    _service(
        "waterlogging",
        "路面积水",
        "Waterlogged road",
        "drain",
        (
            "道路或人行道积水，影响通行。",
            "Standing water on a road or a pavement that gets in people's way.",
        ),
        keywords=("积水", "内涝", "水浸", "flood", "water", "puddle"),
        response_hours=4,
        attributes=(
            Attribute(
                "depth",
                "singlevaluelist",
                True,
                1,
                "积水有多深？",
                "How deep is the water?",
                (
                    Choice("ankle", "没过脚踝", "up to the ankle"),
                    Choice("knee", "没过膝盖", "up to the knee"),
                    Choice("deeper", "更深", "deeper"),
                ),
            ),
            Attribute(
                "passable",
                "singlevaluelist",
                False,
                2,
                "行人和车辆还能通过吗？",
                "Can people and vehicles still get through?",
                (
                    Choice("yes", "能通过", "yes"),
                    Choice("no", "无法通过", "no"),
                ),
            ),
        ),
    ),
    _service(
        "streetlight_out",
        "路灯不亮",
        "Street light out",
        "street",
        (
            "路灯夜间不亮、闪烁，或白天常亮。",
            "A street light that is dark or flickers at night, or stays on by day.",
        ),
        keywords=("路灯", "照明", "streetlight", "lamp", "light"),
        response_hours=48,
        attributes=(
            Attribute(
                "pole_number",
                "string",
                False,
                1,
                "灯杆编号（灯杆上的铭牌）",
                "The pole's number (on its plate)",
                datatype_zh="铭牌上的文字，例如 JSL-L-0123",
                datatype_en="the text on the plate, e.g. JSL-L-0123",
            ),
            Attribute(
                "state",
                "singlevaluelist",
                False,
                2,
                "路灯是什么情况？",
                "What is wrong with it?",
                (
                    Choice("dark", "不亮", "dark"),
                    Choice("flickering", "闪烁", "flickering"),
                    Choice("on_by_day", "白天常亮", "on by day"),
                ),
            ),
        ),
    ),
    _service(
        "manhole_damaged",
        "井盖破损",
        "Damaged manhole cover",
        "street",
        (
            "井盖缺失、破损、松动或下沉。",
            "A manhole cover that is missing, broken, loose or sunken.",
        ),
        keywords=("井盖", "窨井", "manhole", "cover", "drain"),
        response_hours=4,
        attributes=(
            Attribute(
                "state",
                "singlevaluelist",
                True,
                1,
                "井盖是什么情况？",
                "What is wrong with the cover?",
                (
                    Choice("missing", "缺失", "missing"),
                    Choice("broken", "破损", "broken"),
                    Choice("loose", "松动或有响声", "loose or rattling"),
                    Choice("sunken", "下沉", "sunken"),
                ),
            ),
        ),
    ),
    _service(
        "other",
        "其他问题",
        "Something else",
        "other",
        (
            "其他需要街道办事处处置的问题，请在描述中说明。",
            "Anything else the street office should look at: please describe it.",
        ),
        keywords=("其他", "other"),
        response_hours=72,
    ),
)
_BY_CODE = {service.code: service for service in SERVICES}
assert set(_BY_CODE) == set(model.KINDS), "one Open311 service per task kind"


def service(code: str) -> Service | None:
    return _BY_CODE.get(code)


def name(service: Service, lang: str) -> str:
    return service.zh if lang == "zh" else service.en


def notice(service: Service, lang: str) -> str:
    """What the street office promises to do: the request's `service_notice`."""
    hours = service.response_hours
    if lang == "zh":
        return f"街道办事处将在{hours}小时内处理这一上报。"
    return f"The street office will deal with this report within {hours} hours."


def service_item(service: Service, lang: str) -> dict[str, Any]:
    """One entry of GET services."""
    return {
        "service_code": service.code,
        "service_name": name(service, lang),
        "description": service.about_zh if lang == "zh" else service.about_en,
        "metadata": bool(service.attributes),
        "type": "realtime",
        "keywords": ", ".join((service.zh, service.en, *service.keywords)),
        "group": service.group_zh if lang == "zh" else service.group_en,
    }


def definition(service: Service, lang: str) -> dict[str, Any]:
    """GET services/{service_code}: the service's attributes (none: an empty list)."""
    zh = lang == "zh"
    return {
        "service_code": service.code,
        "attributes": [
            {
                "variable": True,
                "code": attr.code,
                "datatype": attr.datatype,
                "required": attr.required,
                "datatype_description": attr.datatype_zh if zh else attr.datatype_en,
                "order": attr.order,
                "description": attr.zh if zh else attr.en,
                "values": [
                    {"key": choice.key, "name": choice.zh if zh else choice.en}
                    for choice in attr.choices
                ],
            }
            for attr in service.attributes
        ],
    }


class AnswerError(ValueError):
    """A reporter's attribute that does not fit the service definition."""


def check_attributes(service: Service, given: dict[str, list[str]]) -> dict[str, Any]:
    """The reporter's `attribute[code]` answers checked against the definition: every
    code known, every required one given, each value of its datatype (a list's values
    among its keys). Returns `{code: value}` (a list for `multivaluelist`); raises
    `AnswerError` naming the first problem."""
    known = {attr.code: attr for attr in service.attributes}
    for code in given:
        if code not in known:
            hint = ", ".join(known) if known else "none"
            raise AnswerError(
                f"attribute[{code}] is not part of service {service.code} (its attributes: {hint})"
            )
    out: dict[str, Any] = {}
    for attr in service.attributes:
        values = [v for v in given.get(attr.code, []) if v.strip()]
        if not values:
            if attr.required:
                raise AnswerError(f"attribute[{attr.code}] is required for {service.code}")
            continue
        if attr.datatype != "multivaluelist" and len(values) > 1:
            raise AnswerError(f"attribute[{attr.code}] takes one value")
        out[attr.code] = _value(attr, values)
    return out


def _value(attr: Attribute, values: list[str]) -> Any:
    keys = [choice.key for choice in attr.choices]
    where = f"attribute[{attr.code}]"
    if attr.datatype in ("singlevaluelist", "multivaluelist"):
        for value in values:
            if value not in keys:
                raise AnswerError(f"{where} must be one of {', '.join(keys)}")
        return values if attr.datatype == "multivaluelist" else values[0]
    value = values[0]
    if attr.datatype == "number":
        try:
            number = float(value)
        except ValueError:
            raise AnswerError(f"{where} must be a number") from None
        if not math.isfinite(number) or abs(number) > 1e9:
            raise AnswerError(f"{where} must be a finite number")
        return int(number) if number.is_integer() else number
    if attr.datatype == "datetime":
        if model.parse_time(value) is None:
            raise AnswerError(f"{where} must be a date and time with a zone (ISO 8601)")
        return value
    if len(value) > MAX_ATTRIBUTE_TEXT:
        raise AnswerError(f"{where} is longer than {MAX_ATTRIBUTE_TEXT} characters")
    if attr.datatype == "string" and ("\n" in value or "\r" in value):
        raise AnswerError(f"{where} must be one line")
    return value


def describe_answers(service: Service, answers: dict[str, Any]) -> list[str]:
    """The answers as lines for the task's description (the office reads Chinese)."""
    lines = []
    for attr in service.attributes:
        if attr.code not in answers:
            continue
        value = answers[attr.code]
        names = {choice.key: choice.zh for choice in attr.choices}
        if isinstance(value, list):
            shown = "、".join(names.get(str(v), str(v)) for v in value)
        else:
            shown = names.get(str(value), str(value))
        lines.append(f"{attr.zh.rstrip('？')}：{shown}")
    return lines
