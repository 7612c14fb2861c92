"""The FinOps agent's parameters: every threshold it decides with, documented.

Money thresholds are shares of the tenant's *typical month* (the median daily usage
spend of the last ``anomaly_window_days`` times 30), so the same defaults fit a start-up
spending 3,000 a month and an enterprise spending 3 million: what is "high" is what
moves the bill a CFO reads.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from autonomos.agents.findings import Bands


class FinOpsParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    as_of: date | None = Field(
        None,
        description="Day the analysis is made as of (inclusive); default: the last day "
        "with cost data, so an export from last week is analysed as of its own end",
    )
    cost_column: Literal["effective_cost", "billed_cost"] = Field(
        "effective_cost",
        description="FOCUS cost analysed: effective_cost (amortised: commitments spread "
        "over the usage they cover, so a reservation purchase is not a spike) or "
        "billed_cost; rows where it is null fall back to the other one",
    )
    lookback_days: int = Field(
        90, ge=7, le=730, description="Days analysed for breakdowns and anomalies"
    )
    top_n: int = Field(10, ge=1, le=100, description="Rows kept per breakdown and driver list")

    anomaly_window_days: int = Field(
        28, ge=8, le=180, description="Trailing days each day's expected spend is fitted on"
    )
    anomaly_min_history_days: int = Field(
        14, ge=4, le=180, description="A day is judged only with this much history"
    )
    anomaly_z: float = Field(
        4.0, gt=0, description="Robust z-score (deviation / 1.4826 MAD) a spike reaches"
    )
    anomaly_min_increase_pct: float = Field(
        0.3, ge=0, description="...and it is at least this share above the expected value"
    )
    anomaly_min_increase: float = Field(
        1.0, ge=0, description="...and at least this much money above it, per day"
    )
    anomaly_severity: Bands = Field(
        Bands(medium=0.01, high=0.03),
        description="Severity of an anomaly by its excess cost over its days",
    )

    forecast_window_days: int = Field(
        28, ge=7, le=180, description="Trailing days the month-end trend is fitted on"
    )
    forecast_interval: float = Field(
        0.9, gt=0.5, lt=1.0, description="Coverage of the forecast's prediction interval"
    )
    forecast_growth: Bands = Field(
        Bands(medium=0.2, high=0.5),
        description="Severity of the forecast by its growth over the last complete month",
    )
    monthly_budget: float | None = Field(
        None,
        gt=0,
        description="When set, a forecast over budget is medium, and high when even the "
        "interval's lower bound is over it",
    )

    driver_period_days: int = Field(
        30, ge=7, le=180, description="Drivers: the last N days against the N days before"
    )
    driver_min_increase_pct: float = Field(
        0.25, ge=0, description="A driver is reported when it grew at least this share"
    )
    driver_severity: Bands = Field(
        Bands(medium=0.03, high=0.10),
        description="Severity of a driver by its increase; below medium it is not reported",
    )

    idle_days: int = Field(14, ge=1, le=90, description="Recent days a resource is judged on")
    idle_min_days: int = Field(
        7, ge=1, le=90, description="An idle resource was billed on at least this many days"
    )
    idle_min_cost: float = Field(
        1.0, ge=0, description="...and cost at least this much over the idle window"
    )
    idle_severity: Bands = Field(
        Bands(medium=0.01, high=0.03),
        description="Severity of an idle resource by its cost per 30 days",
    )

    @model_validator(mode="after")
    def _consistent(self) -> FinOpsParams:
        if self.anomaly_min_history_days > self.anomaly_window_days:
            raise ValueError("anomaly_min_history_days cannot exceed anomaly_window_days")
        if self.idle_min_days > self.idle_days:
            raise ValueError("idle_min_days cannot exceed idle_days")
        return self
