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
Each source lives in its own module (:mod:`~autonomos.demo.salesforce`,
:mod:`~autonomos.demo.stripe`, :mod:`~autonomos.demo.zendesk`,
:mod:`~autonomos.demo.aws_cur`); shared helpers are in ``_common``.

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

How AWS CUR costs relate (unblended, amortised, list) is described in
:mod:`autonomos.demo.aws_cur`.

Anomalies planted for the FinOps and RevOps agents (from a second generator, so they shift
no other row): a three-day EC2 GPU spike and an idle SageMaker endpoint in the CUR, a
slipped 480,000 USD deal and six stale late-stage deals in the opportunities; see
``mock_sources/README.md``.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable, Sequence
from pathlib import Path

from autonomos.demo import aws_cur, salesforce, stripe, zendesk
from autonomos.demo._common import Ids, World, write_csv

FILES: dict[str, list[str]] = {
    **salesforce.COLUMNS,
    **stripe.COLUMNS,
    **zendesk.COLUMNS,
    **aws_cur.COLUMNS,
}

_STEPS: list[Callable[[World], None]] = [
    salesforce.generate_salesforce,
    stripe.generate_stripe,
    zendesk.generate_zendesk,
    aws_cur.generate_aws_cur,
]


def generate(out_dir: Path, *, seed: int = 7, scale: int = 1) -> dict[str, int]:
    """Write the demo source extracts into ``out_dir``; return rows written per file."""
    if scale < 1:
        raise ValueError("scale must be >= 1")
    rng = random.Random(seed)  # noqa: S311 -- demo data, not security
    planted = random.Random(f"planted:{seed}")  # noqa: S311 -- demo data, not security
    world = World(rng=rng, ids=Ids(rng), scale=scale, planted=planted)
    for step in _STEPS:
        step(world)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name, header in FILES.items():
        rows = world.out[name]
        write_csv(out_dir / name, header, rows)
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
