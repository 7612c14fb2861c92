import dataclasses
import time

from autonomos.aam.fingerprint import fingerprint, schema_identity
from autonomos.connectors.schema import FieldSpec, FieldType, StreamSchema

BASE = StreamSchema(
    "s",
    (
        FieldSpec("id", FieldType.INTEGER, nullable=False, description="key"),
        FieldSpec("name", FieldType.STRING),
        FieldSpec("billing.city", FieldType.STRING),
    ),
    primary_key=("id",),
)


def _with(fields: tuple[FieldSpec, ...], **kw: object) -> StreamSchema:
    return dataclasses.replace(BASE, fields=fields, **kw)  # type: ignore[arg-type]


def test_invariant_to_order_description_and_key() -> None:
    reordered = _with(
        tuple(dataclasses.replace(f, description="other") for f in reversed(BASE.fields)),
        primary_key=("name",),
        cursor_field="name",
    )
    assert fingerprint(reordered) == fingerprint(BASE)
    assert len(fingerprint(BASE)) == 64


def test_changes_on_type_nullability_and_name() -> None:
    f0, f1, f2 = BASE.fields
    variants = [
        _with((dataclasses.replace(f0, type=FieldType.STRING), f1, f2)),
        _with((dataclasses.replace(f0, nullable=True), f1, f2)),
        _with((f0, dataclasses.replace(f1, name="full_name"), f2)),
        _with((f0, f1)),
    ]
    prints = {fingerprint(v) for v in variants}
    assert len(prints) == 4 and fingerprint(BASE) not in prints


def test_schema_identity_carries_key_and_cursor() -> None:
    ident = schema_identity(_with(BASE.fields, cursor_field="UpdatedAt"))
    assert ident["primary_key"] == ["id"] and ident["cursor_field"] == "updated_at"
    assert ident["fingerprint"] == fingerprint(BASE)


def test_500_columns_fast() -> None:
    wide = StreamSchema("w", tuple(FieldSpec(f"Col{i}.Sub", FieldType.NUMBER) for i in range(500)))
    fingerprint(wide)
    n = 200
    t = time.perf_counter()
    for _ in range(n):
        fingerprint(wide)
    per_call = (time.perf_counter() - t) / n
    assert per_call < 0.005, per_call  # typically ~0.4 ms; loose to avoid flakiness
