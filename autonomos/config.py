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
    sync_executor: Literal["ray", "inline"] = Field(
        "ray",
        description="`ray`: syncs run in per-tenant supervised Ray actors. `inline`: as tasks "
        "of the API process (no Ray; single-process deployments and tests).",
    )
    actor_idle_s: float = Field(
        300.0, gt=0, description="Idle connector actors are passivated after this many seconds."
    )
    max_body_bytes: int = Field(1_048_576, ge=1_024, description="Larger bodies get 413.")
    ray_address: str | None = Field(None, description="Existing cluster; else start one.")
    ray_port: int = Field(6390, ge=1, le=65_535, description="Local head GCS port (not 6379).")
    ray_dashboard_port: int = Field(8265, ge=1, le=65_535)
    ray_namespace: str = Field("autonomos")

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
