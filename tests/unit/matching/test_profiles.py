import pytest

from autonomos.matching.profiles import agreement, detect, expected
from autonomos.matching.text import canon


def toks(name: str) -> tuple[str, ...]:
    return tuple(canon(w) for w in name.split("_"))


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (["ana@acme.com", "bo@example.org", "x.y+z@mail.co.uk"], "email"),
        (["+1 415-555-0100", "(415) 555 0199", "+44 20 7946 0958"], "phone"),
        (["https://www.acme.com", "http://globex.io/", "www.initech.com"], "url"),
        (["acme.com", "globex.co.uk", "initech.io"], "domain"),
        (["usd", "EUR", "gbp", "usd"], "currency"),
        (["US", "DE", "FR", "GB"], "country"),
        (["2025-03-01T12:00:00.000Z", "2024-12-31", "2025-01-02 10:11:12"], "timestamp"),
        ([1735689600, 1738368000, 1740787200], "epoch"),
        (["true", "false", "true"], "bool"),
        ([True, False], "bool"),
        (["cus_Nffrf2l5Hs8bJq", "cus_Nffrf2l5Hs8bJr", "cus_Q1w2e3r4t5y6u7"], "id"),
        (["0015g00000AbCdEAAV", "0015g00000XyZaBAAV"], "id"),
        (["12.50", "99.99", "1,200.00"], "money"),
        ([{"a": 1}, ["x"]], "json"),
        (["open", "closed", "open", "pending", "open", "closed"], "enum"),
    ],
)
def test_detects_value_kinds(values, kind):
    assert detect(values) == kind


def test_no_samples_or_mixed_values_detect_nothing():
    assert detect([]) is None
    assert detect([None, "", "null"]) is None
    assert detect(["ana@acme.com", "+1 415-555-0100", "2025-01-01"]) is None


def test_agreement_rewards_fitting_values_and_punishes_clear_conflicts():
    email = expected(toks("email"), "string")
    phone = expected(toks("phone"), "string")
    assert agreement("email", email) == 1.0
    assert agreement("email", phone) == -1.0
    assert agreement("phone", phone) == 1.0
    assert agreement("currency", expected(toks("currency"), "string")) == 1.0
    assert agreement("timestamp", expected(toks("created_at"), "timestamp")) == 1.0
    assert agreement("email", expected(toks("created_at"), "timestamp")) == -1.0
    assert agreement("id", expected(toks("amount"), "decimal")) == -1.0
    assert agreement(None, email) == 0.0
