"""Argon2id PasswordService: hashing, verification, rehash, and OWASP floors."""

from __future__ import annotations

import pytest

from autonomos.auth.passwords import Argon2Params, PasswordService

# OWASP minimum: as cheap as allowed, keeps the suite fast.
MIN_PARAMS = Argon2Params(time_cost=2, memory_cost_kib=19_456, parallelism=1)


@pytest.fixture(scope="module")
def service() -> PasswordService:
    return PasswordService(MIN_PARAMS)


async def test_hash_is_argon2id_and_salted(service: PasswordService) -> None:
    first = await service.hash("correct horse battery staple")
    second = await service.hash("correct horse battery staple")
    assert first.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in first
    assert first != second  # random salt per hash


async def test_verify_correct_password(service: PasswordService) -> None:
    stored = await service.hash("s3cret-pässword")
    assert await service.verify(stored, "s3cret-pässword") == (True, None)


async def test_verify_wrong_password(service: PasswordService) -> None:
    stored = await service.hash("s3cret")
    assert await service.verify(stored, "s3cret ") == (False, None)
    assert await service.verify(stored, "") == (False, None)


async def test_rehash_when_params_change(service: PasswordService) -> None:
    stored = await service.hash("pw")
    stronger = PasswordService(Argon2Params(time_cost=3, memory_cost_kib=19_456))
    ok, new_hash = await stronger.verify(stored, "pw")
    assert ok is True
    assert new_hash is not None
    assert "m=19456,t=3,p=1" in new_hash
    # The new hash verifies and no longer needs a rehash.
    assert await stronger.verify(new_hash, "pw") == (True, None)


async def test_no_rehash_on_wrong_password_even_if_params_changed(
    service: PasswordService,
) -> None:
    stored = await service.hash("pw")
    stronger = PasswordService(Argon2Params(time_cost=3, memory_cost_kib=19_456))
    assert await stronger.verify(stored, "nope") == (False, None)


@pytest.mark.parametrize(
    "corrupt",
    [
        "",
        "not-a-hash",
        "$argon2id$v=19$m=19456,t=2,p=1$garbage",
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$",
        "$2b$12$abcdefghijklmnopqrstuuJ0fJ0fJ0fJ0fJ0fJ0fJ0fJ0fJ0fJ0f",  # bcrypt
        "$argon2id$v=19$m=19456,t=2,p=1$ü$ü",  # non-ASCII
    ],
)
async def test_corrupt_hash_returns_false_never_raises(
    service: PasswordService, corrupt: str
) -> None:
    assert await service.verify(corrupt, "pw") == (False, None)


async def test_truncated_real_hash_returns_false(service: PasswordService) -> None:
    stored = await service.hash("pw")
    assert await service.verify(stored[:-5], "pw") == (False, None)


async def test_dummy_verify_runs(service: PasswordService) -> None:
    await service.dummy_verify()  # must not raise


def test_default_params_are_owasp_baseline() -> None:
    assert Argon2Params() == Argon2Params(time_cost=2, memory_cost_kib=19_456, parallelism=1)


@pytest.mark.parametrize(
    ("memory_cost_kib", "time_cost"),
    [(47_104, 1), (19_456, 2), (12_288, 3), (9_216, 4), (7_168, 5), (65_536, 3)],
)
def test_owasp_equivalent_params_accepted(memory_cost_kib: int, time_cost: int) -> None:
    Argon2Params(time_cost=time_cost, memory_cost_kib=memory_cost_kib).validate()


@pytest.mark.parametrize(
    ("memory_cost_kib", "time_cost", "parallelism"),
    [
        (19_455, 2, 1),  # just under 19 MiB at t=2
        (19_456, 1, 1),  # t=1 needs 46 MiB
        (47_103, 1, 1),
        (12_287, 3, 1),
        (9_215, 4, 1),
        (7_167, 5, 1),
        (4_096, 10, 1),  # below every tier, however many passes
        (19_456, 2, 0),
        (19_456, 0, 1),
    ],
)
def test_params_below_owasp_rejected(
    memory_cost_kib: int, time_cost: int, parallelism: int
) -> None:
    with pytest.raises(ValueError):
        Argon2Params(time_cost=time_cost, memory_cost_kib=memory_cost_kib, parallelism=parallelism)
