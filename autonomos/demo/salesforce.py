"""Salesforce extracts (Data Loader, ``queryAll``): Account, Contact and Opportunity.

Ids are 18-character Salesforce ids, timestamps ``2025-03-01T12:00:00.000Z``, amounts in
decimal units, countries as names (``United States``, sometimes ``USA``/``US``).  These are the
accounts the other systems' customers, organisations and users are variations of.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from autonomos.demo._common import (
    BASE,
    DAY,
    WORDS,
    Row,
    World,
    allocate,
    between,
    make_companies,
    money,
    person_name,
    phone_number,
    sf_ts,
)

COLUMNS: dict[str, list[str]] = {
    "salesforce_accounts.csv": "Id IsDeleted Name ParentId Website Industry AnnualRevenue "
    "NumberOfEmployees Phone BillingCity BillingCountry OwnerId CreatedDate LastModifiedDate "
    "SystemModstamp".split(),
    "salesforce_contacts.csv": "Id IsDeleted AccountId FirstName LastName Email Phone Title "
    "OwnerId CreatedDate LastModifiedDate SystemModstamp".split(),
    "salesforce_opportunities.csv": "Id IsDeleted AccountId Name Type StageName Amount "
    "CurrencyIsoCode Probability CloseDate IsClosed IsWon OwnerId CreatedDate LastModifiedDate "
    "SystemModstamp".split(),
}

_TITLES: tuple[str | None, ...] = (
    *(
        "CEO, CTO, CFO, VP Engineering, VP Sales, Head of Finance, Controller, "
        "Accounts Payable Specialist, Engineering Manager, Software Engineer, Data Analyst, "
        "Product Manager, IT Director, Operations Manager, Procurement Manager"
    ).split(", "),
    None,
)
_STAGES = [  # (StageName, Probability, weight)
    ("Prospecting", 10, 8),
    ("Qualification", 10, 8),
    ("Needs Analysis", 20, 6),
    ("Value Proposition", 50, 5),
    ("Id. Decision Makers", 60, 4),
    ("Perception Analysis", 70, 3),
    ("Proposal/Price Quote", 75, 5),
    ("Negotiation/Review", 90, 4),
    ("Closed Won", 100, 30),
    ("Closed Lost", 0, 25),
]


def generate_salesforce(w: World) -> None:
    rng, ids, s = w.rng, w.ids, w.scale
    owners = [ids.sf("005") for _ in range(6 + 2 * s)]
    everyone = make_companies(rng, 300 * s)
    w.companies, w.spare = everyone[: 200 * s], everyone[200 * s :]
    accounts: list[Row] = []
    for i, c in enumerate(w.companies):
        created = between(rng, datetime(2021, 1, 4, tzinfo=UTC), BASE - 30 * DAY)
        modified = between(rng, created, BASE - timedelta(hours=1))
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
                "Industry": WORDS[c.word.split()[0]],
                "AnnualRevenue": revenue,
                "NumberOfEmployees": c.employees,
                "Phone": phone_number(rng, c.country),
                "BillingCity": c.city,
                "BillingCountry": country,
                "OwnerId": rng.choice(owners),
                "CreatedDate": sf_ts(created),
                "LastModifiedDate": sf_ts(modified),
                "SystemModstamp": sf_ts(modified + timedelta(seconds=rng.randint(0, 90))),
            }
        )
    weights = [math.log(c.employees + 2) for c in w.companies]
    contacts: list[Row] = []
    per_account = allocate(rng, 600 * s, weights, 1)
    for acc, c, k in zip(accounts, w.companies, per_account, strict=True):
        pattern = rng.choice(["{f}.{l}", "{f0}{l}", "{f}", "{f}_{l}"])
        used: set[str] = set()
        for _ in range(k):
            first, last = person_name(rng)
            local = pattern.format(f=first, l=last, f0=first[0]).lower()
            while local in used:
                local += str(rng.randint(1, 9))
            used.add(local)
            created = between(rng, datetime.fromisoformat(acc["CreatedDate"]), BASE - DAY)
            modified = between(rng, created, BASE - timedelta(hours=1))
            row = {
                "Id": ids.sf("003"),
                "IsDeleted": rng.random() < 0.02,
                "AccountId": acc["Id"],
                "FirstName": first,
                "LastName": last,
                "Email": None if rng.random() < 0.03 else f"{local}@{c.domain}",
                "Phone": phone_number(rng, c.country) if rng.random() < 0.8 else None,
                "Title": rng.choice(_TITLES),
                "OwnerId": acc["OwnerId"],
                "CreatedDate": sf_ts(created),
                "LastModifiedDate": sf_ts(modified),
                "SystemModstamp": sf_ts(modified),
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
        created = between(rng, datetime.fromisoformat(acc["CreatedDate"]), BASE - 7 * DAY)
        if closed:
            close = min(created + rng.randint(14, 180) * DAY, BASE - DAY)
        elif rng.random() < 0.1:  # overdue pipeline nobody cleaned up
            close = max(BASE - rng.randint(1, 60) * DAY, created + DAY)
        else:
            close = BASE + rng.randint(0, 180) * DAY
        modified = between(rng, min(close, BASE - DAY) if closed else created, BASE)
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
                "Amount": None if rng.random() < 0.03 else f"{money(rng, 24000, 1.0):.2f}",
                "CurrencyIsoCode": currency,
                "Probability": prob,
                "CloseDate": close.date().isoformat(),
                "IsClosed": closed,
                "IsWon": stage == "Closed Won",
                "OwnerId": acc["OwnerId"],
                "CreatedDate": sf_ts(created),
                "LastModifiedDate": sf_ts(modified),
                "SystemModstamp": sf_ts(modified),
            }
        )
    _plant_pipeline_problems(w, opps)
    w.out["salesforce_accounts.csv"] = accounts
    w.out["salesforce_contacts.csv"] = contacts
    w.out["salesforce_opportunities.csv"] = opps


SLIPPED_CLOSE = datetime(2025, 11, 28, tzinfo=UTC)


def _plant_pipeline_problems(w: World, opps: list[Row]) -> None:
    """What a RevOps agent should find, on purpose (``mock_sources/README.md``).

    Open deals are worked: each was touched in the last two weeks, except six late-stage
    USD deals left untouched for 45 to 120 days (stale). The largest open USD deal, made
    a 480,000 expansion in negotiation, was due on 2025-11-28 and is still open
    (slipped), beside the ~10 % of
    open deals already past their close date (pipeline nobody cleaned up).
    """
    rng = w.planted
    open_deals = [o for o in opps if not o["IsClosed"]]
    for o in open_deals:
        created = datetime.fromisoformat(o["CreatedDate"])
        touched = between(rng, max(created, BASE - 14 * DAY), BASE - timedelta(hours=1))
        o["LastModifiedDate"] = o["SystemModstamp"] = sf_ts(touched)
    usd = sorted(
        (
            o
            for o in open_deals
            if o["CurrencyIsoCode"] == "USD" and o["Amount"] and not o["IsDeleted"]
        ),
        key=lambda o: (-float(o["Amount"]), o["Id"]),
    )
    biggest = usd[0]  # now an enterprise expansion: the quarter's biggest deal
    biggest |= {"StageName": "Negotiation/Review", "Probability": 90, "Amount": "480000.00"}
    biggest["CloseDate"] = SLIPPED_CLOSE.date().isoformat()
    if datetime.fromisoformat(biggest["CreatedDate"]) > SLIPPED_CLOSE - 60 * DAY:
        biggest["CreatedDate"] = sf_ts(SLIPPED_CLOSE - 75 * DAY)
    old = BASE - 130 * DAY
    quiet = [
        o
        for o in usd[1:]
        if o["Probability"] >= 60 and datetime.fromisoformat(o["CreatedDate"]) <= old
    ]
    for o in quiet[:6]:
        o["LastModifiedDate"] = o["SystemModstamp"] = sf_ts(BASE - rng.randint(45, 120) * DAY)
