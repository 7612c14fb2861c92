"""A bounded, seeded schemathesis run over every operation of the app's OpenAPI document.

Each operation is called with tenant A's admin token. Schema-valid requests name A's
real objects in their path (so they reach the code behind the lookup), and are sent a
second time naming tenant B's objects, which must answer 404 like a missing id.
Invalid requests (schemathesis' negative mode and coverage phase) keep what was
generated. Every response is checked: no 500 (nor an undocumented 5xx), status codes,
content types, headers and bodies as documented, schema-valid requests accepted and
invalid ones refused, authentication not ignored, 405s naming the allowed methods.

What the document cannot say, and is therefore allowed here (each with its reason):
``SEMANTIC`` lists the operations whose input is a small language or names things
only the server knows, which a schema-valid request can still get wrong (the answer is
then a 400/422 with the reason); e-mail addresses are drawn from ordinary domains,
since the API (like e-mail itself) refuses special-use ones such as ``.test``.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from tests.conftest import make_settings, register
from tests.security.harness import Estate, LoopBridge, build_estate, running

SEED = 20261203
MAX_EXAMPLES = 10
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # schemathesis' default
SEMANTIC: dict[str, tuple[str | tuple[str, ...], str]] = {
    "runQuery": ("400", "SQL: only one parseable SELECT over the tenant's views runs"),
    "readView": ("400", "fields, filters and sort name the view's columns"),
    "setMapping": ("422", "the target must be a field of that entity; transform grammar"),
    "editRepairProposal": ("422", "the target must be an ontology field; transform grammar"),
    "getLlmUsage": ("422", "since must not be after until"),
    "uploadFiles": ("422", "a file's name must carry a format the files connector reads"),
    "addKbDocument": (("415", "422"), "a document's bytes must be text, Markdown or PDF"),
    # a connector's config is checked by building the connector (sec-files gives each
    # source type its own schema, but paths and hosts are still checked at run time)
    "createConnection": ("422", "the connector's config"),
    "updateConnection": ("422", "the connector's config"),
    # agents: cron schedules, and an agent's parameters checked by its own model
    "registerAgent": ("422", "a cron schedule; an internal agent's code and params"),
    "updateAgent": ("422", "a cron schedule; the agent's params"),
    "startAgentRun": ("422", "run params by the agent's model; a report's times and status"),
    "listAgentFindings": ("422", "since needs a time zone"),
    "getAgentMetrics": ("422", "times need a zone; since before until"),
    "listEvents": ("422", "types names event types or their prefixes (`sync.*`)"),
}


def _document() -> dict[str, Any]:
    from autonomos.serve_apps.api.app import create_app

    with tempfile.TemporaryDirectory() as data_dir:
        return create_app(make_settings(Path(data_dir))).openapi()


DOC = _document()
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "no-shrink": True,
            "deterministic": True,
        },
        "phases": {"stateful": {"enabled": False}},
        "operations": [
            {
                "include-operation-id": operation_id,
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": [
                            *ACCEPTED,
                            *((status,) if isinstance(status, str) else status),
                        ]
                    }
                },
            }
            for operation_id, (status, _why) in SEMANTIC.items()
        ],
    }
)
# an endless stream cannot be called in-process (the transport waits for its end); its
# auth and input checks are in tests/integration/serve_apps/api/routes/test_events.py
schema = schemathesis.openapi.from_dict(DOC, config=CONFIG).exclude(operation_id="streamEvents")
schemathesis.openapi.format(
    "email",
    st.emails(domains=st.from_regex(r"[a-z][a-z0-9]{0,10}\.(com|org|net|io)", fullmatch=True)),
)


def no_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """No 500 ever; another 5xx only where the operation documents it (a job server or
    a data source that is down here is an honest, documented 503/502)."""
    operation = DOC["paths"][case.operation.path].get(case.method.lower(), {})
    documented = operation.get("responses", {})  # none for the methods a path lacks
    status = response.status_code
    if status == 500 or (status > 500 and str(status) not in documented):
        raise AssertionError(f"server error {status}: {response.text[:300]}")
    return None


@dataclass
class Target:
    bridge: LoopBridge
    a: Estate
    b: Estate

    def ids(self, case: Any, estate: Estate) -> dict[str, Any]:
        """``case``'s path parameters naming ``estate``'s objects (a separate connection
        for deletions, so the others stay; another user than the admin for user routes)."""
        names = dict(estate.ids, user_id=estate.ids["other_user_id"])
        if case.method.upper() == "DELETE":
            names["connection_id"] = estate.ids["doomed_connection_id"]
        return {name: names[name] for name in case.path_parameters}


@pytest.fixture(scope="session")
async def fuzz_estates(
    api: httpx.AsyncClient, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Estate, Estate]:
    """Tenants A and B of the fuzz run (its own: the run changes A's objects)."""
    estates = []
    for prefix in ("fuzz-a", "fuzz-b"):
        folder = tmp_path_factory.mktemp(prefix)
        estate = await build_estate(api, await register(api, prefix), folder)
        estates.append(estate)
    return estates[0], estates[1]


@pytest.fixture
def target(
    api: httpx.AsyncClient,
    app_loop: asyncio.AbstractEventLoop,
    fuzz_estates: tuple[Estate, Estate],
) -> Iterator[Target]:
    with running(app_loop):
        yield Target(LoopBridge(api.app, app_loop), *fuzz_estates)  # type: ignore[attr-defined]


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_operation_conforms(case: Any, target: Target) -> None:
    headers = target.a.tenant.headers
    kwargs: dict[str, Any] = {
        "app": target.bridge,
        "headers": headers,
        "additional_checks": [no_server_error],
        "excluded_checks": [not_a_server_error],
    }
    valid = case.meta is not None and case.meta.generation.mode.is_positive
    ids = [name for name in case.path_parameters or () if name != "entity"]
    if valid and case.path_parameters:
        case.path_parameters = target.ids(case, target.a)
    case.call_and_validate(**kwargs)
    if valid and ids:  # the same request, naming tenant B's objects
        theirs = target.ids(case, target.b)
        case.path_parameters = {**case.path_parameters, **{n: theirs[n] for n in ids}}
        other = case.call_and_validate(**kwargs)
        assert other.status_code == 404, (case.operation.label, other.status_code, other.text)
        assert other.json()["error"]["code"] == "not_found"


async def test_the_fuzzed_document_is_the_served_one(
    api: httpx.AsyncClient, fuzz_estates: tuple[Estate, Estate]
) -> None:
    r = await api.get("/openapi.json", headers=fuzz_estates[0].tenant.headers)
    assert r.status_code == 200 and r.json() == DOC
