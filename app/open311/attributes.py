"""Service definitions (GeoReport v2 ``attributes``) and the validation of ``attribute[code]`` values.

The catalogue has no attributes of its own; these are the questions a command centre asks a citizen
for particular services, as data. A service with attributes has ``metadata: true`` in the services
list. Datatypes are the spec's: string, number, datetime, text, singlevaluelist, multivaluelist.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str
    required: bool
    description: str
    datatype_description: str = ""
    values: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (key, name)
    variable: bool = True

    def definition(self, order: int) -> dict[str, Any]:
        """The attribute as the spec's service definition writes it."""
        out: dict[str, Any] = {
            "variable": self.variable,
            "code": self.code,
            "datatype": self.datatype,
            "required": self.required,
            "datatype_description": self.datatype_description or None,
            "order": order,
            "description": self.description,
        }
        if self.values:
            out["values"] = [{"key": k, "name": n} for k, n in self.values]
        return out


VEHICLE = Attribute(
    "vehicle_type",
    "singlevaluelist",
    False,
    "车辆类型 Vehicle type",
    values=(
        ("car", "小汽车 car"),
        ("truck", "货车 truck"),
        ("motorbike", "摩托车 motorbike"),
        ("ebike", "电动车 e-bike"),
    ),
)
PLATE = Attribute("plate_number", "string", False, "车牌号 Licence plate", "e.g. 甘L12345")
AMOUNT = Attribute(
    "amount",
    "singlevaluelist",
    True,
    "数量 How much",
    values=(
        ("small", "少量 a bag or less"),
        ("medium", "一车以内 up to a cartload"),
        ("large", "大量 more than a cartload"),
    ),
)
DANGER = Attribute(
    "hazards",
    "multivaluelist",
    False,
    "现场危险 Hazards on site",
    values=(
        ("traffic", "影响通行 blocks traffic"),
        ("injury", "可能伤人 can injure"),
        ("night", "夜间无照明 unlit at night"),
    ),
)
SEEN_AT = Attribute(
    "seen_at", "datetime", False, "发现时间 When you saw it", "RFC 3339, e.g. 2026-05-01T08:30:00+08:00"
)
COUNT = Attribute("people", "number", False, "人数 How many people are involved")

# By major class (two digits) and, where one service differs, by code (five digits).
BY_MAJOR: dict[str, tuple[Attribute, ...]] = {
    "01": (DANGER,),
    "02": (DANGER,),
    "06": (AMOUNT,),
    "09": (VEHICLE, PLATE),
    "91": (SEEN_AT, COUNT),
}


def attributes_of(code: str) -> tuple[Attribute, ...]:
    return BY_MAJOR.get(code[:2], ())


def validate(code: str, given: dict[str, list[str]]) -> tuple[dict[str, Any], list[str]]:
    """``attribute[code]`` values of a request (each a list: a multivaluelist repeats) checked against the
    service's definition: the values to store, and the problems (unknown, missing, wrong type)."""
    defined = {a.code: a for a in attributes_of(code)}
    problems = [
        f"attribute[{name}] is not an attribute of service {code}" for name in given if name not in defined
    ]
    values: dict[str, Any] = {}
    for attribute in defined.values():
        raw = [v for v in given.get(attribute.code, []) if v.strip()]
        if not raw:
            if attribute.required:
                problems.append(f"attribute[{attribute.code}] is required")
            continue
        value, problem = _parse(attribute, raw)
        if problem:
            problems.append(f"attribute[{attribute.code}]: {problem}")
        else:
            values[attribute.code] = value
    return values, problems


def _parse(attribute: Attribute, raw: list[str]) -> tuple[Any, str | None]:
    keys = {k for k, _ in attribute.values}
    if attribute.datatype == "multivaluelist":
        unknown = [v for v in raw if v not in keys]
        return sorted(set(raw)), (f"not among {sorted(keys)}: {unknown}" if unknown else None)
    if len(raw) > 1:
        return None, "give one value"
    value = raw[0].strip()
    if attribute.datatype == "singlevaluelist":
        return value, None if value in keys else f"one of {sorted(keys)}"
    if attribute.datatype == "number":
        try:
            number = float(value)
        except ValueError:
            return None, "a number"
        return number, None if math.isfinite(number) else "a finite number"
    if attribute.datatype == "datetime":
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return None, "an RFC 3339 time"
        return moment.isoformat(), None if moment.tzinfo is not None else "a time with an offset"
    limit = 200 if attribute.datatype == "string" else 2000
    return value, None if len(value) <= limit else f"at most {limit} characters"
