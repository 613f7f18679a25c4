"""Every endpoint declares who may call it (an ``Allow`` dependency), so none is open by accident."""

from fastapi.dependencies.models import Dependant

from app.auth.permissions import Allow
from tests.support.routes import api_routes


def _allows(dependant: Dependant) -> list[Allow]:
    found = [dependant.call] if isinstance(dependant.call, Allow) else []
    for sub in dependant.dependencies:
        found.extend(_allows(sub))
    return found


def test_every_route_declares_its_callers(app) -> None:  # type: ignore[no-untyped-def]
    undeclared, declared = [], {}
    for method, path, route in api_routes(app):
        allows = _allows(route.dependant)
        if len(allows) != 1:
            undeclared.append(f"{method} {path}: {allows}")
        else:
            declared[f"{method} {path}"] = allows[0]
    assert not undeclared, undeclared
    assert len(declared) >= 25
    # spot checks of the declarations themselves
    assert declared["POST /api/v1/grids/import"].roles == {"admin"}
    assert declared["GET /api/v1/categories"].public
    assert not declared["GET /api/v1/me"].public and not declared["GET /api/v1/me"].api_keys
    assert {r.value for r in declared["GET /api/v1/routing/preview"].roles} == {
        "dispatcher",
        "supervisor",
        "admin",
    }
