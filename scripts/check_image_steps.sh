#!/usr/bin/env bash
# Replays the Dockerfile's steps without Docker (no engine runs on CI machines): a regular install of only
# what the image copies, then, from another directory with no checkout, `migrate`, `create-user` and
# `serve --workers 2` in production mode, probed on /healthz and /readyz and logged in to, then stopped
# with SIGTERM as `docker stop` does. Usage: scripts/check_image_steps.sh [DATABASE_URL]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

echo "== build stage: pip install '.[s3]' from the files the Dockerfile copies"
mkdir -p "$work/src" "$work/srv"
cp -r "$root/pyproject.toml" "$root/README.md" "$root/alembic.ini" "$root/app" "$root/migrations" "$work/src/"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --upgrade pip
"$work/venv/bin/pip" install -q "$work/src[s3]"
cp -r "$work/src/migrations" "$work/migrations"
rm -rf "$work/src"  # the runtime stage has no source tree

echo "== runtime stage: no checkout, migrations where GRID_MIGRATIONS_DIR says"
export PATH="$work/venv/bin:$PATH" GRID_MIGRATIONS_DIR="$work/migrations" GRID_STORAGE_DIR="$work/srv/storage"
export GRID_PUBLIC_URL=http://127.0.0.1:8000/ GRID_ENV=production GRID_SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
export GRID_DATABASE_URL="${1:-sqlite+aiosqlite:///$work/srv/grid.db}"
cd "$work/srv"
grid-inspector migrate
printf 'image-check-password-1\nimage-check-password-1\n' | grid-inspector create-user admin --role admin >/dev/null 2>&1
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
grid-inspector serve --host 127.0.0.1 --port "$port" --workers 2 >"$work/serve.log" 2>&1 &
server=$!
python3 - "$port" <<'PY'
import json, sys, time, urllib.parse, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
for _ in range(150):
    try:
        if urllib.request.urlopen(base + "/healthz", timeout=1).status == 200:
            break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("the server did not answer /healthz")
ready = json.load(urllib.request.urlopen(base + "/readyz", timeout=5))
form = urllib.parse.urlencode({"username": "admin", "password": "image-check-password-1"}).encode()
token = json.load(urllib.request.urlopen(urllib.request.Request(base + "/api/v1/auth/token", data=form)))
categories = urllib.request.urlopen(urllib.request.Request(
    base + "/api/v1/categories", headers={"Authorization": f"Bearer {token['access_token']}"}))
docs = urllib.request.urlopen(base + "/docs", timeout=5).read().decode()
assets = [a for a in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png") if f"/docs/assets/{a}" in docs]
sizes = [len(urllib.request.urlopen(f"{base}/docs/assets/{a}", timeout=5).read()) for a in assets]
if len(assets) != 3 or min(sizes) < 1000:  # the package data of fastapi-offline came with the install
    sys.exit(f"/docs assets missing from the install: {assets} {sizes}")
print(f"healthz 200, readyz {ready}, login ok, categories {categories.status}, /docs assets {sizes}")
PY
kill -TERM "$server"
wait "$server" || { echo "serve exited with $? on SIGTERM"; cat "$work/serve.log"; exit 1; }
server=""
grep -q '"msg": *"\?Application startup complete' "$work/serve.log" || grep -q "startup complete" "$work/serve.log"
echo "image steps OK"
