"""MongoDB connector: one stream per collection, schema inferred by sampling.

Documents are flattened to dotted columns (``address.city``); arrays and empty documents
become JSON text, ObjectIds strings. A field's type is its sampled BSON type; mixed types
widen (int + double -> NUMBER, with decimal -> DECIMAL), any other mix becomes JSON when
an array or document is involved and STRING otherwise, so no sampled value is lost.

Reads use keyset pagination on ``(cursor_field, _id)`` (or ``_id`` alone), one query per
batch, so there is no server cursor to time out and a state resumes exactly after its
batch. State values are MongoDB Extended JSON (``{"$date": ...}``, ``{"$oid": ...}``) so
the cursor keeps its BSON type across the JSON round trip.

Restrictions: documents without the cursor field are read by the first (state-less) read
only; deletes are not seen (no change streams); fields absent from the sample but present
in a batch are added to that batch, typed from the batch itself.

pymongo is imported lazily: the package works without the ``mongo`` extra.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa

from autonomos.connectors.base import (
    Connector,
    ConnectorError,
    FailureType,
    ReadItem,
    RecordBatchMessage,
    StateMessage,
    redact,
)
from autonomos.connectors.configs.databases import MongoConfig, mongo_hosts
from autonomos.connectors.edge import EdgePolicy
from autonomos.connectors.schema import FieldSpec, FieldType, StreamSchema

log = logging.getLogger(__name__)

ClientFactory = Callable[[str], Any]  # uri -> a pymongo.MongoClient-compatible client

_AUTH_CODES = {13, 18, 8000}  # Unauthorized, AuthenticationFailed, Atlas bad auth
_TRANSIENT_CODES = {6, 7, 50, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436}
_DECIMAL_QUANTUM = Decimal(1).scaleb(-9)  # decimal128(38, 9)
_NUMERIC = {FieldType.INTEGER, FieldType.NUMBER, FieldType.DECIMAL}


def _pymongo() -> Any:
    try:
        import pymongo
    except ImportError:
        raise ConnectorError(
            "the MongoDB connector needs pymongo: install autonomos[mongo]",
            FailureType.CONFIGURATION,
        ) from None
    return pymongo


def _bson() -> Any:
    _pymongo()  # bson ships with pymongo: same install hint
    import bson
    import bson.json_util

    return bson


def _default_client(uri: str) -> Any:
    return _pymongo().MongoClient(
        uri, serverSelectionTimeoutMS=10_000, tz_aware=False, appname="autonomos"
    )


class MongoConnector(Connector):
    """Config: see :class:`~autonomos.connectors.configs.databases.MongoConfig`.

    With ``AUTONOMOS_CONNECTOR_BLOCK_PRIVATE`` the seed hosts (an SRV URI: the hosts its
    SRV record names) are resolved and checked before the client is created.
    Restriction: the driver resolves them again itself, and replica-set members that a
    server announces are not checked.
    """

    kind = "mongodb"
    config_model = MongoConfig
    options: MongoConfig

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        client_factory: ClientFactory | None = None,
        edge: EdgePolicy | None = None,
    ) -> None:
        super().__init__(config, edge=edge)
        self.settings = self.options
        self._client_factory = client_factory or _default_client
        self._client: Any = None
        self._schemas: dict[str, StreamSchema] = {}

    def secrets(self) -> list[str]:
        uri = str(self.config.get("uri", ""))
        password = urllib.parse.urlsplit(uri).password or ""
        return [uri, password, urllib.parse.unquote(password)]

    # -- protocol -------------------------------------------------------------------------

    def check(self) -> None:
        with self._errors("check"):
            self._collection_names()

    def discover(self) -> list[StreamSchema]:
        with self._errors("discover"):
            return [self._schema(name) for name in self._collection_names()]

    def read(self, stream: str, state: Mapping[str, Any] | None) -> Iterator[ReadItem]:
        with self._errors(f"read {stream}"):
            schema = self._schema(stream)
            collection = self._db()[stream]
            cursor_field = schema.cursor_field
            last = _decode_state(state)
            sort = [(cursor_field, 1), ("_id", 1)] if cursor_field else [("_id", 1)]
            while True:
                query = _keyset_filter(cursor_field, last)
                docs = list(collection.find(query).sort(sort).limit(self.settings.batch_size))
                if not docs:
                    return
                yield RecordBatchMessage(_to_batch(stream, docs, schema))
                tail = docs[-1]
                last = {"last_id": tail["_id"]}
                if cursor_field:
                    last["cursor"] = _get_path(tail, cursor_field)
                yield StateMessage(_encode_state(last))
                if len(docs) < self.settings.batch_size:
                    return

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- internals ------------------------------------------------------------------------

    def _db(self) -> Any:
        if self._client is None:
            if self.edge is not None and self.edge.block_private_databases:
                for host, port in self._seed_hosts():
                    self.edge.check_database_host(host, port, strict=True)
            self._client = self._client_factory(self.options.uri)
        return self._client[self.settings.database]

    def _seed_hosts(self) -> list[tuple[str, int]]:
        if not self.options.is_srv:
            return mongo_hosts(self.options.uri)
        _pymongo()
        from pymongo import uri_parser

        parsed = uri_parser.parse_uri(self.options.uri, connect_timeout=10)
        return [(str(h), int(p)) for h, p in parsed["nodelist"]]

    def _collection_names(self) -> list[str]:
        existing = [n for n in self._db().list_collection_names() if not n.startswith("system.")]
        wanted = self.settings.collections
        if wanted is None:
            return sorted(existing)
        if missing := sorted(set(wanted) - set(existing)):
            raise ConnectorError(
                f"MongoDB database {self.settings.database!r} has no collection(s) {missing}",
                FailureType.CONFIGURATION,
            )
        return list(wanted)

    def _schema(self, name: str) -> StreamSchema:
        if name not in self._schemas:
            collection = self._db()[name]
            size = self.settings.sample_size
            try:
                sample = list(collection.aggregate([{"$sample": {"size": size}}]))
            except _pymongo().errors.OperationFailure:  # servers without $sample
                sample = list(collection.find().limit(size))
            cursor_field = self.settings.cursor_field.get(name)
            fields = _infer([_flatten(d) for d in sample], required=cursor_field)
            self._schemas[name] = StreamSchema(
                name=name,
                fields=fields,
                primary_key=("_id",),
                cursor_field=cursor_field,
                extra={"database": self.settings.database, "sampled": str(len(sample))},
            )
        return self._schemas[name]

    def _errors(self, action: str) -> _ErrorScope:
        return _ErrorScope(self, action)

    def classify(self, exc: Exception, action: str) -> ConnectorError:
        """Map a pymongo exception onto a failure type, with secrets removed."""
        errors = _pymongo().errors
        failure = FailureType.TERMINAL
        if isinstance(exc, errors.OperationFailure):
            if exc.code in _AUTH_CODES:
                failure = FailureType.CONFIGURATION
            elif exc.code in _TRANSIENT_CODES or exc.has_error_label("RetryableError"):
                failure = FailureType.TRANSIENT
        elif isinstance(exc, errors.ConnectionFailure | errors.ExecutionTimeout):
            failure = FailureType.TRANSIENT  # includes ServerSelectionTimeoutError
        elif isinstance(exc, errors.ConfigurationError | errors.InvalidName):
            failure = FailureType.CONFIGURATION
        message = f"MongoDB {action} on {self.settings.database!r}: {type(exc).__name__}: {exc}"
        return ConnectorError(redact(message, self.secrets()), failure)


class _ErrorScope:
    """Turns pymongo errors raised inside ``with`` into classified ConnectorErrors."""

    def __init__(self, connector: MongoConnector, action: str) -> None:
        self._connector, self._action = connector, action

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: Any) -> None:
        if exc is None or isinstance(exc, ConnectorError) or not isinstance(exc, Exception):
            return
        if isinstance(exc, _pymongo().errors.PyMongoError):
            error = self._connector.classify(exc, self._action)
            log.warning("%s", error)
            raise error from None


# -- documents ------------------------------------------------------------------------------


def _flatten(doc: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _get_path(doc: Mapping[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _bson_type(value: Any) -> tuple[str, FieldType]:
    """The BSON type name and the canonical type of one (non-null) value."""
    bson = _bson()
    if isinstance(value, bool):
        return "bool", FieldType.BOOLEAN
    if isinstance(value, bson.Int64):
        return "long", FieldType.INTEGER
    if isinstance(value, int):
        return "int", FieldType.INTEGER
    if isinstance(value, float):
        return "double", FieldType.NUMBER
    if isinstance(value, bson.Decimal128):
        return "decimal", FieldType.DECIMAL
    if isinstance(value, str):
        return "string", FieldType.STRING
    if isinstance(value, bson.ObjectId):
        return "objectId", FieldType.STRING
    if isinstance(value, dt.datetime):
        return "date", FieldType.TIMESTAMP
    if isinstance(value, bytes):
        return "binData", FieldType.BINARY
    if isinstance(value, list | tuple):
        return "array", FieldType.JSON
    if isinstance(value, Mapping):
        return "object", FieldType.JSON
    return type(value).__name__, FieldType.STRING


def _widen(kinds: set[FieldType]) -> FieldType:
    if len(kinds) == 1:
        return next(iter(kinds))
    if kinds <= {FieldType.INTEGER, FieldType.NUMBER}:
        return FieldType.NUMBER
    if kinds <= _NUMERIC:
        return FieldType.DECIMAL
    return FieldType.JSON if FieldType.JSON in kinds else FieldType.STRING


def _infer(docs: list[dict[str, Any]], required: str | None = None) -> tuple[FieldSpec, ...]:
    seen: dict[str, Counter[tuple[str, FieldType]]] = {"_id": Counter()}
    for doc in docs:
        for name, value in doc.items():
            counts = seen.setdefault(name, Counter())
            if value is not None:
                counts[_bson_type(value)] += 1
    if required:
        seen.setdefault(required, Counter())
    specs = []
    for name, counts in seen.items():
        ranked = [t for t, _ in counts.most_common()]
        kind = _widen({k for _, k in ranked}) if ranked else FieldType.STRING
        specs.append(
            FieldSpec(
                name=name,
                type=kind,
                nullable=name != "_id",
                source_type="|".join(dict.fromkeys(n for n, _ in ranked)) or None,
            )
        )
    return tuple(specs)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _utc(value).isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)  # ObjectId, Decimal128, Timestamp, UUID...


def _json_text(value: Any) -> str:
    return json.dumps(value, default=_json_default, sort_keys=True)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _convert(value: Any, kind: FieldType) -> Any:
    if value is None:
        return None
    bson_name, own = _bson_type(value)
    if kind is FieldType.JSON:
        return _json_text(value)
    if kind is FieldType.STRING:
        if isinstance(value, str):
            return value
        if isinstance(value, dt.datetime):
            return _utc(value).isoformat()
        return _json_text(value) if own is FieldType.JSON else str(value)
    if kind in _NUMERIC and own in _NUMERIC:
        number = value.to_decimal() if bson_name == "decimal" else value
        if kind is FieldType.NUMBER:
            return float(number)
        if kind is FieldType.DECIMAL:
            return Decimal(str(number)).quantize(_DECIMAL_QUANTUM)
        if own is FieldType.INTEGER:
            return int(number)
    if own is kind:
        return _utc(value) if kind is FieldType.TIMESTAMP else value
    raise TypeError(bson_name)


def _to_batch(stream: str, docs: list[dict[str, Any]], schema: StreamSchema) -> pa.RecordBatch:
    flat = [_flatten(d) for d in docs]
    known = {f.name for f in schema.fields}
    extra = [f for f in _infer(flat) if f.name not in known]
    columns, fields = [], []
    for spec in (*schema.fields, *extra):
        values = [row.get(spec.name) for row in flat]
        try:
            converted = [_convert(v, spec.type) for v in values]
        except (TypeError, InvalidOperation) as exc:
            raise ConnectorError(
                f"MongoDB {stream}.{spec.name}: a {exc} value does not fit its {spec.type} "
                f"column (schema drift: run discover again)",
                FailureType.TERMINAL,
            ) from None
        columns.append(pa.array(converted, type=spec.type.arrow_type()))
        fields.append(pa.field(spec.name, spec.type.arrow_type()))
    return pa.RecordBatch.from_arrays(columns, schema=pa.schema(fields))


# -- keyset state ---------------------------------------------------------------------------


def _json_options() -> Any:
    json_util = _bson().json_util
    return json_util.JSONOptions(json_mode=json_util.JSONMode.RELAXED, tz_aware=False)


def _encode_state(values: dict[str, Any]) -> dict[str, Any]:
    json_util = _bson().json_util
    encoded: dict[str, Any] = json.loads(json_util.dumps(values, json_options=_json_options()))
    return encoded


def _decode_state(state: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not state:
        return None
    json_util = _bson().json_util
    decoded: dict[str, Any] = json_util.loads(json.dumps(dict(state)), json_options=_json_options())
    return decoded


def _keyset_filter(cursor_field: str | None, last: Mapping[str, Any] | None) -> dict[str, Any]:
    if not last:
        return {}
    after_id = {"_id": {"$gt": last["last_id"]}}
    if not cursor_field:
        return after_id
    cursor = last.get("cursor")
    if cursor is None:  # the last batch ended among documents without the cursor field
        return {"$or": [{cursor_field: None, **after_id}, {cursor_field: {"$ne": None}}]}
    return {"$or": [{cursor_field: {"$gt": cursor}}, {cursor_field: cursor, **after_id}]}
