"""Demo content: what a persona reads before the tenant has any data, with
``AUTONOMOS_DEMO_MODE`` on. Fixed numbers of a fictional company, so the dashboard shows
a real-looking briefing; every answer built from them says ``"demo": true`` and every
fact's source is ``demo``. Never used when the tenant has data, nor with demo mode off.
"""

from __future__ import annotations

from autonomos.nlp.personas.catalog import Persona

# (statement, kind, weight) per persona; the numbers agree across personas.
DEMO_FACTS: dict[Persona, tuple[tuple[str, str, float], ...]] = {
    Persona.CFO: (
        (
            "Receivables: 412,300.00 USD outstanding on 38 invoices, 96,450.00 USD of it past "
            "due (9 invoices).",
            "metric",
            3.0,
        ),
        (
            "Recurring revenue is 187,900.00 USD a month from 214 active subscriptions.",
            "metric",
            2.5,
        ),
        (
            "Cloud spend over the last 30 days of cost data is 58,240.00 USD across 14 services.",
            "metric",
            2.0,
        ),
        (
            "Cost anomaly on aws/AmazonEC2: 3,980.00 USD on one day against a typical 1,150.00 "
            "USD.",
            "finding",
            6.0,
        ),
        (
            "Idle resource: 2 EC2 instances billed 1,240.00 USD in 30 days with no usage.",
            "finding",
            5.0,
        ),
    ),
    Persona.CRO: (
        (
            "Open pipeline is 4,820,000.00 USD across 57 deals (weighted by probability: "
            "1,905,000.00 USD).",
            "metric",
            3.0,
        ),
        ("Win rate is 31% (22 won of 71 closed deals).", "metric", 2.5),
        (
            "Slipped deals: 6 open deals worth 730,000.00 USD are past their close date.",
            "finding",
            6.0,
        ),
        (
            "Stale deals: 11 open deals worth 1,120,000.00 USD have had no update in 30 days.",
            "finding",
            5.5,
        ),
        (
            "The largest open pipelines are with Northwind Traders (640,000.00 USD), Globex "
            "(510,000.00 USD), Initech (355,000.00 USD).",
            "metric",
            1.5,
        ),
    ),
    Persona.COO: (
        (
            "Support backlog: 143 open tickets of 1,962, 17 of them high or urgent priority.",
            "metric",
            3.0,
        ),
        ("Resolved tickets took a median of 19.5 hours (1,819 resolved).", "metric", 2.0),
        (
            "Stale deals: 11 open deals worth 1,120,000.00 USD have had no update in 30 days.",
            "finding",
            5.0,
        ),
        ("The unified account view holds 486 customer accounts.", "metric", 0.5),
    ),
    Persona.CTO: (
        (
            "Cloud spend over the last 30 days of cost data is 58,240.00 USD across 14 services.",
            "metric",
            2.0,
        ),
        (
            "The biggest cloud cost drivers over the last 30 days are AmazonEC2 (24,100.00 "
            "USD), AmazonRDS (11,800.00 USD), AmazonS3 (6,050.00 USD).",
            "metric",
            1.8,
        ),
        (
            "Cost anomaly on aws/AmazonEC2: 3,980.00 USD on one day against a typical 1,150.00 "
            "USD.",
            "finding",
            6.0,
        ),
        (
            "Idle resource: 2 EC2 instances billed 1,240.00 USD in 30 days with no usage.",
            "finding",
            5.0,
        ),
        (
            "312 cloud resources billed in 4 regions over the last 30 days of cost data.",
            "metric",
            1.0,
        ),
    ),
}
