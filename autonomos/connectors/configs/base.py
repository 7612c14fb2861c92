"""The base of the per-source-type configuration models, and secrets in configurations.

Each source type has one pydantic model, used twice: by the API at create/patch time
(a bad configuration is a 422 with a clear message, not a late sync failure) and by the
connector itself (``Connector.options``), so there is one definition of what a source
accepts. Unknown keys are refused.

Secrets are addressed by dotted paths (``password``, ``storage_options.secret``). The
stored plain configuration holds each secret's *masked* value at its path, so it is also
what the API shows; the secrets themselves are encrypted at rest (``SecretBox``) and put
back with :func:`join` only to build a connector.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from autonomos.common.errors import FailureType
from autonomos.connectors.edge import EdgePolicy, Endpoint
from autonomos.connectors.errors import ConnectorError

MASK = "***"


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=8192)

    source_type: ClassVar[str]
    secret_fields: ClassVar[tuple[str, ...]] = ()  # top-level keys that are secrets

    @classmethod
    def parse(cls, config: Mapping[str, Any]) -> Self:
        """Validate; a bad configuration is a CONFIGURATION error naming each problem."""
        try:
            return cls.model_validate(dict(config))
        except ValidationError as exc:
            raise ConnectorError(
                f"invalid {cls.source_type} configuration: {describe(exc)}",
                FailureType.CONFIGURATION,
            ) from None

    def secret_paths(self) -> list[str]:
        """Dotted paths of the secrets this configuration holds."""
        return [k for k in self.secret_fields if getattr(self, k, None) not in (None, "")]

    def secret_values(self) -> list[str]:
        """Every secret as text, for redacting messages."""
        dumped = self.model_dump(exclude_none=True)
        out: list[str] = []
        for path in self.secret_paths():
            value = get_path(dumped, path)
            out.extend(texts(value))
        return out

    def mask(self, path: str, value: Any) -> Any:
        """What the API shows in place of the secret at ``path``."""
        return MASK

    def endpoints(self) -> frozenset[Endpoint]:
        """Where this configuration's secrets are sent; changing it needs the secrets."""
        return frozenset()

    def check_edge(self, edge: EdgePolicy) -> None:
        """Refuse paths, URLs and hosts outside the tenant's edge policy (before I/O)."""


def describe(exc: ValidationError) -> str:
    """Pydantic's errors without the input values (they may hold secrets)."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = ".".join(str(x) for x in error.get("loc", ()))
        msg = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts[:10])


def texts(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [t for v in value.values() for t in texts(v)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in texts(v)]
    return [str(value)] if value not in (None, "") and not isinstance(value, bool) else []


def get_path(config: Mapping[str, Any], path: str) -> Any:
    node: Any = config
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def has_path(config: Mapping[str, Any], path: str) -> bool:
    node: Any = config
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return False
        node = node[key]
    return True


def set_path(config: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = config
    for key in parents:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[last] = value


def split(model: SourceConfig, config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(plain config with secrets masked, {dotted path: secret}) of a validated config."""
    plain = copy.deepcopy(dict(config))
    secrets: dict[str, Any] = {}
    for path in model.secret_paths():
        if has_path(plain, path):
            value = get_path(plain, path)
            secrets[path] = value
            set_path(plain, path, model.mask(path, value))
    return plain, secrets


def join(plain: Mapping[str, Any], secrets: Mapping[str, Any]) -> dict[str, Any]:
    """The full configuration: the stored plain one with its secrets put back."""
    config = copy.deepcopy(dict(plain))
    for path, value in secrets.items():
        set_path(config, path, value)
    return config


def public(plain: Mapping[str, Any], secrets: Mapping[str, Any]) -> dict[str, Any]:
    """What the API shows: secrets masked (rows stored before masking included)."""
    shown = copy.deepcopy(dict(plain))
    for path in secrets:
        if not has_path(shown, path) or get_path(shown, path) == secrets[path]:
            set_path(shown, path, MASK)
    return shown


def merge_update(
    plain: Mapping[str, Any], secrets: Mapping[str, Any], patch: Mapping[str, Any]
) -> tuple[dict[str, Any], set[str]]:
    """The configuration after a PATCH, and the secret paths the PATCH sent anew.

    Top-level keys of ``patch`` replace the stored ones. A secret sent back as ``***``
    (or as the masked form the API showed) keeps its stored value: a client that sends
    back what it read keeps the secrets it cannot see.
    """
    merged = {**join(plain, secrets), **copy.deepcopy(dict(patch))}
    resent: set[str] = set()
    for path, secret in secrets.items():
        if not has_path(patch, path):
            continue
        value = get_path(patch, path)
        if value == MASK or value == get_path(plain, path):
            set_path(merged, path, secret)
        else:
            resent.add(path)
    return merged, resent
