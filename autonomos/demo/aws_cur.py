"""AWS Cost and Usage Report (CUR) extract, daily granularity, October to December 2025.

``lineItem/UnblendedCost`` is the billed cost; the effective (amortised) cost is
``reservation/EffectiveCost`` for ``DiscountedUsage`` lines,
``savingsPlan/SavingsPlanEffectiveCost`` for ``SavingsPlanCoveredUsage`` lines, 0 for
``SavingsPlanNegation`` lines and the unblended cost otherwise;
``pricing/publicOnDemandCost`` is the list cost.  December 2025 is not invoiced yet at
extract time, so its ``bill/InvoiceId`` is empty.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any, NamedTuple

from autonomos.demo._common import (
    DAY,
    Row,
    World,
    add_months,
    iso,
)

COLUMNS: dict[str, list[str]] = {
    "aws_cur_costs.csv": (
        "identity/LineItemId identity/TimeInterval bill/InvoiceId bill/BillingEntity "
        "bill/BillType bill/PayerAccountId bill/BillingPeriodStartDate "
        "bill/BillingPeriodEndDate lineItem/UsageAccountId lineItem/LineItemType "
        "lineItem/UsageStartDate lineItem/UsageEndDate lineItem/ProductCode "
        "lineItem/UsageType lineItem/Operation lineItem/AvailabilityZone lineItem/ResourceId "
        "lineItem/UsageAmount lineItem/CurrencyCode lineItem/UnblendedRate "
        "lineItem/UnblendedCost lineItem/BlendedRate lineItem/BlendedCost "
        "lineItem/LineItemDescription product/ProductName product/productFamily "
        "product/region product/sku pricing/unit pricing/publicOnDemandRate "
        "pricing/publicOnDemandCost reservation/EffectiveCost "
        "savingsPlan/SavingsPlanEffectiveCost resourceTags/user:team resourceTags/user:env"
    ).split(),
}

_USAGES = {  # product code -> [(usage type, pricing unit, on-demand rate, operation)]
    "AmazonEC2": [
        ("BoxUsage:m5.4xlarge", "Hrs", 0.768, "RunInstances"),
        ("BoxUsage:c6i.8xlarge", "Hrs", 1.36, "RunInstances"),
        ("BoxUsage:r6i.2xlarge", "Hrs", 0.504, "RunInstances"),
        ("EBS:VolumeUsage.gp3", "GB-Mo", 0.08, "CreateVolume-Gp3"),
    ],
    "AmazonRDS": [
        ("InstanceUsage:db.r6g.2xlarge", "Hrs", 0.899, "CreateDBInstance:0014"),
        ("RDS:GP3-Storage", "GB-Mo", 0.115, "CreateDBInstance:0014"),
    ],
    "AmazonS3": [
        ("TimedStorage-ByteHrs", "GB-Mo", 0.023, "StandardStorage"),
        ("Requests-Tier1", "Requests", 0.000005, "PutObject"),
    ],
    "AWSLambda": [
        ("Lambda-GB-Second", "Lambda-GB-Second", 0.0000166667, "Invoke"),
        ("Request", "Requests", 0.0000002, "Invoke"),
    ],
    "AmazonDynamoDB": [
        ("ReadRequestUnits", "ReadRequestUnits", 0.00000025, "GetItem"),
        ("TimedStorage-ByteHrs", "GB-Mo", 0.25, "StandardStorage"),
    ],
    "AmazonEKS": [("AmazonEKS-Hours:perCluster", "Hours", 0.1, "CreateOperation")],
    "AmazonCloudFront": [("DataTransfer-Out-Bytes", "GB", 0.085, "GET")],
    "AmazonCloudWatch": [("CW:MetricMonitorUsage", "Metrics", 0.3, "MetricStorage")],
    "AmazonSageMaker": [("Notebk:ml.g5.2xlarge", "Hrs", 1.515, "RunInstance:Notebook")],
}


class _Service(NamedTuple):
    code: str
    name: str
    family: str
    weight: int
    kind: str  # short resource kind, for resource ids

    @property
    def usages(self) -> list[tuple[str, str, float, str]]:
        return _USAGES[self.code]


_AWS_SERVICES = [
    _Service("AmazonEC2", "Amazon Elastic Compute Cloud", "Compute Instance", 30, "ec2"),
    _Service("AmazonRDS", "Amazon Relational Database Service", "Database Instance", 14, "rds"),
    _Service("AmazonS3", "Amazon Simple Storage Service", "Storage", 12, "s3"),
    _Service("AWSLambda", "AWS Lambda", "Serverless", 8, "lambda"),
    _Service("AmazonDynamoDB", "Amazon DynamoDB", "Database Storage", 6, "ddb"),
    _Service("AmazonEKS", "Amazon Elastic Container Service for Kubernetes", "Compute", 4, "eks"),
    _Service("AmazonCloudFront", "Amazon CloudFront", "Data Transfer", 5, "cf"),
    _Service("AmazonCloudWatch", "AmazonCloudWatch", "Metric", 5, "cw"),
    _Service("AmazonSageMaker", "Amazon SageMaker", "ML Instance", 4, "sm"),
]
_REGIONS = {"us-east-1": "", "us-west-2": "USW2-", "eu-west-1": "EU-", "eu-central-1": "EUC1-"}


@dataclass
class _Resource:
    env: str
    account: str
    service: _Service
    usage: tuple[str, str, float, str]
    region: str
    resource_id: str
    cover: str  # none | ri (reserved instance) | sp (savings plan)
    sku: str
    team: str | None
    size: float
    zone: str | None


def _aws_resources(w: World, accounts: dict[str, str]) -> list[_Resource]:
    rng = w.rng
    skus: dict[tuple[str, str, str], str] = {}
    out = []
    committed = 0
    for env, acct in accounts.items():
        for svc in _AWS_SERVICES:
            code, usages, weight, kind = svc.code, svc.usages, svc.weight, svc.kind
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
        row: Row = dict.fromkeys(COLUMNS["aws_cur_costs.csv"])
        row.update(
            {
                "identity/LineItemId": "".join(
                    self.rng.choices(string.ascii_lowercase + "234567", k=52)
                ),
                "identity/TimeInterval": f"{iso(start)}/{iso(end)}",
                "bill/InvoiceId": self.invoice_ids.get(month),
                "bill/BillingEntity": "AWS",
                "bill/BillType": "Anniversary",
                "bill/PayerAccountId": self.payer,
                "bill/BillingPeriodStartDate": iso(month),
                "bill/BillingPeriodEndDate": iso(add_months(month, 1)),
                "lineItem/UsageAccountId": acct,
                "lineItem/LineItemType": kind,
                "lineItem/UsageStartDate": iso(start),
                "lineItem/UsageEndDate": iso(end),
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
            add_months(month, 1),
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
        code, pname, family = r.service.code, r.service.name, r.service.family
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


def generate_aws_cur(w: World) -> None:
    rng = w.rng
    payer = str(rng.randrange(10**11, 10**12))
    accounts = {
        e: str(rng.randrange(10**11, 10**12)) for e in ("prod", "staging", "data", "sandbox")
    }
    months = [datetime(2025, m, 1, tzinfo=UTC) for m in (10, 11, 12)]
    # December 2025 is not invoiced yet at extract time (2026-01-01).
    cur = _Cur(rng, payer, {m: str(rng.randrange(10**9, 10**10)) for m in months[:-1]})
    resources = _aws_resources(w, accounts)
    planted = _plant_cost_anomalies(w, payer, accounts, cur.invoice_ids)
    taxed = [
        (month, acct, code)
        for month in months
        for env, acct in accounts.items()
        for code in sorted({r.service.code for r in resources if r.env == env})
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
    target = 5000 * w.scale - len(taxed) - len(planted.lines)
    weights = list(accumulate(r.service.weight / max(1, r.service.weight // 3) for r in resources))
    while len(cur.lines) < target:
        r = rng.choices(resources, cum_weights=weights)[0]
        if r.cover != "sp" or len(cur.lines) + 2 <= target:
            cur.usage(r, datetime(2025, 10, 1, tzinfo=UTC) + rng.randrange(92) * DAY)
    cur.lines += planted.lines
    for bucket, spend in planted.spend.items():
        cur.spend[bucket] = cur.spend.get(bucket, 0.0) + spend
    for month, acct, code in taxed:  # sales tax on last month's usage, per product
        tax = round(cur.spend.get((month, acct, code), 0.0) * 0.0825, 2)
        cur.flat(month, acct, "Tax", code, "", tax, f"Tax for product code {code}")
    key = ("lineItem/UsageStartDate", "lineItem/UsageAccountId", "identity/LineItemId")
    w.out["aws_cur_costs.csv"] = sorted(cur.lines, key=lambda row: tuple(row[k] for k in key))


SPIKE_START = datetime(2025, 12, 12, tzinfo=UTC)  # a Friday
IDLE_ENDPOINT = "endpoint/churn-scoring-v1"
IDLE_DAILY_COST = 36.36  # ml.g5.2xlarge at 1.515 an hour


def _plant_cost_anomalies(
    w: World, payer: str, accounts: dict[str, str], invoice_ids: dict[datetime, str]
) -> _Cur:
    """What a FinOps agent should find, on purpose (``mock_sources/README.md``): a GPU
    training fleet (four EC2 p3.8xlarge in the data account) left running from Friday
    2025-12-12 to Sunday 2025-12-14, and a SageMaker endpoint in prod billed every day of
    the quarter that served nothing (usage amount 0). Drawn from ``w.planted``."""
    rng = w.planted
    planted = _Cur(rng, payer, invoice_ids)
    ec2 = _AWS_SERVICES[0]
    gpu = ("BoxUsage:p3.8xlarge", "Hrs", 12.24, "RunInstances")
    sku = "".join(rng.choices(string.ascii_uppercase + string.digits, k=16))
    for _ in range(4):
        rid = f"i-0{rng.getrandbits(64):016x}"
        fleet = _Resource(
            "data",
            accounts["data"],
            ec2,
            gpu,
            "us-east-1",
            rid,
            "none",
            sku,
            "ml",
            2.0,
            "us-east-1b",
        )
        for d in range(3):
            planted.usage(fleet, SPIKE_START + d * DAY)
    sm = next(s for s in _AWS_SERVICES if s.code == "AmazonSageMaker")
    acct = accounts["prod"]
    arn = f"arn:aws:sagemaker:us-west-2:{acct}:{IDLE_ENDPOINT}"
    sku = "".join(rng.choices(string.ascii_uppercase + string.digits, k=16))
    for n in range(92):
        day = datetime(2025, 10, 1, tzinfo=UTC) + n * DAY
        planted.line(
            acct,
            "Usage",
            day,
            day + DAY,
            **{
                "lineItem/ProductCode": sm.code,
                "lineItem/UsageType": "USW2-Host:ml.g5.2xlarge",
                "lineItem/Operation": "RunInstance:0001",
                "lineItem/ResourceId": arn,
                "lineItem/UsageAmount": 0.0,
                "lineItem/UnblendedRate": 1.515,
                "lineItem/UnblendedCost": IDLE_DAILY_COST,
                "lineItem/BlendedRate": 1.515,
                "lineItem/BlendedCost": IDLE_DAILY_COST,
                "lineItem/LineItemDescription": "$1.515 per hour for ml.g5.2xlarge hosting",
                "product/ProductName": sm.name,
                "product/productFamily": sm.family,
                "product/region": "us-west-2",
                "product/sku": sku,
                "pricing/unit": "Hrs",
                "pricing/publicOnDemandRate": 1.515,
                "pricing/publicOnDemandCost": IDLE_DAILY_COST,
                "resourceTags/user:team": "ml",
                "resourceTags/user:env": "prod",
            },
        )
        bucket = (day.replace(day=1), acct, sm.code)
        planted.spend[bucket] = planted.spend.get(bucket, 0.0) + IDLE_DAILY_COST
    return planted
