"""Shared building blocks of the demo generator: the fixed extract time, date and id helpers,
the fictional companies and people that appear across the source systems, and CSV writing."""

from __future__ import annotations

import csv
import math
import random
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

BASE = datetime(2026, 1, 1, tzinfo=UTC)  # the extract time ("now")
DAY = timedelta(days=1)
Row = dict[str, Any]


class Country(NamedTuple):
    name: str
    iso: str
    currency: str
    weight: int
    tld: str
    dial: str
    tax: float
    suffixes: tuple[str, ...]

    @property
    def cities(self) -> tuple[str, ...]:
        return _CITIES[self.iso]


COUNTRIES = [  # name, ISO-2, currency, weight, TLD, dialling code, sales tax, legal suffixes
    Country("United States", "US", "USD", 45, "com", "+1", 0.0, ("Inc.", "LLC", "Corp.")),
    Country("United Kingdom", "GB", "GBP", 14, "co.uk", "+44", 0.2, ("Ltd", "plc")),
    Country("Germany", "DE", "EUR", 10, "de", "+49", 0.19, ("GmbH", "AG")),
    Country("France", "FR", "EUR", 8, "fr", "+33", 0.2, ("SAS", "SA")),
    Country("Canada", "CA", "CAD", 7, "ca", "+1", 0.13, ("Inc.", "Ltd")),
    Country("Netherlands", "NL", "EUR", 5, "nl", "+31", 0.21, ("B.V.",)),
    Country("Australia", "AU", "AUD", 5, "com.au", "+61", 0.1, ("Pty Ltd",)),
    Country("Ireland", "IE", "EUR", 3, "ie", "+353", 0.23, ("Ltd",)),
    Country("Spain", "ES", "EUR", 3, "es", "+34", 0.21, ("S.L.",)),
]
_CITIES = {
    "US": ("San Francisco", "New York", "Austin", "Chicago", "Boston", "Seattle", "Denver"),
    "GB": ("London", "Manchester", "Edinburgh", "Bristol"),
    "DE": ("Berlin", "Munich", "Hamburg", "Frankfurt"),
    "FR": ("Paris", "Lyon"),
    "CA": ("Toronto", "Vancouver", "Montreal"),
    "NL": ("Amsterdam", "Rotterdam", "Utrecht"),
    "AU": ("Sydney", "Melbourne", "Brisbane"),
    "IE": ("Dublin", "Cork"),
    "ES": ("Madrid", "Barcelona"),
}
_STEMS = (
    "Acme Globex Initech Hooli Vandelay Northwind Contoso Fabrikam Tailspin Wingtip Litware "
    "Proseware Lucerne Alpine Coho Humongous Woodgrove Bluebird Cedar Summit Pinnacle Redwood "
    "Silverline Brightpath Ironclad Keystone Lakeside Meridian Nimbus Orion Pioneer Quantum "
    "Riverbend Sapphire Tidewater Vertex Willow Zenith Apex Beacon Catalyst Evergreen Falcon "
    "Granite Harbor Horizon Juniper Kestrel Lighthouse Maple Nova Oakridge Polaris Ridgeway "
    "Sterling Terra Vista Westbrook Aurora Bramble Cobalt Driftwood Ember Foxglove Gideon "
    "Halcyon Indigo Jasper Kinetic Lumen Mosaic Northstar Obsidian Paragon"
).split()
_INDUSTRIES = {  # Salesforce Industry picklist value -> second name parts
    "Technology": "Analytics Systems Labs Software Cloud Data",
    "Transportation": "Logistics Freight",
    "Healthcare": "Health Clinics Pharma",
    "Retail": "Foods Retail Outfitters",
    "Energy": "Energy Power",
    "Finance": "Capital Financial",
    "Insurance": "Insurance",
    "Manufacturing": "Robotics Manufacturing Materials Motors",
    "Media": "Media Studios",
    "Telecommunications": "Networks Telecom",
    "Education": "Learning Academy",
    "Consulting": "Consulting Partners",
    "Hospitality": "Hotels Travel",
    "Not For Profit": "Foundation",
}
WORDS = {  # second name part -> Salesforce Industry picklist value
    word: industry for industry, words in _INDUSTRIES.items() for word in words.split()
}
_QUALIFIERS = ("Group", "Holdings", "International", "Global", "Worldwide")
_FIRST = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Daniel Karen Priya Wei Carlos Sofia Ahmed Fatima "
    "Lukas Emma Hugo Chloe Mateo Lucia Noah Olivia Liam Amelia Arjun Mei Kenji Aiko Oliver Isla "
    "Felix Hannah Lars Ingrid Diego Valentina Omar Leila Sean Aoife Pierre Camille Jan Anouk"
).split()
_LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Wilson Anderson Taylor Thomas Moore Jackson Martin Lee Patel Chen Wang Kim Nguyen Singh "
    "Muller Schmidt Schneider Fischer Dubois Moreau Laurent Rossi Bianchi Jansen deVries Murphy "
    "Kelly OBrien Walsh Tanaka Sato Suzuki Andersson Johansson Nielsen Fernandez Gonzalez "
    "Okafor Mensah Cohen Levy Novak Kowalski"
).split()
_B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_SF_CHECK = string.ascii_uppercase + "012345"


# --- small helpers -------------------------------------------------------------------------


def sf_ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def iso(dt: datetime | None) -> str:
    return "" if dt is None else dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def unix(dt: datetime | None) -> int | None:
    return None if dt is None else int(dt.timestamp())


def between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=rng.randrange(max(int((end - start).total_seconds()), 1)))


def add_months(dt: datetime, months: int) -> datetime:
    y, m = divmod(dt.month - 1 + months, 12)
    return dt.replace(year=dt.year + y, month=m + 1, day=min(dt.day, 28))


def allocate(rng: random.Random, total: int, weights: Sequence[float], least: int) -> list[int]:
    counts = [least] * len(weights)
    for i in rng.choices(range(len(weights)), weights=weights, k=max(total - sum(counts), 0)):
        counts[i] += 1
    return counts


@dataclass
class Ids:
    rng: random.Random
    seen: set[str] = field(default_factory=set)
    counters: dict[str, int] = field(default_factory=dict)

    def stripe(self, prefix: str, length: int = 24) -> str:
        while (new := prefix + "".join(self.rng.choices(_B62, k=length))) in self.seen:
            pass
        self.seen.add(new)
        return new

    def sf(self, prefix: str) -> str:
        """18-character Salesforce id: 15 case-sensitive characters + 3-character checksum."""
        n = self.counters.get(prefix, self.rng.randrange(10**9, 10**11))
        self.counters[prefix] = n + self.rng.randint(1, 97)
        digits = ""
        for _ in range(7):
            n, r = divmod(n, 62)
            digits = _B62[r] + digits
        body = prefix + "8d000" + digits
        chunks = (body[i : i + 5] for i in (0, 5, 10))
        check = (sum(1 << j for j, c in enumerate(ch) if c.isupper()) for ch in chunks)
        return body + "".join(_SF_CHECK[b] for b in check)

    def numeric(self, key: str, start: int, gap: int = 50) -> int:
        n = self.counters.get(key, start) + self.rng.randint(1, gap)
        self.counters[key] = n
        return n


@dataclass
class Company:
    stem: str
    word: str
    suffix: str
    country: Country
    city: str
    domain: str
    employees: int

    @property
    def base(self) -> str:
        return f"{self.stem} {self.word}"

    @property
    def legal(self) -> str:
        return f"{self.base} {self.suffix}"

    def variant(self, rng: random.Random) -> str:
        """The same company as another system's operator typed it."""
        plain = self.suffix.rstrip(".")
        return rng.choice(
            [
                self.legal,
                f"{self.base.upper()}, {plain.upper()}",
                self.base,
                f"{self.base}, {self.suffix}",
                self.legal.lower(),
                f"{self.base} {plain}",
            ]
        )


def make_companies(rng: random.Random, n: int) -> list[Company]:
    pairs = [(s, w) for s in _STEMS for w in WORDS]
    rng.shuffle(pairs)
    weights = [c.weight for c in COUNTRIES]
    out: list[Company] = []
    domains: set[str] = set()
    for i in range(n):
        stem, word = pairs[i % len(pairs)]
        if i >= len(pairs):
            lap = i // len(pairs) - 1
            word = f"{word} {_QUALIFIERS[lap % len(_QUALIFIERS)]}" + (
                f" {lap // len(_QUALIFIERS) + 2}" if lap >= len(_QUALIFIERS) else ""
            )
        country = rng.choices(COUNTRIES, weights=weights)[0]
        slug = [x.lower() for x in f"{stem} {word}".split()]
        name = "-".join(slug) if rng.random() < 0.4 else "".join(slug)
        tld = country.tld if rng.random() < 0.7 else rng.choice(["com", "io"])
        domain = f"{name}.{tld}"
        while domain in domains:
            domain = f"{name}hq.{tld}"
            name += "hq"
        domains.add(domain)
        employees = min(max(int(rng.lognormvariate(4.3, 1.4)), 3), 250_000)
        out.append(
            Company(
                stem,
                word,
                rng.choice(country.suffixes),
                country,
                rng.choice(country.cities),
                domain,
                employees,
            )
        )
    return out


def phone_number(rng: random.Random, country: Country) -> str:
    a, b = rng.randint(200, 989), rng.randint(100, 199)
    if country.dial == "+1":
        return rng.choice([f"({a}) 555-0{b}", f"+1 {a}-555-0{b}", f"{a}.555.0{b}"])
    return f"{country.dial} {a % 90 + 10} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"


def person_name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(_FIRST), rng.choice(_LAST)


def money(rng: random.Random, median: float, sigma: float) -> float:
    return round(rng.lognormvariate(math.log(median), sigma), -2)


# --- shared state --------------------------------------------------------------------------


@dataclass
class World:
    rng: random.Random
    ids: Ids
    scale: int
    # anomalies planted on purpose draw from their own generator, so planting them never
    # shifts the random sequence (and so the rows) of everything else
    planted: random.Random = field(default_factory=lambda: random.Random("planted"))  # noqa: S311
    out: dict[str, list[Row]] = field(default_factory=dict)
    companies: list[Company] = field(default_factory=list)  # index-aligned with accounts
    spare: list[Company] = field(default_factory=list)  # companies unknown to the CRM
    contacts_by_account: dict[str, list[Row]] = field(default_factory=dict)


# --- output --------------------------------------------------------------------------------


def cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_csv(path: Path, header: list[str], rows: Iterable[Row]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([cell(row[col]) for col in header] for row in rows)
