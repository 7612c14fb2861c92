"""The LLM port: schema subset, strict JSON parsing, the offline backend, get_llm."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError

from autonomos.config import Settings
from autonomos.models import _jsonschema as js
from autonomos.models.errors import LLMOutputError
from autonomos.models.llm import LLM, OfflineLLM, OpenAICompatibleLLM, get_llm, parse_json_object
from autonomos.models.telemetry import UsageRecorder

RERANK = {
    "choice": ["account.name", "account.legal_name", "none"],
    "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    "reason": "string",
}


def settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **kw)  # type: ignore[call-arg]


def test_shorthand_expands_to_required_properties() -> None:
    schema = js.normalize(RERANK)
    assert schema["type"] == "object"
    assert schema["required"] == ["choice", "confidence", "reason"]
    assert schema["properties"]["choice"] == {
        "enum": ["account.name", "account.legal_name", "none"]
    }
    assert schema["properties"]["reason"] == {"type": "string"}


def test_json_schema_is_kept_and_unsupported_keywords_refused() -> None:
    full = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    assert js.normalize(full) == full
    with pytest.raises(js.SchemaError, match="oneOf"):
        js.normalize({"type": "object", "oneOf": []})
    with pytest.raises(js.SchemaError, match="unknown type"):
        js.normalize({"a": "text"})
    with pytest.raises(js.SchemaError):
        js.normalize({})


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"choice": "account.name", "confidence": 0.8}, "missing required key 'reason'"),
        ({"choice": "other", "confidence": 0.8, "reason": ""}, "is not one of"),
        ({"choice": "none", "confidence": 1.5, "reason": ""}, "above 1"),
        ({"choice": "none", "confidence": "high", "reason": ""}, "expected number, got string"),
        ({"choice": "none", "confidence": True, "reason": ""}, "got boolean"),
    ],
)
def test_validation_says_what_is_wrong(value: dict, fragment: str) -> None:
    errors = js.validate(value, js.normalize(RERANK))
    assert any(fragment in e for e in errors), errors


def test_nested_arrays_and_objects() -> None:
    schema = js.normalize(
        {
            "mappings": {
                "type": "array",
                "minItems": 1,
                "items": {"source": "string", "score": "number"},
            }
        }
    )
    assert js.validate({"mappings": [{"source": "a", "score": 1}]}, schema) == []
    errors = js.validate({"mappings": [{"source": 3, "score": 1}]}, schema)
    assert errors == ["$.mappings[0].source: expected string, got integer"]
    assert js.validate({"mappings": []}, schema) == ["$.mappings: fewer than 1 items"]


def test_example_satisfies_its_schema() -> None:
    for schema in (
        RERANK,
        {"n": {"type": "integer", "minimum": 3}, "flag": "boolean", "tags": "array"},
        {"inner": {"x": {"type": "number", "maximum": -2}}, "maybe": {"type": ["null", "string"]}},
    ):
        normalized = js.normalize(schema)
        assert js.validate(js.example(normalized), normalized) == []


def test_parse_accepts_a_fenced_object_and_refuses_the_rest() -> None:
    schema = js.normalize({"ok": "boolean"})
    assert parse_json_object('```json\n{"ok": true}\n```', schema) == {"ok": True}
    assert parse_json_object(' {"ok": false} ', schema) == {"ok": False}
    with pytest.raises(LLMOutputError, match="not JSON") as e:
        parse_json_object("Sure! Here it is: ok", schema)
    assert e.value.failure == "terminal" and e.value.output.startswith("Sure!")
    with pytest.raises(LLMOutputError, match="not a JSON object"):
        parse_json_object("[true]", schema)
    with pytest.raises(LLMOutputError, match="schema") as e:
        parse_json_object('{"ok": "yes"}', schema)
    assert e.value.errors == ["$.ok: expected boolean, got string"]


def test_offline_llm_is_deterministic_and_counted() -> None:
    recorder = UsageRecorder()
    llm = OfflineLLM(recorder=recorder)
    assert isinstance(llm, LLM)
    tenant = uuid.uuid4()
    first = llm.complete_json(tenant, "Which target fits `acct_nm`?", RERANK)
    assert first == {"choice": "account.name", "confidence": 0.0, "reason": ""}
    assert llm.complete_json(None, "anything else", RERANK) == first
    [(key, usage)] = recorder.pending().items()
    assert (key.kind, key.model, usage.calls, usage.errors) == ("llm", "offline", 1, 0)


def test_get_llm_follows_the_settings(tmp_path: Path) -> None:
    # auto without a model: the offline backend (the default); none turns it off
    assert isinstance(get_llm(settings(tmp_path)), OfflineLLM)
    assert get_llm(settings(tmp_path, llm_backend="none", llm_model="m")) is None
    assert isinstance(get_llm(settings(tmp_path, llm_backend="offline")), OfflineLLM)
    llm = get_llm(settings(tmp_path, llm_model="qwen", llm_base_url="http://127.0.0.1:9/v1"))
    assert isinstance(llm, OpenAICompatibleLLM) and llm.model == "qwen"  # no request made


def test_openai_backend_needs_a_model(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="AUTONOMOS_LLM_MODEL"):
        settings(tmp_path, llm_backend="openai")
