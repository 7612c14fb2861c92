"""The one text toolkit: normalising, splitting, stemming and comparing names."""

import numpy as np
import pytest

from autonomos.common.text import (
    name_similarities,
    name_similarity,
    name_tokens,
    normalize_name,
    normalize_names,
    singular,
    split_path,
    stem,
    words,
)


def test_normalize_name_snake_cases_each_dotted_part():
    assert normalize_name("billing.Address.City") == "billing.address.city"
    assert normalize_name("lineItem/UnblendedCost") == "line_item_unblended_cost"
    assert normalize_name("HTTPStatus") == "http_status"
    assert normalize_name("2fa") == "_2fa"
    assert normalize_names(["a", "A", "a"]) == ["a", "a_2", "a_3"]


def test_tokens_keep_digits_with_their_word_and_words_split_them():
    assert name_tokens("customer.addressLine1") == ("customer", "address", "line1")
    assert words("Pricebook2Id") == ("pricebook", "2", "id")
    assert words("ISOCurrencyCode") == ("iso", "currency", "code")
    assert split_path("resourceTags/user:team") == ["resourceTags", "user", "team"]


@pytest.mark.parametrize(
    ("word", "expected"),
    [("categories", "category"), ("addresses", "address"), ("plans", "plan"), ("status", "status")],
)
def test_singular(word, expected):
    assert singular(word) == expected


def test_one_stemmer_equates_inflections():
    assert stem("created") == stem("creation") == stem("create")
    assert stem("billing") == stem("billed") == stem("bill")
    assert stem("enabled") != stem("disabled")


def test_name_similarity_ignores_case_order_and_separators():
    assert name_similarity("Acme Analytics", "analytics acme") == 1.0
    assert name_similarity("customer_id", "customerId") == 1.0
    assert 0.8 < name_similarity("customer_wating_since", "customer_waiting_since") < 1.0
    assert name_similarity("status", "") == 0.0 and name_similarity(None, "x") == 0.0
    assert name_similarity("status", "currency") < 0.5


def test_name_similarities_is_the_pairwise_measure_on_aligned_lists():
    a = ["acme analytics", None, "globex"]
    b = ["acme analytic", "initech", "globex corp"]
    got = name_similarities(a, b)
    assert got.shape == (3,) and got[1] == 0.0
    np.testing.assert_allclose(got, [name_similarity(x, y) for x, y in zip(a, b, strict=True)])
    assert name_similarities([], []).shape == (0,)
