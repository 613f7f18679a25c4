"""Every error is problem+json with a stable code; the OpenAPI document describes them."""

PROBLEM = "application/problem+json"


async def test_unknown_route_and_wrong_method_are_problems(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/nothing-here")
    assert (r.status_code, r.headers["content-type"], r.json()["code"]) == (404, PROBLEM, "not_found")
    r = await client.delete("/api/v1/categories")
    assert (r.status_code, r.json()["code"]) == (405, "method_not_allowed")


async def test_validation_errors_list_field_paths(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/units", json={"name": "", "kind": "x", "extra": 1}, headers=world.headers("admin"))
    body = r.json()
    assert (r.status_code, body["code"], body["status"]) == (422, "validation_error", 422)
    assert {e["field"] for e in body["errors"]} == {"name", "kind", "extra"}
    assert body["type"].endswith("/validation_error") and body["title"]


async def test_malformed_json_body_is_422_not_500(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/units", content=b'{"name": ', headers={**world.headers("admin"),
                                                                         "Content-Type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


async def test_openapi_documents_problems_and_examples(client) -> None:  # type: ignore[no-untyped-def]
    spec = (await client.get("/openapi.json")).json()
    assert spec["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "code"]
    locate = spec["paths"]["/api/v1/grids/locate"]["get"]
    assert PROBLEM in locate["responses"]["422"]["content"]
    assert "example" in spec["components"]["schemas"]["LocateOut"]
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}
