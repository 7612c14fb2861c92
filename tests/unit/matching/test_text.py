from autonomos.matching.text import canon, parse_name, split_path, split_words, stem, text_tokens


def test_split_words_handles_casing_acronyms_and_digits():
    assert split_words("billingCountryCode") == ("billing", "country", "code")
    assert split_words("BillingCountryCode") == ("billing", "country", "code")
    assert split_words("billing_country_code") == ("billing", "country", "code")
    assert split_words("ISOCurrencyCode") == ("iso", "currency", "code")
    assert split_words("Pricebook2Id") == ("pricebook", "2", "id")
    assert split_words("e-mail") == ("e", "mail")


def test_split_path_on_dots_slashes_colons_and_double_underscores():
    assert split_path("status_transitions.paid_at") == ["status_transitions", "paid_at"]
    assert split_path("lineItem/UsageAmount") == ["lineItem", "UsageAmount"]
    assert split_path("resourceTags/user:team") == ["resourceTags", "user", "team"]
    assert split_path("address__city") == ["address", "city"]


def test_parse_name_separates_leaf_from_parent_context():
    p = parse_name("billing_details.address.postalCode")
    assert p.leaf == (canon("postal"), canon("code"))
    assert p.depth == 2
    assert p.parent == (stem("address"),)
    assert p.context[:2] == (stem("billing"), stem("details"))
    assert not p.meta
    assert parse_name("_fivetran_synced").meta


def test_common_abbreviations_expand():
    assert parse_name("total_amt").leaf == parse_name("total_amount").leaf
    assert parse_name("qty").leaf == parse_name("quantity").leaf
    assert parse_name("acct_desc").leaf == parse_name("account_description").leaf
    assert parse_name("cust_addr").leaf == parse_name("customer_address").leaf
    assert parse_name("invoiceNo").leaf == parse_name("invoice_number").leaf
    assert parse_name("order_dt").leaf == parse_name("order_date").leaf


def test_synonyms_and_spellings_share_a_canonical_token():
    assert canon("organisation") == canon("organization") == canon("company") == canon("account")
    assert canon("modified") == canon("updated")
    assert canon("cancelled") == canon("canceled")
    assert canon("deal") == canon("opportunity")
    assert canon("companies") == canon("account")  # plural of a synonym


def test_stemmer_equates_inflections():
    assert stem("created") == stem("creation") == stem("create")
    assert stem("billing") == stem("billed") == stem("bill")
    assert stem("categories") == stem("category")
    assert stem("id") == "id"


def test_description_tokens_drop_stopwords():
    toks = text_tokens("The unique ID of the account, assigned at creation.")
    assert "the" not in toks and "of" not in toks
    assert canon("account") in toks and stem("creation") in toks


def test_run_together_words_are_split_into_known_words():
    from autonomos.matching.text import segment

    assert split_words("closedate") == ("close", "date")
    assert split_words("hs_lastmodifieddate")[-1] == "date"
    assert parse_name("dealname").leaf == parse_name("deal_name").leaf
    assert segment("statement") == ("statement",)  # no complete split: kept whole
    assert segment("subtotal") == ("subtotal",)


def test_ontology_field_words_are_never_split(ontology):
    for entity in ontology.entities:
        for f in entity.fields:
            for w in f.name.split("_"):
                assert split_words(w) == (w,), f.name
