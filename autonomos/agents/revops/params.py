"""The RevOps agent's parameters: every threshold it decides with, documented."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from autonomos.agents.findings import Bands


class RevOpsParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    as_of: date | None = Field(
        None,
        description="Day the pipeline is judged on; default: the latest update seen on an "
        "opportunity (the moment the data reflects), else today (UTC)",
    )
    top_n: int = Field(10, ge=1, le=100, description="Rows kept per list in the summary")
    win_rate_days: int = Field(
        365, ge=7, le=3650, description="Win rate and sales cycle over deals closed in these days"
    )
    slipped_grace_days: int = Field(
        0, ge=0, le=90, description="A deal slipped when still open this long after its close date"
    )
    slipped_severity: Bands = Field(
        Bands(medium=0.05, high=0.15),
        description="Severity of slipped deals by their share of the open pipeline's amount",
    )
    stale_days: int = Field(
        30, ge=1, le=365, description="An open deal is stale after this many days without update"
    )
    stale_severity: Bands = Field(
        Bands(medium=0.10, high=0.25),
        description="Severity of stale deals by their share of the open pipeline's amount",
    )
    concentration_top_accounts: int = Field(
        5, ge=1, le=50, description="Concentration: share of open pipeline in this many accounts"
    )
    concentration_min_accounts: int = Field(
        20,
        ge=2,
        description="Concentration is judged only when the open pipeline spans this many "
        "accounts (with 8 accounts, 5 of them always hold most of it)",
    )
    concentration_severity: Bands = Field(
        Bands(medium=0.5, high=0.7),
        description="Severity by the top accounts' share; below medium it is not reported",
    )
