"""Error titles and details speak the caller's language (issue 14, item 6): zh-CN by default, en on request,
``Content-Language`` saying which, in problem+json and in Open311's error list alike; ``code`` never changes."""

from __future__ import annotations

import importlib
import pkgutil
import re

import app
from app.core.errors import AppError
from tests.support.reports import CENTRE

EN = {"Accept-Language": "en"}
HAN = re.compile(r"[\u4e00-\u9fff]")


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    return found.union(*(_subclasses(c) for c in found)) if found else found


def test_every_error_class_has_a_chinese_title() -> None:
    for module in pkgutil.walk_packages(app.__path__, "app."):
        importlib.import_module(module.name)
    untitled = [
        f"{cls.__module__}.{cls.__name__}"
        for cls in _subclasses(AppError)
        if cls.__module__.startswith("app.")
        and ("title" in vars(cls) and "title_zh" not in vars(cls) or not HAN.search(cls.title_zh or ""))
    ]
    assert not untitled, f"give these a title_zh next to their title: {untitled}"


async def test_a_missing_case_in_both_languages(client, world) -> None:  # type: ignore[no-untyped-def]
    dispatcher = world.headers("dispatcher")
    r = await client.get("/api/v1/reports/999999", headers=dispatcher)
    body = r.json()
    assert (r.status_code, body["code"], r.headers["content-language"]) == (404, "not_found", "zh-CN")
    assert (body["title"], body["detail"]) == ("未找到", "没有编号为 999999 的案件")
    r = await client.get("/api/v1/reports/999999", headers={**dispatcher, **EN})
    body = r.json()
    assert (r.status_code, body["code"], r.headers["content-language"]) == (404, "not_found", "en")
    assert (body["title"], body["detail"]) == ("Not found", "No case with id 999999")
    r = await client.get("/api/v1/reports/999999", headers={**dispatcher, "Accept-Language": "en;q=0.5, zh"})
    assert r.headers["content-language"] == "zh-CN"


async def test_workflow_refusals_name_state_and_actions_in_the_caller_s_language(client, world) -> None:  # type: ignore[no-untyped-def]
    filed = await client.post(
        "/api/v1/reports",
        json={"category_code": "09009", "description": "占道停车", **CENTRE},
        headers=world.headers("worker2"),
    )
    case, etag = filed.json(), filed.headers["etag"]
    assert case["status"] == "dispatched"
    verify = {"action": "verify"}
    path = f"/api/v1/reports/{case['id']}/actions"
    r = await client.post(path, json=verify, headers=world.headers("worker2"))
    body = r.json()
    assert (r.status_code, body["code"], body["current_status"]) == (409, "invalid_transition", "dispatched")
    assert body["title"] == "案件当前状态不允许此操作"
    assert body["detail"] == "无法“核查通过”(verify)：案件当前为“已派遣”；现在可执行：comment"
    r = await client.post(path, json=verify, headers={**world.headers("worker2"), **EN})
    body = r.json()
    assert body["title"] == "The case's state does not allow that action"
    assert body["detail"] == "'verify' is not possible: the case is dispatched; allowed now: comment"
    # A stale If-Match: 412 naming the current ETag, in both languages.
    stale = etag.replace(f"-v{case['version']}", f"-v{case['version'] - 1}")
    comment = {"action": "comment", "note": "请尽快处理"}
    r = await client.post(path, json=comment, headers={**world.headers("dispatcher"), "If-Match": stale})
    body = r.json()
    assert (r.status_code, body["code"], r.headers["etag"], body["current_etag"]) == (
        412,
        "version_conflict",
        etag,
        etag,
    )
    assert body["title"] == "案件在您读取后已被修改" and etag in body["detail"] and HAN.search(body["detail"])
    r = await client.post(
        path, json=comment, headers={**world.headers("dispatcher"), "If-Match": stale, **EN}
    )
    assert (
        r.json()["detail"]
        == f"The case is at version {case['version']} (ETag {etag}); read it again and retry"
    )
    # Not the caller's to take: 403 action_not_allowed, saying who may.
    r = await client.post(path, json={"action": "accept"}, headers=world.headers("dispatcher"))
    body = r.json()
    assert (r.status_code, body["code"]) == (403, "action_not_allowed")
    assert body["detail"] == "“接单”(accept)只能由以下人员执行：承办单位人员"


async def test_validation_and_framework_errors_in_both_languages(client, world) -> None:  # type: ignore[no-untyped-def]
    admin = world.headers("admin")
    r = await client.post("/api/v1/units", json={"name": ""}, headers=admin)
    body = r.json()
    assert (r.status_code, body["code"], body["title"]) == (422, "validation_error", "请求无效")
    assert body["detail"].startswith("请检查以下字段：name:")
    r = await client.post("/api/v1/units", json={"name": ""}, headers={**admin, **EN})
    assert r.json()["title"] == "The request is not valid" and r.json()["detail"].startswith("name:")
    r = await client.delete("/api/v1/categories", headers=admin)
    assert (r.status_code, r.json()["title"], r.headers["content-language"]) == (
        405,
        "不支持该请求方法",
        "zh-CN",
    )
    r = await client.get("/api/v1/reports", params={"cursor": "0" * 40}, headers=admin)
    assert (r.json()["code"], r.json()["title"]) == ("invalid_cursor", "cursor 不是本服务签发的")


async def test_open311_errors_follow_the_language_too(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/open311/v2/services/99999.json")
    assert (r.status_code, r.headers["content-language"]) == (404, "zh-CN")
    assert r.json() == [{"code": 404, "description": "service_code“99999”不是本服务的服务类型"}]
    r = await client.get("/open311/v2/services/99999.xml", headers=EN)
    assert (r.status_code, r.headers["content-language"]) == (404, "en")
    assert b"<description>service_code '99999' is not a service here</description>" in r.content


async def test_the_routers_own_refusals_are_said_in_the_callers_language(client) -> None:  # type: ignore[no-untyped-def]
    """Starlette says "Not Found" and "Method Not Allowed" in English only; a phone set to zh-CN got them
    under a Chinese title."""
    r = await client.get("/api/v1/no-such-thing")
    assert (r.status_code, r.json()["code"]) == (404, "not_found") and "没有这个地址" in r.json()["detail"]
    r = await client.get("/api/v1/no-such-thing", headers={"Accept-Language": "en"})
    assert r.json()["detail"].startswith("No such path")
    r = await client.delete("/healthz")
    assert (r.status_code, r.json()["code"]) == (405, "method_not_allowed") and "请求方法" in r.json()[
        "detail"
    ]
