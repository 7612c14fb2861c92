"""Scoring like the evaluation's scorer: neutral alternatives, wrong entities, objects no
entity describes, reliability bins."""

import numpy as np

from autonomos.matching.evaluate import IGNORE, ece, reliability, score, score_one
from autonomos.matching.schema import SourceField, SourceSchema
from autonomos.matching.synth import LabelledSchema

SCHEMA = SourceSchema((SourceField("id"), SourceField("email"), SourceField("mobile")))
CONTACT = LabelledSchema(
    SCHEMA,
    "contact",
    {"id": "contact.contact_id", "email": "contact.email", "mobile": IGNORE},
    {"mobile": "contact.phone"},
)


def test_right_wrong_and_neutral_pairs():
    s = score_one(
        CONTACT,
        "contact",
        [
            ("id", "contact.contact_id", 0.95),
            ("email", "contact.phone", 0.6),
            ("mobile", "contact.phone", 0.7),  # the defensible alternative: neutral
        ],
    ).metrics()
    assert (s["P"], s["R"], s["top1"]) == (0.5, 0.5, 0.5)
    assert s["P@0.9"] == 1.0 and s["cover@0.9"] == 0.5 and s["entity"] == 1.0
    other = score_one(CONTACT, "contact", [("mobile", "contact.email", 0.7)]).metrics()
    assert other["P"] == 0.0  # only the labelled alternative is neutral


def test_another_entity_or_a_non_business_object_makes_every_pair_wrong():
    wrong = score_one(CONTACT, "account", [("id", "account.account_id", 0.9)]).metrics()
    assert wrong["P"] == 0.0 and wrong["entity"] == 0.0
    none = LabelledSchema(SCHEMA, None, {})
    assert score_one(none, None, []).metrics()["entity"] == 1.0
    pooled = score([(none, "contact", [("id", "contact.contact_id", 0.9)]), (CONTACT, None, [])])
    assert pooled.metrics()["P"] == 0.0 and pooled.n_gold == 2


def test_reliability_bins_and_ece():
    bins = reliability(np.array([0.95, 0.92, 0.55]), np.array([1, 0, 1]))
    assert bins[9][0] == 2 and abs(bins[9][2] - 0.5) < 1e-9 and bins[5][0] == 1
    assert ece(np.array([]), np.array([])) == 0.0
