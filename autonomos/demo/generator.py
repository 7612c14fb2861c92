"""Deterministic demo data: source extracts of "Brightwave Software", a fictional B2B SaaS.

``generate(out_dir, seed=7, scale=1)`` writes CSV files shaped like real exports, with the
source systems' own column names and formats (not ontology names), so that mapping, drift
and entity resolution have something realistic to chew on:

=============================  ==========================================  ===============
file                           imitates                                    ontology entity
=============================  ==========================================  ===============
salesforce_accounts.csv        Salesforce Account (Data Loader, queryAll)  account
salesforce_contacts.csv        Salesforce Contact                          contact
salesforce_opportunities.csv   Salesforce Opportunity                      opportunity
stripe_customers.csv           Stripe Customer (API objects, flattened)    account
stripe_subscriptions.csv       Stripe Subscription (single price item)     subscription
stripe_invoices.csv            Stripe Invoice                              invoice
stripe_payments.csv            Stripe Charge                               payment
zendesk_organizations.csv      Zendesk Organization                        account
zendesk_users.csv              Zendesk User (end users and agents)         contact
zendesk_tickets.csv            Zendesk Ticket (+ solved_at from metrics)   ticket
aws_cur_costs.csv              AWS Cost and Usage Report (CUR), daily      cloud_cost
=============================  ==========================================  ===============

Everything derives from ``random.Random(seed)`` and the fixed extract time 2026-01-01T00:00Z:
the same (seed, scale) gives byte-identical files.  Sizes at scale=1: 200 accounts, 600
contacts, 400 opportunities, 250 customers, 300 subscriptions, 2,000 invoices, 2,500
charges, 1,500 tickets, 5,000 cost lines (each multiplied by ``scale``; Zendesk
organisations and users follow from the accounts and contacts).

Referential integrity holds: contacts/opportunities reference existing accounts (ParentId
too), subscriptions/invoices/charges reference existing customers, invoices existing
subscriptions, charges existing invoices, tickets existing Zendesk users/organisations.
Amounts: Stripe in integer minor units (cents); Salesforce and CUR in decimal units.

The same companies and people appear in several systems, with realistic variation:
legal-name variants ("Acme Analytics Inc." / "ACME ANALYTICS, INC" / "Acme Analytics"),
websites with and without ``https://``/``www.``/trailing ``/``, billing vs. personal
e-mails, ISO-2 countries in Stripe vs. country names in Salesforce, and a partial
crosswalk (``metadata.sf_account_id`` on ~25 % of Stripe customers, ``external_id`` on
~20 % of Zendesk organisations).

Data-quality problems injected on purpose (tests and demos may rely on them):

* missing e-mails: ~3 % of Salesforce contacts and ~3 % of Stripe customers;
* malformed dates: ~0.5 % of Zendesk tickets carry an unparseable ``created_at`` or
  ``updated_at`` (``31/12/2025 14:05``, ``12-31-2025``, ``2025-13-31T..``, ``0000-00-00..``);
* mixed-case currency codes: ~1.5 % of Stripe invoices and charges use ``USD``/``Eur``
  instead of lowercase, ~5 % of Salesforce opportunities use ``usd`` instead of ``USD``;
* duplicate Stripe customers: ~2 % of customers are re-created copies of another customer
  with the same name and the e-mail in different case (``Billing@Acme.com``);
* inconsistent countries: ~15 % of US Salesforce accounts say ``USA`` or ``US``;
* ~10 % of accounts lack AnnualRevenue, ~3 % of opportunities lack Amount, ~5 % of
  tickets lack a priority, ~15 % of AWS resources are untagged (empty team tag).

AWS CUR: ``lineItem/UnblendedCost`` is the billed cost; the effective (amortised) cost is
``reservation/EffectiveCost`` for ``DiscountedUsage`` lines,
``savingsPlan/SavingsPlanEffectiveCost`` for ``SavingsPlanCoveredUsage`` lines, 0 for
``SavingsPlanNegation`` lines and the unblended cost otherwise;
``pricing/publicOnDemandCost`` is the list cost.  December 2025 is not invoiced yet at
extract time, so its ``bill/InvoiceId`` is empty.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any, NamedTuple

BASE = datetime(2026, 1, 1, tzinfo=UTC)  # the extract time ("now")
DAY = timedelta(days=1)
Row = dict[str, Any]

FILES: dict[str, list[str]] = {
    "salesforce_accounts.csv": "Id IsDeleted Name ParentId Website Industry AnnualRevenue "
    "NumberOfEmployees Phone BillingCity BillingCountry OwnerId CreatedDate LastModifiedDate "
    "SystemModstamp".split(),
    "salesforce_contacts.csv": "Id IsDeleted AccountId FirstName LastName Email Phone Title "
    "OwnerId CreatedDate LastModifiedDate SystemModstamp".split(),
    "salesforce_opportunities.csv": "Id IsDeleted AccountId Name Type StageName Amount "
    "CurrencyIsoCode Probability CloseDate IsClosed IsWon OwnerId CreatedDate LastModifiedDate "
    "SystemModstamp".split(),
    "stripe_customers.csv": "id name email phone description address_city address_country "
    "currency delinquent invoice_prefix metadata.sf_account_id created livemode".split(),
    "stripe_subscriptions.csv": "id customer status plan_id plan_nickname plan_amount "
    "plan_interval quantity currency collection_method created start_date current_period_start "
    "current_period_end cancel_at_period_end canceled_at ended_at trial_start trial_end".split(),
    "stripe_invoices.csv": "id number customer subscription status collection_method currency "
    "subtotal tax total amount_due amount_paid amount_remaining created period_start period_end "
    "due_date status_transitions.paid_at".split(),
    "stripe_payments.csv": "id customer invoice amount amount_refunded currency status paid "
    "refunded created payment_method_type card_brand failure_code failure_message".split(),
    "zendesk_organizations.csv": "id name domain_names external_id created_at updated_at".split(),
    "zendesk_users.csv": "id name email phone role organization_id created_at updated_at "
    "suspended".split(),
    "zendesk_tickets.csv": "id url type subject description priority status requester_id "
    "requester_email assignee_id organization_id organization_name tags via_channel "
    "satisfaction_rating created_at updated_at solved_at".split(),
    "aws_cur_costs.csv": [
        "identity/LineItemId", "identity/TimeInterval", "bill/InvoiceId", "bill/BillingEntity",
        "bill/BillType", "bill/PayerAccountId", "bill/BillingPeriodStartDate",
        "bill/BillingPeriodEndDate", "lineItem/UsageAccountId", "lineItem/LineItemType",
        "lineItem/UsageStartDate", "lineItem/UsageEndDate", "lineItem/ProductCode",
        "lineItem/UsageType", "lineItem/Operation", "lineItem/AvailabilityZone",
        "lineItem/ResourceId", "lineItem/UsageAmount", "lineItem/CurrencyCode",
        "lineItem/UnblendedRate", "lineItem/UnblendedCost", "lineItem/BlendedRate",
        "lineItem/BlendedCost", "lineItem/LineItemDescription", "product/ProductName",
        "product/productFamily", "product/region", "product/sku", "pricing/unit",
        "pricing/publicOnDemandRate", "pricing/publicOnDemandCost", "reservation/EffectiveCost",
        "savingsPlan/SavingsPlanEffectiveCost", "resourceTags/user:team", "resourceTags/user:env",
    ],
}  # fmt: skip


class _Country(NamedTuple):
    name: str
    iso: str
    currency: str
    weight: int
    tld: str
    dial: str
    tax: float
    suffixes: tuple[str, ...]
    cities: tuple[str, ...]


_COUNTRIES = [
    _Country("United States", "US", "USD", 45, "com", "+1", 0.0, ("Inc.", "LLC", "Corp."),
             ("San Francisco", "New York", "Austin", "Chicago", "Boston", "Seattle", "Denver")),
    _Country("United Kingdom", "GB", "GBP", 14, "co.uk", "+44", 0.2, ("Ltd", "plc"),
             ("London", "Manchester", "Edinburgh", "Bristol")),
    _Country("Germany", "DE", "EUR", 10, "de", "+49", 0.19, ("GmbH", "AG"),
             ("Berlin", "Munich", "Hamburg", "Frankfurt")),
    _Country("France", "FR", "EUR", 8, "fr", "+33", 0.2, ("SAS", "SA"), ("Paris", "Lyon")),
    _Country("Canada", "CA", "CAD", 7, "ca", "+1", 0.13, ("Inc.", "Ltd"),
             ("Toronto", "Vancouver", "Montreal")),
    _Country("Netherlands", "NL", "EUR", 5, "nl", "+31", 0.21, ("B.V.",),
             ("Amsterdam", "Rotterdam", "Utrecht")),
    _Country("Australia", "AU", "AUD", 5, "com.au", "+61", 0.1, ("Pty Ltd",),
             ("Sydney", "Melbourne", "Brisbane")),
    _Country("Ireland", "IE", "EUR", 3, "ie", "+353", 0.23, ("Ltd",), ("Dublin", "Cork")),
    _Country("Spain", "ES", "EUR", 3, "es", "+34", 0.21, ("S.L.",), ("Madrid", "Barcelona")),
]  # fmt: skip
_STEMS = (
    "Acme Globex Initech Hooli Vandelay Northwind Contoso Fabrikam Tailspin Wingtip Litware "
    "Proseware Lucerne Alpine Coho Humongous Woodgrove Bluebird Cedar Summit Pinnacle Redwood "
    "Silverline Brightpath Ironclad Keystone Lakeside Meridian Nimbus Orion Pioneer Quantum "
    "Riverbend Sapphire Tidewater Vertex Willow Zenith Apex Beacon Catalyst Evergreen Falcon "
    "Granite Harbor Horizon Juniper Kestrel Lighthouse Maple Nova Oakridge Polaris Ridgeway "
    "Sterling Terra Vista Westbrook Aurora Bramble Cobalt Driftwood Ember Foxglove Gideon "
    "Halcyon Indigo Jasper Kinetic Lumen Mosaic Northstar Obsidian Paragon"
).split()
_WORDS = {  # second name part -> Salesforce Industry picklist value
    "Analytics": "Technology", "Systems": "Technology", "Labs": "Technology",
    "Software": "Technology", "Cloud": "Technology", "Data": "Technology",
    "Logistics": "Transportation", "Freight": "Transportation", "Health": "Healthcare",
    "Clinics": "Healthcare", "Pharma": "Healthcare", "Foods": "Retail", "Retail": "Retail",
    "Outfitters": "Retail", "Energy": "Energy", "Power": "Energy", "Capital": "Finance",
    "Financial": "Finance", "Insurance": "Insurance", "Robotics": "Manufacturing",
    "Manufacturing": "Manufacturing", "Materials": "Manufacturing", "Motors": "Manufacturing",
    "Media": "Media", "Studios": "Media", "Networks": "Telecommunications",
    "Telecom": "Telecommunications", "Learning": "Education", "Academy": "Education",
    "Consulting": "Consulting", "Partners": "Consulting", "Hotels": "Hospitality",
    "Travel": "Hospitality", "Foundation": "Not For Profit",
}  # fmt: skip
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
_TITLES = (
    "CEO", "CTO", "CFO", "VP Engineering", "VP Sales", "Head of Finance", "Controller",
    "Accounts Payable Specialist", "Engineering Manager", "Software Engineer", "Data Analyst",
    "Product Manager", "IT Director", "Operations Manager", "Procurement Manager", None,
)  # fmt: skip
_STAGES = [  # (StageName, Probability, weight)
    ("Prospecting", 10, 8), ("Qualification", 10, 8), ("Needs Analysis", 20, 6),
    ("Value Proposition", 50, 5), ("Id. Decision Makers", 60, 4), ("Perception Analysis", 70, 3),
    ("Proposal/Price Quote", 75, 5), ("Negotiation/Review", 90, 4), ("Closed Won", 100, 30),
    ("Closed Lost", 0, 25),
]  # fmt: skip
_PLANS = [  # (nickname, unit amount in minor units per month, (min qty, max qty))
    ("Starter", 1900, (1, 3)), ("Team", 4900, (3, 25)), ("Business", 9900, (10, 150)),
    ("Enterprise", 250000, (1, 1)),
]  # fmt: skip
_FAILURES = [
    ("card_declined", "Your card was declined."),
    ("insufficient_funds", "Your card has insufficient funds."),
    ("expired_card", "Your card has expired."),
    ("incorrect_cvc", "Your card's security code is incorrect."),
    ("processing_error", "An error occurred while processing your card. Try again."),
    ("authentication_required", "This transaction requires authentication."),
]  # fmt: skip
_TICKET_TOPICS = [  # (type, subject, tags)
    ("question", "How do I export my {x} data to CSV?", ["export", "how_to"]),
    ("question", "Question about our invoice {n}", ["billing", "invoice"]),
    ("question", "Can we add more seats to our {x} plan?", ["billing", "seats"]),
    ("question", "How to configure SSO with {x}?", ["sso", "how_to"]),
    ("incident", "{x} dashboard not loading", ["bug", "dashboard"]),
    ("incident", "API returning 500 errors on /v1/{x}", ["api", "bug"]),
    ("incident", "Cannot log in since this morning", ["login", "sso"]),
    ("incident", "Sync with {x} stuck for hours", ["integration", "sync"]),
    ("problem", "Recurring timeouts when syncing {x}", ["integration", "performance"]),
    ("problem", "Charged twice this month", ["billing", "refund"]),
    ("task", "Please update our billing address", ["billing", "account_update"]),
    ("task", "Feature request: {x} webhooks", ["feature_request"]),
    ("task", "Cancel our subscription at renewal", ["billing", "churn_risk"]),
]  # fmt: skip
_TICKET_X = ("Salesforce", "HubSpot", "Okta", "Azure AD", "usage", "billing", "reports", "Jira")
_AWS_SERVICES = [  # code, product name, family, [(usage type, unit, rate, operation)], weight, rid
    ("AmazonEC2", "Amazon Elastic Compute Cloud", "Compute Instance",
     [("BoxUsage:m5.4xlarge", "Hrs", 0.768, "RunInstances"),
      ("BoxUsage:c6i.8xlarge", "Hrs", 1.36, "RunInstances"),
      ("BoxUsage:r6i.2xlarge", "Hrs", 0.504, "RunInstances"),
      ("EBS:VolumeUsage.gp3", "GB-Mo", 0.08, "CreateVolume-Gp3")], 30, "ec2"),
    ("AmazonRDS", "Amazon Relational Database Service", "Database Instance",
     [("InstanceUsage:db.r6g.2xlarge", "Hrs", 0.899, "CreateDBInstance:0014"),
      ("RDS:GP3-Storage", "GB-Mo", 0.115, "CreateDBInstance:0014")], 14, "rds"),
    ("AmazonS3", "Amazon Simple Storage Service", "Storage",
     [("TimedStorage-ByteHrs", "GB-Mo", 0.023, "StandardStorage"),
      ("Requests-Tier1", "Requests", 0.000005, "PutObject")], 12, "s3"),
    ("AWSLambda", "AWS Lambda", "Serverless",
     [("Lambda-GB-Second", "Lambda-GB-Second", 0.0000166667, "Invoke"),
      ("Request", "Requests", 0.0000002, "Invoke")], 8, "lambda"),
    ("AmazonDynamoDB", "Amazon DynamoDB", "Database Storage",
     [("ReadRequestUnits", "ReadRequestUnits", 0.00000025, "GetItem"),
      ("TimedStorage-ByteHrs", "GB-Mo", 0.25, "StandardStorage")], 6, "ddb"),
    ("AmazonEKS", "Amazon Elastic Container Service for Kubernetes", "Compute",
     [("AmazonEKS-Hours:perCluster", "Hours", 0.1, "CreateOperation")], 4, "eks"),
    ("AmazonCloudFront", "Amazon CloudFront", "Data Transfer",
     [("DataTransfer-Out-Bytes", "GB", 0.085, "GET")], 5, "cf"),
    ("AmazonCloudWatch", "AmazonCloudWatch", "Metric",
     [("CW:MetricMonitorUsage", "Metrics", 0.3, "MetricStorage")], 5, "cw"),
    ("AmazonSageMaker", "Amazon SageMaker", "ML Instance",
     [("Notebk:ml.g5.2xlarge", "Hrs", 1.515, "RunInstance:Notebook")], 4, "sm"),
]  # fmt: skip
_REGIONS = {"us-east-1": "", "us-west-2": "USW2-", "eu-west-1": "EU-", "eu-central-1": "EUC1-"}
_B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_SF_CHECK = string.ascii_uppercase + "012345"


# --- small helpers -------------------------------------------------------------------------


def _sf_ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _iso(dt: datetime | None) -> str:
    return "" if dt is None else dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _unix(dt: datetime | None) -> int | None:
    return None if dt is None else int(dt.timestamp())


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=rng.randrange(max(int((end - start).total_seconds()), 1)))


def _add_months(dt: datetime, months: int) -> datetime:
    y, m = divmod(dt.month - 1 + months, 12)
    return dt.replace(year=dt.year + y, month=m + 1, day=min(dt.day, 28))


def _allocate(rng: random.Random, total: int, weights: Sequence[float], least: int) -> list[int]:
    counts = [least] * len(weights)
    for i in rng.choices(range(len(weights)), weights=weights, k=max(total - sum(counts), 0)):
        counts[i] += 1
    return counts


@dataclass
class _Ids:
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
class _Company:
    stem: str
    word: str
    suffix: str
    country: _Country
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


def _companies(rng: random.Random, n: int) -> list[_Company]:
    pairs = [(s, w) for s in _STEMS for w in _WORDS]
    rng.shuffle(pairs)
    weights = [c.weight for c in _COUNTRIES]
    out: list[_Company] = []
    domains: set[str] = set()
    for i in range(n):
        stem, word = pairs[i % len(pairs)]
        if i >= len(pairs):
            lap = i // len(pairs) - 1
            word = f"{word} {_QUALIFIERS[lap % len(_QUALIFIERS)]}" + (
                f" {lap // len(_QUALIFIERS) + 2}" if lap >= len(_QUALIFIERS) else ""
            )
        country = rng.choices(_COUNTRIES, weights=weights)[0]
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
            _Company(
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


def _phone(rng: random.Random, country: _Country) -> str:
    a, b = rng.randint(200, 989), rng.randint(100, 199)
    if country.dial == "+1":
        return rng.choice([f"({a}) 555-0{b}", f"+1 {a}-555-0{b}", f"{a}.555.0{b}"])
    return f"{country.dial} {a % 90 + 10} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"


def _person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(_FIRST), rng.choice(_LAST)


def _money(rng: random.Random, median: float, sigma: float) -> float:
    return round(rng.lognormvariate(math.log(median), sigma), -2)


# --- Salesforce ----------------------------------------------------------------------------


@dataclass
class _World:
    rng: random.Random
    ids: _Ids
    scale: int
    out: dict[str, list[Row]] = field(default_factory=dict)
    companies: list[_Company] = field(default_factory=list)  # index-aligned with accounts
    spare: list[_Company] = field(default_factory=list)  # companies unknown to the CRM
    contacts_by_account: dict[str, list[Row]] = field(default_factory=dict)


def _salesforce(w: _World) -> None:
    rng, ids, s = w.rng, w.ids, w.scale
    owners = [ids.sf("005") for _ in range(6 + 2 * s)]
    everyone = _companies(rng, 300 * s)
    w.companies, w.spare = everyone[: 200 * s], everyone[200 * s :]
    accounts: list[Row] = []
    for i, c in enumerate(w.companies):
        created = _between(rng, datetime(2021, 1, 4, tzinfo=UTC), BASE - 30 * DAY)
        modified = _between(rng, created, BASE - timedelta(hours=1))
        web = rng.choice(["https://www.{}", "www.{}", "{}", "http://{}/", "https://{}"])
        country = c.country.name
        if c.country.iso == "US" and rng.random() < 0.15:
            country = rng.choice(["USA", "US"])
        parent = accounts[rng.randrange(i)]["Id"] if i > 10 and rng.random() < 0.05 else None
        revenue = None if rng.random() < 0.1 else c.employees * rng.randint(80, 350) * 1000
        accounts.append(
            {
                "Id": ids.sf("001"),
                "IsDeleted": rng.random() < 0.02,
                "Name": c.legal,
                "ParentId": parent,
                "Website": web.format(c.domain) if rng.random() < 0.95 else None,
                "Industry": _WORDS[c.word.split()[0]],
                "AnnualRevenue": revenue,
                "NumberOfEmployees": c.employees,
                "Phone": _phone(rng, c.country),
                "BillingCity": c.city,
                "BillingCountry": country,
                "OwnerId": rng.choice(owners),
                "CreatedDate": _sf_ts(created),
                "LastModifiedDate": _sf_ts(modified),
                "SystemModstamp": _sf_ts(modified + timedelta(seconds=rng.randint(0, 90))),
            }
        )
    weights = [math.log(c.employees + 2) for c in w.companies]
    contacts: list[Row] = []
    per_account = _allocate(rng, 600 * s, weights, 1)
    for acc, c, k in zip(accounts, w.companies, per_account, strict=True):
        pattern = rng.choice(["{f}.{l}", "{f0}{l}", "{f}", "{f}_{l}"])
        used: set[str] = set()
        for _ in range(k):
            first, last = _person(rng)
            local = pattern.format(f=first, l=last, f0=first[0]).lower()
            while local in used:
                local += str(rng.randint(1, 9))
            used.add(local)
            created = _between(rng, datetime.fromisoformat(acc["CreatedDate"]), BASE - DAY)
            modified = _between(rng, created, BASE - timedelta(hours=1))
            row = {
                "Id": ids.sf("003"),
                "IsDeleted": rng.random() < 0.02,
                "AccountId": acc["Id"],
                "FirstName": first,
                "LastName": last,
                "Email": None if rng.random() < 0.03 else f"{local}@{c.domain}",
                "Phone": _phone(rng, c.country) if rng.random() < 0.8 else None,
                "Title": rng.choice(_TITLES),
                "OwnerId": acc["OwnerId"],
                "CreatedDate": _sf_ts(created),
                "LastModifiedDate": _sf_ts(modified),
                "SystemModstamp": _sf_ts(modified),
            }
            contacts.append(row)
            w.contacts_by_account.setdefault(acc["Id"], []).append(row)
    contacts.sort(key=lambda r: r["Id"])
    opps: list[Row] = []
    cum = list(accumulate(weights))
    for _ in range(400 * s):
        idx = rng.choices(range(len(accounts)), cum_weights=cum)[0]
        acc, c = accounts[idx], w.companies[idx]
        stage, prob, _wt = rng.choices(_STAGES, weights=[x[2] for x in _STAGES])[0]
        closed = stage.startswith("Closed")
        created = _between(rng, datetime.fromisoformat(acc["CreatedDate"]), BASE - 7 * DAY)
        if closed:
            close = min(created + rng.randint(14, 180) * DAY, BASE - DAY)
        elif rng.random() < 0.1:  # overdue pipeline nobody cleaned up
            close = max(BASE - rng.randint(1, 60) * DAY, created + DAY)
        else:
            close = BASE + rng.randint(0, 180) * DAY
        modified = _between(rng, min(close, BASE - DAY) if closed else created, BASE)
        kind = rng.choice(["New Business", "Existing Business", "Renewal"])
        currency = c.country.currency if rng.random() > 0.05 else c.country.currency.lower()
        opps.append(
            {
                "Id": ids.sf("006"),
                "IsDeleted": rng.random() < 0.01,
                "AccountId": acc["Id"],
                "Name": f"{c.base} - {kind} {close.year}",
                "Type": kind,
                "StageName": stage,
                "Amount": None if rng.random() < 0.03 else f"{_money(rng, 24000, 1.0):.2f}",
                "CurrencyIsoCode": currency,
                "Probability": prob,
                "CloseDate": close.date().isoformat(),
                "IsClosed": closed,
                "IsWon": stage == "Closed Won",
                "OwnerId": acc["OwnerId"],
                "CreatedDate": _sf_ts(created),
                "LastModifiedDate": _sf_ts(modified),
                "SystemModstamp": _sf_ts(modified),
            }
        )
    w.out["salesforce_accounts.csv"] = accounts
    w.out["salesforce_contacts.csv"] = contacts
    w.out["salesforce_opportunities.csv"] = opps


# --- Stripe --------------------------------------------------------------------------------


@dataclass
class _Sub:
    row: Row
    months: int
    invoices: int
    anchor: datetime = BASE


def _stripe_customers(w: _World) -> tuple[list[Row], dict[str, _Company | None]]:
    rng, ids, s = w.rng, w.ids, w.scale
    accounts = w.out["salesforce_accounts.csv"]
    n = 250 * s
    n_dup = max(1, round(n * 0.02))
    n_linked = min(round(len(accounts) * 0.8), n - n_dup)
    customers: list[Row] = []
    company_of: dict[str, _Company | None] = {}
    prefixes: set[str] = set()

    def add(name: str, email: str | None, c: _Company | None, sf_id: str | None) -> Row:
        while (prefix := "".join(rng.choices("0123456789ABCDEF", k=8))) in prefixes:
            pass
        prefixes.add(prefix)
        country = c.country if c else rng.choices(_COUNTRIES, [x.weight for x in _COUNTRIES])[0]
        row: Row = {
            "id": ids.stripe("cus_", 14),
            "name": name,
            "email": None if rng.random() < 0.03 else email,
            "phone": _phone(rng, country) if rng.random() < 0.4 else None,
            "description": None,
            "address_city": c.city if c else rng.choice(country.cities),
            "address_country": country.iso,
            "currency": country.currency.lower(),
            "delinquent": False,
            "invoice_prefix": prefix,
            "metadata.sf_account_id": sf_id,
            "created": None,
            "livemode": True,
        }
        customers.append(row)
        company_of[row["id"]] = c
        return row

    linked = sorted(rng.sample(range(len(accounts)), n_linked))
    for i in linked:
        acc, c = accounts[i], w.companies[i]
        people = [p for p in w.contacts_by_account.get(acc["Id"], []) if p["Email"]]
        if people and rng.random() < 0.5:
            email = rng.choice(people)["Email"]
        else:
            email = f"{rng.choice(['billing', 'accounts', 'ap', 'finance'])}@{c.domain}"
        add(c.variant(rng), email, c, acc["Id"] if rng.random() < 0.25 else None)
    for c in w.spare[: n - n_linked - n_dup]:
        if rng.random() < 0.6:
            add(c.variant(rng), f"{rng.choice(['billing', 'hello', 'admin'])}@{c.domain}", c, None)
        else:
            first, last = _person(rng)
            mail = rng.choice(["gmail.com", "outlook.com", "icloud.com", "proton.me"])
            add(f"{first} {last}", f"{first}.{last}{rng.randint(1, 99)}@{mail}".lower(), None, None)
    for orig in rng.sample([r for r in customers if r["email"]], n_dup):
        local, domain = orig["email"].split("@")
        email = rng.choice([f"{local.capitalize()}@{domain.capitalize()}", orig["email"].upper()])
        dup = add(orig["name"], email, company_of[orig["id"]], None)
        dup["email"] = email  # a duplicate always has its e-mail
        dup["description"] = "re-signed up via checkout"
    return customers, company_of


def _stripe_subscriptions(w: _World, customers: list[Row], company: dict[str, Any]) -> list[_Sub]:
    rng, ids, s = w.rng, w.ids, w.scale
    n_subs, n_sub_invoices = 300 * s, 2000 * s - round(2000 * s * 0.05)
    price_ids = {
        (p[0], m, c.currency): ids.stripe("price_")
        for p in _PLANS
        for m in (1, 12)
        for c in _COUNTRIES
    }
    originals = [c for c in customers if not c["description"]]
    owners = rng.sample(originals, min(len(originals), round(n_subs * 0.85)))
    owners += rng.choices(customers, k=n_subs - len(owners))
    subs: list[_Sub] = []
    for cust in owners:
        big = company[cust["id"]] is not None and company[cust["id"]].employees > 200
        nick, unit, (lo, hi) = rng.choices(
            _PLANS, weights=[10, 40, 35, 15] if big else [50, 40, 10, 0]
        )[0]
        months = 12 if rng.random() < 0.2 else 1
        status = rng.choices(
            ["active", "past_due", "unpaid", "canceled", "trialing"], weights=[68, 5, 2, 20, 5]
        )[0]
        k = 1 if status == "trialing" else rng.randint(1, 16 if months == 1 else 3)
        row = {
            "id": ids.stripe("sub_"),
            "customer": cust["id"],
            "status": status,
            "plan_id": price_ids[(nick, months, cust["currency"].upper())],
            "plan_nickname": nick,
            "plan_amount": unit * months * (10 if months == 12 else 1) // months,
            "plan_interval": "month" if months == 1 else "year",
            "quantity": rng.randint(lo, hi),
            "currency": cust["currency"],
            "collection_method": "send_invoice" if nick == "Enterprise" else "charge_automatically",
        }
        subs.append(_Sub(row, months, k))
    monthly = [x for x in subs if x.months == 1 and x.row["status"] != "trialing"] or subs
    while (total := sum(x.invoices for x in subs)) != n_sub_invoices:
        x = rng.choice(monthly if total < n_sub_invoices else subs)
        if total < n_sub_invoices and x.invoices < 36 and x.row["status"] != "trialing":
            x.invoices += 1
        elif total > n_sub_invoices and x.invoices > 1:
            x.invoices -= 1
    for x in subs:
        r, m, k = x.row, x.months, x.invoices
        canceled_at = ended_at = trial_start = trial_end = None
        if r["status"] == "trialing":
            trial_start = BASE - timedelta(hours=rng.randint(24, 13 * 24))
            trial_end = trial_start + 14 * DAY
            last = trial_start
        elif r["status"] == "canceled":
            last = BASE - timedelta(hours=rng.randint(40 * 24, 600 * 24))
        else:
            last = BASE - timedelta(hours=rng.randint(1, (27 if m == 1 else 350) * 24))
        last = last.replace(day=min(last.day, 28))
        x.anchor = _add_months(last, -(k - 1) * m)
        period_end = trial_end or _add_months(last, m)
        if r["status"] == "canceled":
            canceled_at = _between(rng, last, min(period_end, BASE - DAY))
            ended_at = period_end if period_end < BASE and rng.random() < 0.5 else canceled_at
        elif r["status"] == "active" and rng.random() < 0.08:
            canceled_at = _between(rng, last, BASE)  # scheduled to cancel at period end
        if r["status"] != "trialing" and rng.random() < 0.3:
            trial_start, trial_end = x.anchor - 14 * DAY, x.anchor
        r.update(
            {
                "created": _unix(trial_start or x.anchor),
                "start_date": _unix(trial_start or x.anchor),
                "current_period_start": _unix(last),
                "current_period_end": _unix(period_end),
                "cancel_at_period_end": r["status"] == "active" and canceled_at is not None,
                "canceled_at": _unix(canceled_at),
                "ended_at": _unix(ended_at),
                "trial_start": _unix(trial_start),
                "trial_end": _unix(trial_end),
            }
        )
    return subs


def _invoice(
    w: _World,
    cust: Row,
    sub: Row | None,
    created: datetime,
    start: datetime,
    end: datetime,
    subtotal: int,
    status: str,
    company: _Company | None,
) -> Row:
    rng = w.rng
    tax = round(subtotal * (company.country.tax if company else 0.0))
    send = (sub["collection_method"] if sub else "send_invoice") == "send_invoice"
    paid_at = created + (timedelta(days=rng.randint(3, 45)) if send else timedelta(minutes=61))
    if status == "paid" and paid_at >= BASE:
        paid_at = _between(rng, created, BASE)
    currency = cust["currency"]
    if rng.random() < 0.015:
        currency = rng.choice([currency.upper(), currency.capitalize()])
    total = subtotal + tax
    paid = total if status == "paid" else 0
    return {
        "id": w.ids.stripe("in_"),
        "number": None,
        "customer": cust["id"],
        "subscription": sub["id"] if sub else None,
        "status": status,
        "collection_method": "send_invoice" if send else "charge_automatically",
        "currency": currency,
        "subtotal": subtotal,
        "tax": tax,
        "total": total,
        "amount_due": total,
        "amount_paid": paid,
        "amount_remaining": 0 if status in ("paid", "void") else total - paid,
        "created": _unix(created),
        "period_start": _unix(start),
        "period_end": _unix(end),
        "due_date": _unix(created + 30 * DAY) if send else None,
        "status_transitions.paid_at": _unix(paid_at) if status == "paid" else None,
    }


def _stripe(w: _World) -> None:
    rng, s = w.rng, w.scale
    customers, company = _stripe_customers(w)
    by_id = {c["id"]: c for c in customers}
    subs = _stripe_subscriptions(w, customers, company)
    invoices: list[Row] = []
    for x in subs:
        r, cust = x.row, by_id[x.row["customer"]]
        for j in range(x.invoices):
            start, end = (
                _add_months(x.anchor, j * x.months),
                _add_months(x.anchor, (j + 1) * x.months),
            )
            latest = j == x.invoices - 1
            status = "paid"
            if r["status"] == "trialing":
                subtotal = 0
            else:
                subtotal = r["plan_amount"] * r["quantity"]
                if latest and r["status"] == "past_due":
                    status = "open"
                elif r["status"] == "unpaid" and j >= x.invoices - 2:
                    status = "uncollectible" if not latest else "open"
                elif latest and r["status"] == "canceled" and rng.random() < 0.2:
                    status = rng.choice(["void", "uncollectible"])
                elif latest and r["status"] == "active" and rng.random() < 0.03:
                    status = "draft"
                elif rng.random() < 0.01:
                    status = "void"
            created = start + timedelta(seconds=rng.randint(0, 3600))
            invoices.append(
                _invoice(w, cust, r, created, start, end, subtotal, status, company[cust["id"]])
            )
    for _ in range(2000 * s - len(invoices)):  # one-off invoices: onboarding, services
        cust = rng.choice(customers)
        created = _between(rng, datetime(2023, 1, 1, tzinfo=UTC), BASE - DAY)
        status = rng.choices(["paid", "open", "void", "uncollectible"], [80, 10, 5, 5])[0]
        invoices.append(
            _invoice(
                w,
                cust,
                None,
                created,
                created,
                created,
                int(_money(rng, 250000, 0.8)),
                status,
                company[cust["id"]],
            )
        )
    invoices.sort(key=lambda r: (r["created"], r["id"]))
    seq: dict[str, int] = {}
    for inv in invoices:
        if inv["status"] != "draft":
            seq[inv["customer"]] = seq.get(inv["customer"], 0) + 1
            inv["number"] = f"{by_id[inv['customer']]['invoice_prefix']}-{seq[inv['customer']]:04d}"
    payments = _charges(w, invoices, customers, 2500 * s)
    first: dict[str, int] = {}  # customer -> first thing billed
    for cid, ts in [(x.row["customer"], x.row["start_date"]) for x in subs] + [
        (i["customer"], i["created"]) for i in invoices
    ]:
        first[cid] = min(ts, first.get(cid, ts))
    for cust in customers:  # created: shortly before the first thing billed
        moment = (
            datetime.fromtimestamp(first[cust["id"]], UTC)
            if cust["id"] in first
            else _between(rng, datetime(2023, 1, 1, tzinfo=UTC), BASE - DAY)
        )
        cust["created"] = _unix(moment - timedelta(hours=rng.randint(1, 30 * 24)))
    late = {i["customer"] for i in invoices if i["status"] in ("open", "uncollectible")}
    late |= {x.row["customer"] for x in subs if x.row["status"] in ("past_due", "unpaid")}
    for cust in customers:
        cust["delinquent"] = cust["id"] in late
    customers.sort(key=lambda r: (r["created"], r["id"]))
    w.out["stripe_customers.csv"] = customers
    w.out["stripe_subscriptions.csv"] = sorted((x.row for x in subs), key=lambda r: r["created"])
    w.out["stripe_invoices.csv"] = invoices
    w.out["stripe_payments.csv"] = payments


def _charges(w: _World, invoices: list[Row], customers: list[Row], target: int) -> list[Row]:
    rng = w.rng

    def charge(
        cust_id: str,
        inv: str | None,
        amount: int,
        currency: str,
        created: datetime,
        ok: bool,
        bank: bool,
    ) -> Row:
        cur = currency.lower()
        method = "card"
        if bank:
            method = {"usd": "us_bank_account", "eur": "sepa_debit", "gbp": "bacs_debit"}.get(
                cur, "customer_balance"
            )
        if rng.random() < 0.015:
            currency = rng.choice([cur.upper(), cur.capitalize()])
        code, message = rng.choice(_FAILURES) if not ok else (None, None)
        refunded = ok and rng.random() < 0.02
        return {
            "id": w.ids.stripe("ch_"),
            "customer": cust_id,
            "invoice": inv,
            "amount": amount,
            "amount_refunded": (amount if rng.random() < 0.7 else amount // 2) if refunded else 0,
            "currency": currency,
            "status": "succeeded" if ok else "failed",
            "paid": ok,
            "refunded": refunded,
            "created": _unix(created),
            "payment_method_type": method,
            "card_brand": rng.choice(["visa", "mastercard", "amex"]) if method == "card" else None,
            "failure_code": code,
            "failure_message": message,
        }

    def at(ts: int) -> datetime:
        return datetime.fromtimestamp(ts, UTC)

    out: list[Row] = []
    unpaid: list[Row] = []
    for inv in invoices:
        bank = inv["collection_method"] == "send_invoice" or rng.random() < 0.1
        if inv["status"] == "paid" and inv["amount_paid"] > 0:
            out.append(
                charge(
                    inv["customer"],
                    inv["id"],
                    inv["amount_paid"],
                    inv["currency"],
                    at(inv["status_transitions.paid_at"]),
                    True,
                    bank,
                )
            )
        elif inv["status"] in ("open", "uncollectible"):
            unpaid.append(inv)
    rng.shuffle(out)
    del out[target:]
    retries = [c for c in out if c["payment_method_type"] == "card"]
    while len(out) < target:
        roll = rng.random()
        if unpaid and roll < 0.15:  # failed attempts on invoices that stay unpaid
            inv = rng.choice(unpaid)
            when = at(inv["created"]) + timedelta(hours=rng.randint(1, 24 * 20))
            out.append(
                charge(
                    inv["customer"],
                    inv["id"],
                    inv["amount_due"],
                    inv["currency"],
                    min(when, BASE - timedelta(hours=1)),
                    False,
                    False,
                )
            )
        elif retries and roll < 0.4:  # a declined card before the successful retry
            ok = rng.choice(retries)
            when = at(ok["created"]) - timedelta(hours=rng.randint(1, 24 * 3))
            out.append(
                charge(
                    ok["customer"], ok["invoice"], ok["amount"], ok["currency"], when, False, False
                )
            )
        else:  # standalone charges (add-ons, usage top-ups), no invoice
            cust = rng.choice(customers)
            when = _between(rng, datetime(2023, 6, 1, tzinfo=UTC), BASE - timedelta(hours=1))
            row = charge(
                cust["id"],
                None,
                int(_money(rng, 5000, 1.0)) or 500,
                cust["currency"],
                when,
                rng.random() < 0.9,
                rng.random() < 0.2,
            )
            if row["paid"] and row["payment_method_type"] != "card" and when > BASE - 5 * DAY:
                row.update(status="pending", paid=False)
            out.append(row)
    out.sort(key=lambda r: (r["created"], r["id"]))
    return out


# --- Zendesk -------------------------------------------------------------------------------


def _zendesk(w: _World) -> None:
    rng, ids, s = w.rng, w.ids, w.scale
    accounts = w.out["salesforce_accounts.csv"]
    since = datetime(2022, 1, 1, tzinfo=UTC)
    orgs: list[Row] = []
    users: list[Row] = []
    org_users: list[tuple[Row, Row | None]] = []  # (end user, organisation)
    agents = []
    for _ in range(6 + 2 * s):
        first, last = _person(rng)
        created = _between(rng, since, BASE - 90 * DAY)
        agents.append(
            {
                "id": ids.numeric("user", 361_000_000_000, 9999),
                "name": f"{first} {last}",
                "email": f"{first}.{last}@brightwave.io".lower(),
                "phone": None,
                "role": "agent",
                "organization_id": None,
                "created_at": _iso(created),
                "updated_at": _iso(_between(rng, created, BASE)),
                "suspended": False,
            }
        )
    users += agents
    for acc, c in zip(accounts, w.companies, strict=True):
        if acc["IsDeleted"] or rng.random() > 0.75:
            continue
        created = _between(rng, datetime.fromisoformat(acc["CreatedDate"]), BASE - 20 * DAY)
        org: Row = {
            "id": ids.numeric("org", 360_000_000_000, 99999),
            "name": c.variant(rng),
            "domain_names": json.dumps([c.domain]),
            "external_id": acc["Id"] if rng.random() < 0.2 else None,
            "created_at": _iso(created),
            "updated_at": _iso(_between(rng, created, BASE)),
        }
        orgs.append(org)
        people = [p for p in w.contacts_by_account.get(acc["Id"], []) if p["Email"]]
        chosen = rng.sample(people, min(len(people), rng.randint(1, 4)))
        names = [(p["FirstName"], p["LastName"], p["Email"], p["Phone"]) for p in chosen]
        if not names or rng.random() < 0.2:  # someone the CRM does not know yet
            first, last = _person(rng)
            names.append((first, last, f"{first}.{last}@{c.domain}".lower(), None))
        for first, last, email, phone in names:
            org_users.append((_zd_user(w, f"{first} {last}", email, phone, org, created), org))
    for _ in range(max(1, len(org_users) // 9)):
        first, last = _person(rng)
        email = f"{first}{last}{rng.randint(1, 999)}@gmail.com".lower()
        org_users.append((_zd_user(w, f"{first} {last}", email, None, None, since), None))
    users += [u for u, _ in org_users]
    popularity = list(accumulate(rng.paretovariate(1.5) for _ in org_users))
    start = datetime(2024, 1, 1, tzinfo=UTC)
    span = (BASE - timedelta(hours=1) - start).total_seconds()
    drafts: list[tuple[datetime, Row, Row | None]] = []
    for _ in range(1500 * s):
        user, maybe_org = rng.choices(org_users, cum_weights=popularity)[0]
        when = start + timedelta(seconds=int(span * math.sqrt(rng.random())))
        drafts.append((when, user, maybe_org))
    drafts.sort(key=lambda d: d[0])
    tickets = [_ticket(w, created, user, org, agents) for created, user, org in drafts]
    for i in rng.sample(range(len(tickets)), max(1, round(len(tickets) * 0.005))):
        col = rng.choice(["created_at", "updated_at"])
        dt = datetime.fromisoformat(tickets[i][col])
        tickets[i][col] = rng.choice(
            [
                dt.strftime("%d/%m/%Y %H:%M"),
                dt.strftime("%m-%d-%Y"),
                dt.strftime("%Y-13-%dT%H:%M:%SZ"),
                "0000-00-00T00:00:00Z",
            ]
        )
    w.out["zendesk_organizations.csv"] = orgs
    w.out["zendesk_users.csv"] = users
    w.out["zendesk_tickets.csv"] = tickets


def _zd_user(
    w: _World, name: str, email: str, phone: str | None, org: Row | None, after: datetime
) -> Row:
    created = _between(w.rng, after, BASE - 10 * DAY)
    return {
        "id": w.ids.numeric("user", 361_000_000_000, 9999),
        "name": name,
        "email": email,
        "phone": phone,
        "role": "end-user",
        "organization_id": org["id"] if org else None,
        "created_at": _iso(created),
        "updated_at": _iso(_between(w.rng, created, BASE)),
        "suspended": w.rng.random() < 0.01,
    }


def _ticket(w: _World, created: datetime, user: Row, org: Row | None, agents: list[Row]) -> Row:
    rng = w.rng
    kind, subject, tags = rng.choice(_TICKET_TOPICS)
    subject = subject.format(x=rng.choice(_TICKET_X), n=f"#{rng.randint(1000, 9999)}")
    age = (BASE - created).days
    if age < 7:
        status = rng.choices(["new", "open", "pending", "solved"], [30, 40, 20, 10])[0]
    elif age < 30:
        status = rng.choices(["open", "pending", "solved", "closed"], [20, 15, 40, 25])[0]
    else:
        status = rng.choices(["open", "pending", "solved", "closed"], [3, 2, 10, 85])[0]
    solved = None
    if status in ("solved", "closed"):
        solved = min(created + timedelta(minutes=int(rng.lognormvariate(7, 1.5))), BASE)
        updated = min(
            solved
            + (
                timedelta(days=4, hours=rng.randint(0, 48))
                if status == "closed"
                else timedelta(minutes=rng.randint(0, 60))
            ),
            BASE,
        )
    else:
        updated = _between(rng, created, BASE)
    ticket_id = w.ids.numeric("ticket", 10_000, 3)
    rating = "unoffered"
    if solved:
        rating = rng.choices(["good", "bad", "offered", "unoffered"], [60, 8, 20, 12])[0]
    return {
        "id": ticket_id,
        "url": f"https://brightwave.zendesk.com/api/v2/tickets/{ticket_id}.json",
        "type": None if rng.random() < 0.05 else kind,
        "subject": subject,
        "description": f"Hi team, {subject}. Could you take a look? Thanks, {user['name']}",
        "priority": None
        if rng.random() < 0.05
        else rng.choices(["low", "normal", "high", "urgent"], [20, 55, 18, 7])[0],
        "status": status,
        "requester_id": user["id"],
        "requester_email": user["email"],
        "assignee_id": None if status == "new" else rng.choice(agents)["id"],
        "organization_id": org["id"] if org else None,
        "organization_name": org["name"] if org else None,
        "tags": json.dumps(tags),
        "via_channel": rng.choices(["email", "web", "chat", "api", "voice"], [45, 30, 15, 5, 5])[0],
        "satisfaction_rating": rating,
        "created_at": _iso(created),
        "updated_at": _iso(updated),
        "solved_at": _iso(solved),
    }


# --- AWS CUR -------------------------------------------------------------------------------


@dataclass
class _Resource:
    env: str
    account: str
    service: tuple[Any, ...]
    usage: tuple[str, str, float, str]
    region: str
    resource_id: str
    cover: str  # none | ri (reserved instance) | sp (savings plan)
    sku: str
    team: str | None
    size: float
    zone: str | None


def _aws_resources(w: _World, accounts: dict[str, str]) -> list[_Resource]:
    rng = w.rng
    skus: dict[tuple[str, str, str], str] = {}
    out = []
    committed = 0
    for env, acct in accounts.items():
        for svc in _AWS_SERVICES:
            code, _name, _family, usages, weight, kind = svc
            for _ in range(max(1, weight // 3) * w.scale):
                usage = rng.choice(usages)
                region = "us-east-1" if kind == "cf" else rng.choice(list(_REGIONS))
                arn = f"arn:aws:{code.lower()}:{region}:{acct}"
                rid = {
                    "ec2": f"i-0{rng.getrandbits(64):016x}",
                    "s3": f"bw-{env}-assets-{rng.randint(1, 999)}",
                    "rds": f"arn:aws:rds:{region}:{acct}:db:{env}-db-{rng.randint(1, 99)}",
                    "lambda": f"arn:aws:lambda:{region}:{acct}:function:fn-{rng.randint(1, 999)}",
                }.get(kind, f"{arn}:{kind}/{rng.getrandbits(32):08x}")
                if usage[0].startswith("EBS"):
                    rid = f"vol-0{rng.getrandbits(64):016x}"
                cover = "none"
                if usage[1] == "Hrs" and env == "prod":  # commitments cover some of prod
                    cover = ("ri", "sp", "none", "sp", "none", "none", "none")[committed % 7]
                    committed += 1
                chars = string.ascii_uppercase + string.digits
                sku = skus.setdefault((code, usage[0], region), "".join(rng.choices(chars, k=16)))
                team = None
                if rng.random() >= 0.15:
                    team = rng.choice(["platform", "data", "ml", "web", "payments"])
                size = rng.lognormvariate(0, 1.0)
                zone = f"{region}{rng.choice('abc')}" if kind in ("ec2", "rds", "sm") else None
                out.append(
                    _Resource(env, acct, svc, usage, region, rid, cover, sku, team, size, zone)
                )
    return out


class _Cur:
    """Collects CUR rows for one payer account."""

    def __init__(self, rng: random.Random, payer: str, invoice_ids: dict[datetime, str]) -> None:
        self.rng, self.payer, self.invoice_ids = rng, payer, invoice_ids
        self.lines: list[Row] = []
        self.spend: dict[tuple[datetime, str, str], float] = {}

    def line(self, acct: str, kind: str, start: datetime, end: datetime, **kv: Any) -> None:
        month = start.replace(day=1, hour=0, minute=0, second=0)
        row: Row = dict.fromkeys(FILES["aws_cur_costs.csv"])
        row.update(
            {
                "identity/LineItemId": "".join(
                    self.rng.choices(string.ascii_lowercase + "234567", k=52)
                ),
                "identity/TimeInterval": f"{_iso(start)}/{_iso(end)}",
                "bill/InvoiceId": self.invoice_ids.get(month),
                "bill/BillingEntity": "AWS",
                "bill/BillType": "Anniversary",
                "bill/PayerAccountId": self.payer,
                "bill/BillingPeriodStartDate": _iso(month),
                "bill/BillingPeriodEndDate": _iso(_add_months(month, 1)),
                "lineItem/UsageAccountId": acct,
                "lineItem/LineItemType": kind,
                "lineItem/UsageStartDate": _iso(start),
                "lineItem/UsageEndDate": _iso(end),
                "lineItem/CurrencyCode": "USD",
            }
        )
        row.update({k: (f"{v:.10f}" if isinstance(v, float) else v) for k, v in kv.items()})
        self.lines.append(row)

    def flat(
        self,
        month: datetime,
        acct: str,
        kind: str,
        product: str,
        usage: str,
        cost: float,
        desc: str,
    ) -> None:
        self.line(
            acct,
            kind,
            month,
            _add_months(month, 1),
            **{
                "lineItem/ProductCode": product,
                "lineItem/UsageType": usage or None,
                "lineItem/UnblendedCost": cost,
                "lineItem/BlendedCost": cost,
                "lineItem/LineItemDescription": desc,
                "lineItem/UsageAmount": 1.0,
            },
        )

    def usage(self, r: _Resource, day: datetime) -> None:
        code, pname, family, _usages, _weight, _kind = r.service
        utype, unit, rate, op = r.usage
        per_day = {"Hrs": 24.0 * min(1.0, 0.4 + r.size / 2), "Hours": 24.0, "GB": 300 * r.size}
        per_day["Lambda-GB-Second"] = 1.5e5 * r.size
        per_day |= {"GB-Mo": 800 * r.size / 31, "Metrics": 60 * r.size / 31}
        amount = per_day.get(unit, 2e6 * r.size)  # requests, GB-seconds, ...
        od = amount * rate
        unblended = 0.0 if r.cover == "ri" else od
        bucket = (day.replace(day=1), r.account, code)
        self.spend[bucket] = self.spend.get(bucket, 0.0) + (
            od * 0.72 if r.cover == "sp" else unblended
        )
        blended = unblended * (self.rng.uniform(0.9, 1.1) if code == "AmazonEC2" else 1.0)
        common = {
            "lineItem/ProductCode": code,
            "lineItem/Operation": op,
            "lineItem/AvailabilityZone": r.zone,
            "lineItem/ResourceId": r.resource_id,
            "lineItem/UsageAmount": amount,
            "product/ProductName": pname,
            "product/productFamily": family,
            "product/region": r.region,
            "product/sku": r.sku,
            "pricing/unit": unit,
            "pricing/publicOnDemandRate": rate,
            "resourceTags/user:team": r.team,
            "resourceTags/user:env": r.env,
            "lineItem/UsageType": _REGIONS[r.region] + utype,
        }
        kind_name = {"none": "Usage", "ri": "DiscountedUsage", "sp": "SavingsPlanCoveredUsage"}
        self.line(
            r.account,
            kind_name[r.cover],
            day,
            day + DAY,
            **common,
            **{
                "lineItem/UnblendedRate": unblended / amount,
                "lineItem/UnblendedCost": unblended,
                "lineItem/BlendedRate": blended / amount,
                "lineItem/BlendedCost": blended,
                "pricing/publicOnDemandCost": od,
                "lineItem/LineItemDescription": f"${rate} per {unit} for {utype} in {r.region}",
                "reservation/EffectiveCost": od * 0.6 if r.cover == "ri" else None,
                "savingsPlan/SavingsPlanEffectiveCost": od * 0.72 if r.cover == "sp" else None,
            },
        )
        if r.cover == "sp":
            self.line(
                r.account,
                "SavingsPlanNegation",
                day,
                day + DAY,
                **common,
                **{
                    "lineItem/UnblendedCost": -od,
                    "lineItem/BlendedCost": -od,
                    "lineItem/LineItemDescription": f"SavingsPlanCoveredUsage by {r.resource_id}",
                    "savingsPlan/SavingsPlanEffectiveCost": 0.0,
                },
            )


def _aws(w: _World) -> None:
    rng = w.rng
    payer = str(rng.randrange(10**11, 10**12))
    accounts = {
        e: str(rng.randrange(10**11, 10**12)) for e in ("prod", "staging", "data", "sandbox")
    }
    months = [datetime(2025, m, 1, tzinfo=UTC) for m in (10, 11, 12)]
    # December 2025 is not invoiced yet at extract time (2026-01-01).
    cur = _Cur(rng, payer, {m: str(rng.randrange(10**9, 10**10)) for m in months[:-1]})
    resources = _aws_resources(w, accounts)
    taxed = [
        (month, acct, code)
        for month in months
        for env, acct in accounts.items()
        for code in sorted({r.service[0] for r in resources if r.env == env})
    ]
    for month in months:
        prod, fee = accounts["prod"], round(rng.uniform(900, 1400), 2)
        cur.flat(month, payer, "Fee", "AWSSupportBusiness", "Dollar", fee, "AWS Support (Business)")
        cur.flat(
            month,
            prod,
            "RIFee",
            "AmazonEC2",
            "HeavyUsage:m5.xlarge",
            1612.8,
            "USD 0.112 hourly fee per Linux/UNIX (Amazon VPC), m5.xlarge instance",
        )
        cur.flat(
            month,
            prod,
            "SavingsPlanRecurringFee",
            "ComputeSavingsPlans",
            "ComputeSP:1yrNoUpfront",
            2160.0,
            "1 year No Upfront Compute Savings Plan",
        )
        credit = -round(rng.uniform(50, 500), 2)
        cur.flat(
            month, accounts["sandbox"], "Credit", "AmazonEC2", "", credit, "AWS Activate credits"
        )
        if rng.random() < 0.5:
            refund = -round(rng.uniform(5, 80), 2)
            cur.flat(
                month, accounts["data"], "Refund", "AmazonS3", "", refund, "Refund for SLA credit"
            )
    target = 5000 * w.scale - len(taxed)
    weights = list(accumulate(r.service[4] / max(1, r.service[4] // 3) for r in resources))
    while len(cur.lines) < target:
        r = rng.choices(resources, cum_weights=weights)[0]
        if r.cover != "sp" or len(cur.lines) + 2 <= target:
            cur.usage(r, datetime(2025, 10, 1, tzinfo=UTC) + rng.randrange(92) * DAY)
    for month, acct, code in taxed:  # sales tax on last month's usage, per product
        tax = round(cur.spend.get((month, acct, code), 0.0) * 0.0825, 2)
        cur.flat(month, acct, "Tax", code, "", tax, f"Tax for product code {code}")
    key = ("lineItem/UsageStartDate", "lineItem/UsageAccountId", "identity/LineItemId")
    w.out["aws_cur_costs.csv"] = sorted(cur.lines, key=lambda row: tuple(row[k] for k in key))


# --- output --------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def generate(out_dir: Path, *, seed: int = 7, scale: int = 1) -> dict[str, int]:
    """Write the demo source extracts into ``out_dir``; return rows written per file."""
    if scale < 1:
        raise ValueError("scale must be >= 1")
    rng = random.Random(seed)  # noqa: S311 -- demo data, not security
    world = _World(rng=rng, ids=_Ids(rng), scale=scale)
    steps: list[Callable[[_World], None]] = [_salesforce, _stripe, _zendesk, _aws]
    for step in steps:
        step(world)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name, header in FILES.items():
        rows = world.out[name]
        with (out_dir / name).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows([_cell(row[col]) for col in header] for row in rows)
        counts[name] = len(rows)
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autonomos.demo.generator",
        description="Write deterministic demo source extracts (CSV).",
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", type=int, default=1)
    args = parser.parse_args(argv)
    counts = generate(args.out_dir, seed=args.seed, scale=args.scale)
    for name, rows in counts.items():
        print(f"{rows:>8,}  {args.out_dir / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
