"""A real Open311 client (``georeport`` from PyPI, which speaks HTTP through ``requests``) against the
service on a loopback port: it lists services, reads a definition, lists requests and reads one."""

import asyncio
import socket

import uvicorn
from georeport import GeoReport

from app.core.db import Database
from app.main import create_app
from tests.support.auth import bearer_of, login
from tests.support.keys import new_api_key
from tests.support.reports import CENTRE


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_georeport_reads_services_and_requests(settings, live_engine, live_client) -> None:  # type: ignore[no-untyped-def]
    settings.open311_public_reads = "all"  # the client reads the public feed
    token = (await login(live_client, "admin", "demo-admin-2026")).json()["access_token"]
    key = (await new_api_key(live_client, bearer_of(token), "georeport"))["key"]
    filed = await live_client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "09009",
            "lat": str(CENTRE["lat"]),
            "long": str(CENTRE["lon"]),
            "description": "georeport 客户端测试",
        },
    )
    assert filed.status_code == 200, filed.text
    case_id = filed.json()[0]["service_request_id"]

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings=settings, database=Database(live_engine)),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.02)
        for fmt in ("json", "xml"):  # the library unwraps the XML roots itself
            client = GeoReport(
                f"http://127.0.0.1:{port}/open311/v2",
                jurisdiction=settings.jurisdiction_id,
                output_format=fmt,
            )
            services = await asyncio.to_thread(client.get_service_list)
            codes = [s["service_code"] for s in services]
            assert "01001" in codes and "09009" in codes, fmt  # codes stay strings with their zeros
            definition = await asyncio.to_thread(client.get_service_definition, "09009")
            assert definition["service_code"] == "09009", fmt
            listed = await asyncio.to_thread(client.get_service_requests, service_code="09009")
            listed = listed if isinstance(listed, list) else [listed]  # xmltodict: one child is a dict
            assert case_id in [str(i["service_request_id"]) for i in listed], fmt
            one = await asyncio.to_thread(client.get_service_request, case_id)
            one = one[0] if isinstance(one, list) else one
            assert str(one["service_request_id"]) == case_id and one["service_code"] == "09009", fmt
    finally:
        server.should_exit = True
        await serving
