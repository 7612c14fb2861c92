"""Stripe extracts (API objects, flattened): Customer, Subscription, Invoice and Charge.

Amounts are integer minor units (cents), timestamps Unix seconds, countries ISO-2.  About 80 %
of the Salesforce accounts are customers (under a name variant, with a billing or a contact's
e-mail); ``metadata.sf_account_id`` links ~25 % of those back.  The rest are companies the CRM
does not know and individuals; ~2 % of customers are re-created duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from autonomos.demo._common import (
    BASE,
    COUNTRIES,
    DAY,
    Company,
    Row,
    World,
    add_months,
    between,
    money,
    person_name,
    phone_number,
    unix,
)
from autonomos.demo.stripe_charges import generate_charges

COLUMNS: dict[str, list[str]] = {
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
}

_PLANS = [  # (nickname, unit amount in minor units per month, (min qty, max qty))
    ("Starter", 1900, (1, 3)),
    ("Team", 4900, (3, 25)),
    ("Business", 9900, (10, 150)),
    ("Enterprise", 250000, (1, 1)),
]


@dataclass
class _Sub:
    row: Row
    months: int
    invoices: int
    anchor: datetime = BASE


def _stripe_customers(w: World) -> tuple[list[Row], dict[str, Company | None]]:
    rng, ids, s = w.rng, w.ids, w.scale
    accounts = w.out["salesforce_accounts.csv"]
    n = 250 * s
    n_dup = max(1, round(n * 0.02))
    n_linked = min(round(len(accounts) * 0.8), n - n_dup)
    customers: list[Row] = []
    company_of: dict[str, Company | None] = {}
    prefixes: set[str] = set()

    def add(name: str, email: str | None, c: Company | None, sf_id: str | None) -> Row:
        while (prefix := "".join(rng.choices("0123456789ABCDEF", k=8))) in prefixes:
            pass
        prefixes.add(prefix)
        country = c.country if c else rng.choices(COUNTRIES, [x.weight for x in COUNTRIES])[0]
        row: Row = {
            "id": ids.stripe("cus_", 14),
            "name": name,
            "email": None if rng.random() < 0.03 else email,
            "phone": phone_number(rng, country) if rng.random() < 0.4 else None,
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
            first, last = person_name(rng)
            mail = rng.choice(["gmail.com", "outlook.com", "icloud.com", "proton.me"])
            add(f"{first} {last}", f"{first}.{last}{rng.randint(1, 99)}@{mail}".lower(), None, None)
    for orig in rng.sample([r for r in customers if r["email"]], n_dup):
        local, domain = orig["email"].split("@")
        email = rng.choice([f"{local.capitalize()}@{domain.capitalize()}", orig["email"].upper()])
        dup = add(orig["name"], email, company_of[orig["id"]], None)
        dup["email"] = email  # a duplicate always has its e-mail
        dup["description"] = "re-signed up via checkout"
    return customers, company_of


def _stripe_subscriptions(w: World, customers: list[Row], company: dict[str, Any]) -> list[_Sub]:
    rng, ids, s = w.rng, w.ids, w.scale
    n_subs, n_sub_invoices = 300 * s, 2000 * s - round(2000 * s * 0.05)
    price_ids = {
        (p[0], m, c.currency): ids.stripe("price_")
        for p in _PLANS
        for m in (1, 12)
        for c in COUNTRIES
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
        x.anchor = add_months(last, -(k - 1) * m)
        period_end = trial_end or add_months(last, m)
        if r["status"] == "canceled":
            canceled_at = between(rng, last, min(period_end, BASE - DAY))
            ended_at = period_end if period_end < BASE and rng.random() < 0.5 else canceled_at
        elif r["status"] == "active" and rng.random() < 0.08:
            canceled_at = between(rng, last, BASE)  # scheduled to cancel at period end
        if r["status"] != "trialing" and rng.random() < 0.3:
            trial_start, trial_end = x.anchor - 14 * DAY, x.anchor
        r.update(
            {
                "created": unix(trial_start or x.anchor),
                "start_date": unix(trial_start or x.anchor),
                "current_period_start": unix(last),
                "current_period_end": unix(period_end),
                "cancel_at_period_end": r["status"] == "active" and canceled_at is not None,
                "canceled_at": unix(canceled_at),
                "ended_at": unix(ended_at),
                "trial_start": unix(trial_start),
                "trial_end": unix(trial_end),
            }
        )
    return subs


def _invoice(
    w: World,
    cust: Row,
    sub: Row | None,
    created: datetime,
    start: datetime,
    end: datetime,
    subtotal: int,
    status: str,
    company: Company | None,
) -> Row:
    rng = w.rng
    tax = round(subtotal * (company.country.tax if company else 0.0))
    send = (sub["collection_method"] if sub else "send_invoice") == "send_invoice"
    paid_at = created + (timedelta(days=rng.randint(3, 45)) if send else timedelta(minutes=61))
    if status == "paid" and paid_at >= BASE:
        paid_at = between(rng, created, BASE)
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
        "created": unix(created),
        "period_start": unix(start),
        "period_end": unix(end),
        "due_date": unix(created + 30 * DAY) if send else None,
        "status_transitions.paid_at": unix(paid_at) if status == "paid" else None,
    }


def generate_stripe(w: World) -> None:
    rng, s = w.rng, w.scale
    customers, company = _stripe_customers(w)
    by_id = {c["id"]: c for c in customers}
    subs = _stripe_subscriptions(w, customers, company)
    invoices: list[Row] = []
    for x in subs:
        r, cust = x.row, by_id[x.row["customer"]]
        for j in range(x.invoices):
            start, end = (
                add_months(x.anchor, j * x.months),
                add_months(x.anchor, (j + 1) * x.months),
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
        created = between(rng, datetime(2023, 1, 1, tzinfo=UTC), BASE - DAY)
        status = rng.choices(["paid", "open", "void", "uncollectible"], [80, 10, 5, 5])[0]
        invoices.append(
            _invoice(
                w,
                cust,
                None,
                created,
                created,
                created,
                int(money(rng, 250000, 0.8)),
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
    payments = generate_charges(w, invoices, customers, 2500 * s)
    first: dict[str, int] = {}  # customer -> first thing billed
    for cid, ts in [(x.row["customer"], x.row["start_date"]) for x in subs] + [
        (i["customer"], i["created"]) for i in invoices
    ]:
        first[cid] = min(ts, first.get(cid, ts))
    for cust in customers:  # created: shortly before the first thing billed
        moment = (
            datetime.fromtimestamp(first[cust["id"]], UTC)
            if cust["id"] in first
            else between(rng, datetime(2023, 1, 1, tzinfo=UTC), BASE - DAY)
        )
        cust["created"] = unix(moment - timedelta(hours=rng.randint(1, 30 * 24)))
    late = {i["customer"] for i in invoices if i["status"] in ("open", "uncollectible")}
    late |= {x.row["customer"] for x in subs if x.row["status"] in ("past_due", "unpaid")}
    for cust in customers:
        cust["delinquent"] = cust["id"] in late
    customers.sort(key=lambda r: (r["created"], r["id"]))
    w.out["stripe_customers.csv"] = customers
    w.out["stripe_subscriptions.csv"] = sorted((x.row for x in subs), key=lambda r: r["created"])
    w.out["stripe_invoices.csv"] = invoices
    w.out["stripe_payments.csv"] = payments
