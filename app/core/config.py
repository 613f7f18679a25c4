"""Settings, split by concern, all read from the environment with the prefix ``GRID_``.

Each group is its own pydantic-settings class so that a module asks only for what it
uses; :func:`get_settings` assembles them once per process (tests build their own).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production-0000"


def _config() -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix="GRID_", env_file=".env", extra="ignore")


class DatabaseSettings(BaseSettings):
    model_config = _config()

    database_url: str = Field(
        default="sqlite+aiosqlite:///./grid_inspector.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///FILE (embedded) or postgresql+asyncpg://...",
    )
    database_echo: bool = False
    database_pool_size: int = 10
    database_connect_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=120,
        description="PostgreSQL: give up connecting after this long (503 database_unavailable)",
    )
    database_command_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="PostgreSQL: give up on a statement after this long (503); exports read in short batches",
    )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


class AuthSettings(BaseSettings):
    model_config = _config()

    secret_key: str = DEV_SECRET_KEY
    access_token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"


class StorageSettings(BaseSettings):
    model_config = _config()

    storage_backend: Literal["local", "s3"] = "local"
    storage_dir: str = "./grid_storage"
    s3_bucket: str = ""
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_prefix: str = ""


class PhotoSettings(BaseSettings):
    model_config = _config()

    max_photo_bytes: int = Field(default=15 * 1024 * 1024, description="per photo, enforced while streaming")
    max_photos_per_report: int = 9
    max_photo_pixels: int = Field(
        default=60_000_000, description="larger images are refused as decompression bombs"
    )
    max_report_json_bytes: int = 256 * 1024
    max_request_parts: int = 32
    photo_workers: int = Field(default=2, ge=1, description="threads for image work, off the event loop")
    # What decoding one photo may cost (app.photos.pipeline.Budget), checked from its structure before
    # any pixel is decoded; docs/performance.md budgets ~1 s of CPU and ~200 MB per request.
    max_decode_mb: int = Field(
        default=200,
        ge=16,
        description="estimated memory to decode one photo for any of its copies, MB (413 image_too_large "
        "above); a 24 MP iPhone HEIC needs ~190, a 12 MP HEIC ~100, a 12 MP JPEG ~25",
    )
    photo_memory_mb: int = Field(
        default=320,
        ge=16,
        description="estimated decode memory of all photo threads together, MB; jobs wait for room "
        "(at least max_decode_mb)",
    )
    max_jpeg_scans: int = Field(
        default=100,
        ge=1,
        description="scans of one JPEG (422 image_too_complex above): cameras write 1, progressive "
        "encoders ~10; decoding time grows with each",
    )
    max_jpeg_scan_blocks: int = Field(
        default=16_000_000,
        ge=1,
        description="8x8 blocks decoded over all scans of one JPEG (~40 ns each at worst: 16M is ~0.6 s); "
        "a 12 MP photo has ~0.3M, a 60 MP progressive one ~13M",
    )
    decode_cpu_seconds: float = Field(
        default=2.0, gt=0, description="CPU time one photo's decode may take before it is abandoned (422)"
    )
    body_idle_seconds: float = Field(
        default=30.0, description="408 when an upload sends nothing for this long"
    )
    body_min_bytes_per_s: int = Field(
        default=4096,
        ge=1,
        description="408 when a request body arrives slower on average, once body_idle_seconds have "
        "passed: its deadline is body_idle_seconds + its bytes so far / this rate",
    )
    photo_far_m: float = Field(
        default=200.0, description="flag a photo whose EXIF position is farther, metres"
    )
    photo_old_hours: float = Field(
        default=24.0, description="flag a photo taken longer before the report, hours"
    )

    @property
    def max_request_bytes(self) -> int:
        return self.max_photo_bytes * self.max_photos_per_report + self.max_report_json_bytes + 1024 * 1024


class ReportSettings(BaseSettings):
    model_config = _config()

    duplicate_radius_m: float = 50.0
    duplicate_days: int = 7
    clock_skew_future_s: int = 300
    # Delta sync re-sends the changes of this many seconds before a pass began, so a case written by
    # a transaction that committed after a phone read past it is never missed (clients dedupe by version).
    sync_overlap_s: int = Field(default=300, ge=0, le=86_400)
    export_batch_rows: int = Field(default=2000, ge=100, le=50_000)


class GridSettings(BaseSettings):
    model_config = _config()

    max_import_bytes: int = Field(default=64 * 1024 * 1024, description="largest GeoJSON import body, bytes")
    max_import_features: int = 500_000


class WorkflowSettings(BaseSettings):
    model_config = _config()

    auto_dispatch: bool = True
    timezone: str = "Asia/Shanghai"


class NotifySettings(BaseSettings):
    """Pushing work to units and the command centre (docs/notifications.md): webhooks and work-chat bots."""

    model_config = _config()

    notify_allow_networks: list[str] = Field(
        default_factory=list,
        description='CIDRs endpoints may target although private (e.g. ["10.20.0.0/16"]); none by default',
    )
    notify_retry_s: list[float] = Field(
        default_factory=lambda: [0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0],
        description="seconds before each attempt: the first is immediate; after the last, the delivery failed",
    )
    notify_wecom_url: str = "https://qyapi.weixin.qq.com"
    notify_dingtalk_url: str = "https://oapi.dingtalk.com"
    notify_feishu_url: str = "https://open.feishu.cn"
    notify_timeout_s: float = Field(default=10.0, gt=0, le=120)
    notify_worker: bool = Field(default=True, description="serve delivers and sweeps deadlines by itself")
    notify_poll_s: float = Field(
        default=1.0, gt=0, le=60, description="how often a worker looks for due work"
    )
    notify_sweep_s: float = Field(default=30.0, gt=0, le=3600, description="how often deadlines are swept")
    notify_bot_per_minute: int = Field(
        default=20, ge=1, le=1000, description="messages a bot accepts a minute"
    )
    notify_disable_after_s: float = Field(
        default=5 * 86400, gt=0, description="an endpoint failing this long is disabled"
    )
    notify_secrets_key: str | None = Field(
        default=None,
        description="key that encrypts endpoint secrets at rest; derived from GRID_SECRET_KEY if unset",
    )


class RateLimitSettings(BaseSettings):
    """Hits per window, counted in the database so all processes share them; 0 turns a limit off."""

    model_config = _config()

    login_per_username: int = Field(
        default=10, ge=0, description="login attempts for one username per window"
    )
    login_per_address: int = Field(
        default=60, ge=0, description="login attempts from one client address per window"
    )
    login_window_s: int = Field(default=300, ge=1, le=86_400)
    reports_per_user: int = Field(default=30, ge=0, description="reports one user files per window")
    reports_per_api_key: int = Field(
        default=600, ge=0, description="reports (Open311 requests) one API key files per window"
    )
    reports_window_s: int = Field(default=60, ge=1, le=86_400)


class Settings(BaseSettings):
    """The whole configuration; ``env`` is ``development`` (default) or ``production``."""

    model_config = _config()

    env: Literal["development", "production", "test"] = "development"
    service_name: str = "Grid Inspector"
    jurisdiction_id: str = "620802"
    # The service's public address (e.g. https://grid.pingliang.gov.cn/), used in links it hands out
    # (Open311 discovery and media_url); without it, the address the request came to.
    public_url: str | None = None
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="largest request body of a route that takes no uploads, bytes",
    )
    metrics_token: str | None = None  # when set, /metrics wants it as the basic-auth password
    # Browser frontends on other origins allowed to call the API (CORS), e.g. ["https://grid.example.cn"];
    # empty: none. "*" admits any origin without credentials (for a public Open311 feed).
    cors_origins: list[str] = Field(default_factory=list)
    # What Open311 clients read without an api_key (docs/api.md "Open311 GeoReport v2"): none (the careful
    # default for a government deployment), open311 (only requests filed through Open311), or all.
    open311_public_reads: Literal["none", "open311", "all"] = "none"

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    photos: PhotoSettings = Field(default_factory=PhotoSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    grids: GridSettings = Field(default_factory=GridSettings)
    workflow: WorkflowSettings = Field(default_factory=WorkflowSettings)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)

    @property
    def workflow_tz(self) -> dt.tzinfo:
        """The city's time zone (naive EXIF times and working hours are read in it)."""
        return ZoneInfo(self.workflow.timezone)

    @model_validator(mode="after")
    def _refuse_unsafe_settings(self) -> Settings:
        if len(self.auth.secret_key) < 16:  # an empty key makes every login a 500 (PyJWT refuses it)
            raise ValueError("GRID_SECRET_KEY must be at least 16 characters (32 random ones in production)")
        if self.env == "production":
            key = self.auth.secret_key
            if key == DEV_SECRET_KEY or len(key) < 32 or len(set(key)) < 10:
                raise ValueError(
                    "GRID_SECRET_KEY must be set to a random value of at least 32 characters (not a repeated "
                    "pattern) "
                    "when GRID_ENV=production (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
                )
        if self.public_url is not None:
            parts = urlsplit(self.public_url)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
                raise ValueError(
                    "GRID_PUBLIC_URL must be an http(s) address such as https://grid.example.cn/"
                )
        elif self.env == "production":
            # Links handed out (Open311 discovery, media_url) would otherwise come from the request's Host
            # header, which any client sets.
            raise ValueError(
                "GRID_PUBLIC_URL must be set when GRID_ENV=production (e.g. https://grid.example.cn/)"
            )
        return self


@functools.lru_cache
def get_settings() -> Settings:
    """The process's settings, read from the environment once."""
    return Settings()
