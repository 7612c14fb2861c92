"""The project's drift corpus: real API-version changes, consistently labelled, and no
system the evaluation keeps aside."""

from autonomos.aam.rename_fit import real_cases, synthetic_cases

FORBIDDEN = {
    "hubspot",
    "pipedrive",
    "close",
    "closeio",
    "freshdesk",
    "chargebee",
    "recurly",
    "braintree",
    "intercom",
    "harvest",
    "shopify",
    "constant-contact",
    "stripe",
}


def test_cases_are_labelled_consistently() -> None:
    cases = real_cases()
    assert len(cases) >= 60 and len({c.system for c in cases}) >= 20
    assert not {c.system for c in cases} & FORBIDDEN
    assert len({c.id for c in cases}) == len(cases)
    for c in cases:
        before = {f["name"] for f in c.before}
        after = {f["name"] for f in c.after}
        for old, new in c.renamed.items():
            assert old in before and old not in after, c.id
            assert new in after and new not in before, c.id
        assert set(c.truth["added"]) <= after - before
        assert set(c.truth["removed"]) <= before - after


def test_synthetic_drift_is_reproducible_and_has_renames() -> None:
    a = synthetic_cases(1, seed=3)
    b = synthetic_cases(1, seed=3)
    assert [c.renamed for c in a] == [c.renamed for c in b]
    assert sum(len(c.renamed) for c in a) > len(a) // 2
