"""Sample values of synthetic fields: what a column of each kind holds (emails, phones,
timestamps, ids, money, ...), for the value-profile signal."""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime, timedelta
from typing import Any

from autonomos.matching.synth_vocab import OPAQUE
from autonomos.matching.text import split_words

__all__ = ["kind_of", "sample_values"]


_BASE = datetime(2025, 6, 1, tzinfo=UTC)


def kind_of(name: str, ftype: str) -> str:
    w = set(split_words(name))
    if ftype in ("timestamp", "date"):
        return "timestamp"
    if ftype == "boolean":
        return "bool"
    if ftype == "json":
        return "json"
    if w & {"email", "mail"}:
        return "email"
    if w & {"phone", "fax", "mobile"}:
        return "phone"
    if w & {"domain", "website", "url", "href", "link"}:
        return "url"
    if "currency" in w:
        return "currency"
    if "country" in w:
        return "country"
    if ftype in ("decimal", "integer"):
        return (
            "money"
            if w
            & {
                "amount",
                "cost",
                "total",
                "price",
                "revenue",
                "tax",
                "mrr",
                "subtotal",
                "balance",
                "fee",
            }
            else "integer"
        )
    if w & {"id", "key", "uuid", "number"}:
        return "id"
    if w & {"name", "title"}:
        return "name"
    if w & {"description", "body", "subject", "notes", "message"}:
        return "text"
    return "enum"


def sample_values(rng: random.Random, kind: str, n: int) -> list[Any]:
    def one() -> Any:
        word = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 9)))
        if kind == "timestamp":
            t = _BASE - timedelta(minutes=rng.randint(0, 900_000))
            return rng.choice([t.isoformat(), t.strftime("%Y-%m-%d"), int(t.timestamp())])
        if kind == "bool":
            return rng.choice([True, False])
        if kind == "json":
            return rng.choice([[word], {"k": word}, "[]"])
        if kind == "email":
            return f"{word}@{rng.choice(['acme.com', 'example.org', 'mail.de'])}"
        if kind == "phone":
            return f"+1 {rng.randint(200, 999)}-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}"
        if kind == "url":
            return rng.choice([f"https://www.{word}.com", f"{word}.io", f"http://{word}.co.uk/"])
        if kind == "currency":
            return rng.choice(["usd", "EUR", "gbp", "USD"])
        if kind == "country":
            return rng.choice(["US", "DE", "United Kingdom", "FR", "Canada"])
        if kind == "money":
            return round(rng.uniform(1, 50_000), 2)
        if kind == "integer":
            return rng.randint(0, 5000)
        if kind == "id":
            return rng.choice([f"{word[:3]}_{rng.getrandbits(48):x}", rng.randint(1, 10**7)])
        if kind == "name":
            return f"{word.capitalize()} {rng.choice(['Inc.', 'Ltd', 'Group', 'Smith'])}"
        if kind == "text":
            return " ".join(rng.choice(OPAQUE) for _ in range(rng.randint(8, 20)))
        return rng.choice(["open", "closed", "pending", "active", "new", "won"])

    return [one() for _ in range(n)]
