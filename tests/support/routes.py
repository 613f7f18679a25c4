"""Every HTTP route of an app as (method, path, APIRoute), across FastAPI versions.

FastAPI 0.16x keeps included routers as lazy ``_IncludedRouter`` entries in ``app.routes``;
``fastapi.routing.iter_route_contexts`` flattens them. Older releases list APIRoutes directly.
"""

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.routing import APIRoute


def api_routes(app: FastAPI) -> Iterator[tuple[str, str, APIRoute]]:
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI
        pairs = [(r, r.path) for r in app.routes]
    else:
        pairs = [(ctx.original_route, ctx.path) for ctx in iter_route_contexts(app.routes)]
    for route, path in pairs:
        if isinstance(route, APIRoute):
            for method in sorted(route.methods):
                yield method, path, route
