"""Write the API's OpenAPI schema (no server, no database) for the dashboard's client.

    .venv/bin/python scripts/dump_openapi.py [OUT.json]     (stdout without OUT)

``frontend/scripts/gen-api.mjs`` turns it into ``frontend/src/api/schema.ts``;
``tests/e2e/test_api_client.py`` fails when the committed client is out of date.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any


def openapi_schema() -> dict[str, Any]:
    from autonomos.config import Settings
    from autonomos.serve_apps.api.app import create_app

    with tempfile.TemporaryDirectory() as data_dir:  # building the app touches no state
        settings = Settings(_env_file=None, data_dir=Path(data_dir))  # type: ignore[call-arg]
        return create_app(settings).openapi()


def main(argv: list[str]) -> None:
    text = json.dumps(openapi_schema(), indent=2) + "\n"
    if len(argv) > 1:
        Path(argv[1]).write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv)
