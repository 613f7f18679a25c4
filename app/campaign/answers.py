"""Whether a visit's answers fit its checklist (docs/campaign.md "Rounds and visits", "Scores"): pure, no
database, so the rules read (and are tested) as a list.

Every item of the checklist gets exactly one result; an unknown item, a missing one or one answered twice
is refused. ``amount`` (处数) is required on ``count_min`` and ``problem_count`` items (unless the item does
not apply) and must agree with the answer (at least the threshold, or no problem, is compliant); it is
refused on a compliant or not-applicable answer to a ``binary`` item. A failure of an item that asks for a
photo (or a note) needs one. Photo parts are named by their file names: every name a result gives must be
a part, and every part must be named by a result. An unable visit (无法测评) has no results, a reason and
exactly one photo. Every problem is reported, each naming its item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.campaign.round_schemas import VisitIn
from app.campaign.scores import complies


@dataclass(frozen=True)
class Expected:
    """An item of the checklist, as the rules need it."""

    code: str
    answer_kind: str
    threshold: int | None
    photo_on_fail: bool
    note_on_fail: bool


def _err(loc: list[Any], msg: str, type_: str, item: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"loc": ["visit", *loc], "msg": msg, "type": type_}
    if item is not None:
        out["item"] = item
    return out


def _photo_parts(names: Sequence[str | None]) -> tuple[dict[str, int], list[dict[str, Any]]]:
    errors: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        if not name:
            errors.append(
                {"loc": ["photos", i], "msg": "a photo part needs a file name", "type": "photo_name_required"}
            )
        elif name in index:
            errors.append(
                {
                    "loc": ["photos", i],
                    "msg": f"photo name {name!r} is also part {index[name]}",
                    "type": "duplicate_photo_name",
                }
            )
        else:
            index[name] = i
    return index, errors


def _unable(data: VisitIn, names: Sequence[str | None]) -> list[dict[str, Any]]:
    errors = []
    if data.results:
        errors.append(_err(["results"], "an unable visit has no results", "not_allowed"))
    if not (data.reason or "").strip():
        errors.append(_err(["reason"], "say why the point could not be inspected", "missing"))
    if len(names) != 1:
        errors.append(
            {
                "loc": ["photos"],
                "msg": f"an unable visit takes one photo, got {len(names)}",
                "type": "photo_count",
            }
        )
    return errors


def _result_problems(i: int, r: Any, item: Expected, parts: dict[str, int]) -> list[dict[str, Any]]:
    loc, code, errors = ["results", i], item.code, []
    counted = item.answer_kind != "binary"
    if not counted and r.amount is not None and r.result != "noncompliant":
        errors.append(
            _err(
                [*loc, "amount"],
                f"{code}: no amount on a {r.result} answer to a yes/no item",
                "amount_not_allowed",
                code,
            )
        )
    if counted and r.result != "not_applicable":
        if r.amount is None:
            errors.append(
                _err(
                    [*loc, "amount"],
                    f"{code}: how many were seen (处数) is required",
                    "amount_required",
                    code,
                )
            )
        elif complies(item.answer_kind, item.threshold, r.amount) != (r.result == "compliant"):
            rule = f"at least {item.threshold}" if item.answer_kind == "count_min" else "none"
            errors.append(
                _err(
                    [*loc, "result"],
                    f"{code}: {rule} complies; {r.amount} seen is not {r.result}",
                    "result_mismatch",
                    code,
                )
            )
    if r.result == "noncompliant" and item.photo_on_fail and not r.photos:
        errors.append(
            _err([*loc, "photos"], f"{code}: a failure of this item needs a photo", "photo_required", code)
        )
    if r.result == "noncompliant" and item.note_on_fail and not (r.note or "").strip():
        errors.append(
            _err([*loc, "note"], f"{code}: a failure of this item needs a note", "note_required", code)
        )
    for k, name in enumerate(r.photos):
        if name not in parts:
            errors.append(
                _err([*loc, "photos", k], f"{code}: no photo part named {name!r}", "unknown_photo", code)
            )
    if len(set(r.photos)) != len(r.photos):
        errors.append(_err([*loc, "photos"], f"{code}: a photo is named twice", "duplicate_photo", code))
    return errors


def problems(
    data: VisitIn, checklist: Sequence[Expected], photo_names: Sequence[str | None]
) -> list[dict[str, Any]]:
    """Every way ``data`` (with photo parts of ``photo_names``, in order) does not fit ``checklist``; [] when
    it fits. Errors are ``{loc, msg, type, item?}`` with ``loc`` under ``visit`` or ``photos``."""
    parts, errors = _photo_parts(photo_names)
    if data.unable:
        return errors + _unable(data, photo_names)
    if data.reason is not None:
        errors.append(_err(["reason"], "a reason belongs to an unable visit", "not_allowed"))
    items = {i.code: i for i in checklist}
    seen: dict[str, int] = {}
    named: set[str] = set()
    for i, r in enumerate(data.results):
        item = items.get(r.item)
        if item is None:
            errors.append(
                _err(
                    ["results", i, "item"],
                    f"{r.item} is not an item of this checklist",
                    "unknown_item",
                    r.item,
                )
            )
            continue
        if r.item in seen:
            errors.append(
                _err(
                    ["results", i, "item"],
                    f"{r.item} is answered twice (also results[{seen[r.item]}])",
                    "duplicate_item",
                    r.item,
                )
            )
            continue
        seen[r.item] = i
        named.update(r.photos)
        errors.extend(_result_problems(i, r, item, parts))
    errors.extend(
        _err(["results"], f"{item.code} has no result", "missing_item", item.code)
        for item in checklist
        if item.code not in seen
    )
    errors.extend(
        {
            "loc": ["photos", index],
            "msg": f"photo {name!r} is named by no result",
            "type": "unreferenced_photo",
        }
        for name, index in parts.items()
        if name not in named
    )
    return errors
