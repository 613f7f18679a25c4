#!/usr/bin/env python3
"""Drive a real Open311 GeoReport v2 client (PyPI `georeport`, installed with the test extras) against
a running Grid Inspector.

Usage:
  python scripts/open311_client_check.py http://127.0.0.1:8000/open311/v2 [--format json|xml]
         [--jurisdiction 620802] [--service-code CODE] [--api-key KEY]

The requests list must not be empty: file one first (README, "Open311"). `georeport` has no calls
for POST, tokens, discovery or updates; tests/api/test_open311.py covers those.

BASE_URL is the GeoReport root, e.g. http://127.0.0.1:8000/open311/v2
(the library appends /services.json, /requests.json, /requests/{id}.json ...).

Steps: list services, (optionally) one service definition, list requests,
read one request (the first listed id). Exits 0 only if every step returned
non-empty, well-shaped data; exits 1 otherwise.
"""

import argparse
import json
import sys

import georeport
import requests
from georeport import GeoReport

# Log every HTTP call the library makes (it uses module-level requests.get). The library sends
# its api_key only with POST; a deployment whose reads need a key (GRID_OPEN311_PUBLIC_READS=none,
# the default) gets it added to every GET here.
_orig_get = requests.get
_read_key: str | None = None


def _logged_get(url, *a, **kw):
    if _read_key:
        kw["params"] = {**(kw.get("params") or {}), "api_key": _read_key}
    resp = _orig_get(url, *a, **kw)
    print(f"  HTTP GET {resp.url} -> {resp.status_code} [{resp.headers.get('content-type')}]")
    return resp


requests.get = _logged_get


def as_list(x):
    """xmltodict yields a dict (not a list) when there is exactly one child."""
    if x is None:
        return []
    return x if isinstance(x, list) else [x]


def show(label, obj):
    print(f"{label}:")
    print(json.dumps(obj, indent=2, default=str)[:2000])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base_url")
    ap.add_argument("--format", default="json", choices=["json", "xml"])
    ap.add_argument("--jurisdiction", default=None)
    ap.add_argument(
        "--service-code",
        default=None,
        help="also fetch this service definition (default: first service with metadata=true)",
    )
    ap.add_argument("--api-key", default=None, help="sent with every read (GRID_OPEN311_PUBLIC_READS=none)")
    args = ap.parse_args()
    global _read_key
    _read_key = args.api_key

    print(
        f"georeport {georeport.__version__}, base={args.base_url}, "
        f"format={args.format}, jurisdiction={args.jurisdiction}"
    )
    client = GeoReport(args.base_url, jurisdiction=args.jurisdiction, output_format=args.format)
    ok = True

    # 1. list services
    print("\n[1] get_service_list()")
    services = as_list(client.get_service_list())
    show(f"{len(services)} services", services)
    if not services or not all("service_code" in s for s in services):
        print("FAIL: no services / missing service_code")
        ok = False

    # 1b. service definition (only meaningful when metadata is true)
    code = args.service_code
    if code is None:
        for s in services:
            if str(s.get("metadata")).lower() == "true":
                code = s["service_code"]
                break
    if code is not None:
        print(f"\n[1b] get_service_definition({code!r})")
        sd = client.get_service_definition(code)
        show("service definition", sd)
        if not isinstance(sd, dict) or str(sd.get("service_code")) != str(code):
            print("FAIL: service definition missing/mismatched service_code")
            ok = False

    # 2. list requests
    print("\n[2] get_service_requests()")
    reqs = as_list(client.get_service_requests())
    show(f"{len(reqs)} requests", reqs)
    if not reqs or "service_request_id" not in reqs[0]:
        print("FAIL: no requests / missing service_request_id")
        return 1

    # 3. read one request by the first listed id
    rid = str(reqs[0]["service_request_id"])
    print(f"\n[3] get_service_request({rid!r})")
    one = client.get_service_request(rid)
    if isinstance(one, list):  # XML with >1 <request> children
        one = one[0]
    show("request", one)
    if str(one.get("service_request_id")) != rid:
        print("FAIL: returned request id mismatch")
        ok = False

    print("\nRESULT:", "OK" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
