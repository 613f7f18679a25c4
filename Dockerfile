# Grid Inspector: a multi-stage image that runs as a non-root user.
# Build:   docker build -t grid-inspector .
# Migrate: docker run --rm -e GRID_DATABASE_URL=postgresql+asyncpg://... grid-inspector migrate
# Serve:   docker run -p 8000:8000 -e GRID_ENV=production -e GRID_SECRET_KEY=... -e GRID_DATABASE_URL=... grid-inspector
# The same steps without Docker (what CI checks): scripts/check_image_steps.sh
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
# A regular (not editable) install, with boto3 for an S3-compatible photo store.
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/venv/bin/pip install --no-cache-dir '.[s3]'

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /srv/grid grid && mkdir -p /srv/grid/storage && chown -R grid /srv/grid
COPY --from=build /opt/venv /opt/venv
COPY --from=build /src/migrations /opt/grid-inspector/migrations
ENV PATH=/opt/venv/bin:$PATH \
    GRID_MIGRATIONS_DIR=/opt/grid-inspector/migrations \
    GRID_STORAGE_DIR=/srv/grid/storage \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /srv/grid
USER grid
# Photos, when GRID_STORAGE_BACKEND=local; with several replicas use S3 (GRID_STORAGE_BACKEND=s3) instead.
VOLUME ["/srv/grid/storage"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
ENTRYPOINT ["grid-inspector"]
# Behind a load balancer, set FORWARDED_ALLOW_IPS to its address so client addresses (login limits, logs) are right.
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
