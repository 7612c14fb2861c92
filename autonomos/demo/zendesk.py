"""Zendesk extracts: Organization, User (end users and agents) and Ticket.

Organisations are ~75 % of the live Salesforce accounts (name variants, ``external_id`` on
~20 %), end users mostly their contacts plus people the CRM does not know; tickets carry
``solved_at`` from the ticket metrics.  Ids are numeric, timestamps ISO 8601.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from autonomos.demo._common import (
    BASE,
    DAY,
    Row,
    World,
    between,
    iso,
    person_name,
)

COLUMNS: dict[str, list[str]] = {
    "zendesk_organizations.csv": "id name domain_names external_id created_at updated_at".split(),
    "zendesk_users.csv": "id name email phone role organization_id created_at updated_at "
    "suspended".split(),
    "zendesk_tickets.csv": "id url type subject description priority status requester_id "
    "requester_email assignee_id organization_id organization_name tags via_channel "
    "satisfaction_rating created_at updated_at solved_at".split(),
}

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
]
_TICKET_X = ("Salesforce", "HubSpot", "Okta", "Azure AD", "usage", "billing", "reports", "Jira")


def generate_zendesk(w: World) -> None:
    rng, ids, s = w.rng, w.ids, w.scale
    accounts = w.out["salesforce_accounts.csv"]
    since = datetime(2022, 1, 1, tzinfo=UTC)
    orgs: list[Row] = []
    users: list[Row] = []
    org_users: list[tuple[Row, Row | None]] = []  # (end user, organisation)
    agents = []
    for _ in range(6 + 2 * s):
        first, last = person_name(rng)
        created = between(rng, since, BASE - 90 * DAY)
        agents.append(
            {
                "id": ids.numeric("user", 361_000_000_000, 9999),
                "name": f"{first} {last}",
                "email": f"{first}.{last}@brightwave.io".lower(),
                "phone": None,
                "role": "agent",
                "organization_id": None,
                "created_at": iso(created),
                "updated_at": iso(between(rng, created, BASE)),
                "suspended": False,
            }
        )
    users += agents
    for acc, c in zip(accounts, w.companies, strict=True):
        if acc["IsDeleted"] or rng.random() > 0.75:
            continue
        created = between(rng, datetime.fromisoformat(acc["CreatedDate"]), BASE - 20 * DAY)
        org: Row = {
            "id": ids.numeric("org", 360_000_000_000, 99999),
            "name": c.variant(rng),
            "domain_names": json.dumps([c.domain]),
            "external_id": acc["Id"] if rng.random() < 0.2 else None,
            "created_at": iso(created),
            "updated_at": iso(between(rng, created, BASE)),
        }
        orgs.append(org)
        people = [p for p in w.contacts_by_account.get(acc["Id"], []) if p["Email"]]
        chosen = rng.sample(people, min(len(people), rng.randint(1, 4)))
        names = [(p["FirstName"], p["LastName"], p["Email"], p["Phone"]) for p in chosen]
        if not names or rng.random() < 0.2:  # someone the CRM does not know yet
            first, last = person_name(rng)
            names.append((first, last, f"{first}.{last}@{c.domain}".lower(), None))
        for first, last, email, phone in names:
            org_users.append((_zd_user(w, f"{first} {last}", email, phone, org, created), org))
    for _ in range(max(1, len(org_users) // 9)):
        first, last = person_name(rng)
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
    w: World, name: str, email: str, phone: str | None, org: Row | None, after: datetime
) -> Row:
    created = between(w.rng, after, BASE - 10 * DAY)
    return {
        "id": w.ids.numeric("user", 361_000_000_000, 9999),
        "name": name,
        "email": email,
        "phone": phone,
        "role": "end-user",
        "organization_id": org["id"] if org else None,
        "created_at": iso(created),
        "updated_at": iso(between(w.rng, created, BASE)),
        "suspended": w.rng.random() < 0.01,
    }


def _ticket(w: World, created: datetime, user: Row, org: Row | None, agents: list[Row]) -> Row:
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
        updated = between(rng, created, BASE)
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
        "created_at": iso(created),
        "updated_at": iso(updated),
        "solved_at": iso(solved),
    }
