"""General data-engineering vocabulary the lexical signals use.

Everything here is common knowledge about how business systems name things (abbreviations,
spelling variants, synonyms a data engineer knows); nothing is specific to one source system.
Tokens are lower-case and already split (``createdAt`` -> ``created``, ``at``).
"""

from __future__ import annotations

# abbreviation -> expansion (one or more tokens)
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "amt": ("amount",),
    "amnt": ("amount",),
    "qty": ("quantity",),
    "qnty": ("quantity",),
    "desc": ("description",),
    "descr": ("description",),
    "addr": ("address",),
    "adr": ("address",),
    "acct": ("account",),
    "acc": ("account",),
    "accnt": ("account",),
    "org": ("organization",),
    "orgs": ("organization",),
    "num": ("number",),
    "nbr": ("number",),
    "nr": ("number",),
    "dt": ("date",),
    "ts": ("timestamp",),
    "tstamp": ("timestamp",),
    "tm": ("time",),
    "cust": ("customer",),
    "usr": ("user",),
    "emp": ("employee",),
    "empl": ("employee",),
    "employees": ("employee",),
    "tel": ("phone",),
    "telephone": ("phone",),
    "ph": ("phone",),
    "mob": ("mobile",),
    "fname": ("first", "name"),
    "lname": ("last", "name"),
    "firstname": ("first", "name"),
    "lastname": ("last", "name"),
    "givenname": ("first", "name"),
    "surname": ("last", "name"),
    "familyname": ("last", "name"),
    "pct": ("percent",),
    "perc": ("percent",),
    "prob": ("probability",),
    "ccy": ("currency",),
    "curr": ("currency",),
    "cur": ("currency",),
    "inv": ("invoice",),
    "txn": ("transaction",),
    "trx": ("transaction",),
    "tx": ("transaction",),
    "pmt": ("payment",),
    "pymt": ("payment",),
    "prod": ("product",),
    "svc": ("service",),
    "srv": ("service",),
    "rgn": ("region",),
    "az": ("availability", "zone"),
    "loc": ("location",),
    "cat": ("category",),
    "categ": ("category",),
    "src": ("source",),
    "dst": ("destination",),
    "dest": ("destination",),
    "ref": ("reference",),
    "stat": ("status",),
    "sts": ("status",),
    "upd": ("updated",),
    "mod": ("modified",),
    "modstamp": ("modified", "timestamp"),
    "crt": ("created",),
    "dob": ("birth", "date"),
    "birthdate": ("birth", "date"),
    "birthday": ("birth", "date"),
    "yr": ("year",),
    "mo": ("month",),
    "cnt": ("count",),
    "ext": ("external",),
    "msg": ("message",),
    "co": ("company",),
    "corp": ("corporation",),
    "dept": ("department",),
    "mgr": ("manager",),
    "opp": ("opportunity",),
    "oppty": ("opportunity",),
    "opty": ("opportunity",),
    "tkt": ("ticket",),
    "uom": ("unit",),
    "mrr": ("monthly", "recurring", "revenue"),
    "arr": ("annual", "recurring", "revenue"),
    "arpu": ("average", "revenue", "user"),
    "uuid": ("id",),
    "guid": ("id",),
    "identifier": ("id",),
    "ident": ("id",),
    "pk": ("id",),
    "uri": ("url",),
    "vat": ("tax",),
    "gst": ("tax",),
    "zip": ("postal", "code"),
    "zipcode": ("postal", "code"),
    "postcode": ("postal", "code"),
    "postalcode": ("postal", "code"),
    "headcount": ("employee", "count"),
    "staff": ("employee",),
    "workforce": ("employee",),
    "turnover": ("revenue",),
    "lastmodified": ("last", "modified"),
    "createdon": ("created", "on"),
    "createdat": ("created", "at"),
    "updatedat": ("updated", "at"),
    "datetime": ("timestamp",),
    "utc": (),
}

# British -> American spellings and other one-token variants
SPELLING: dict[str, str] = {
    "organisation": "organization",
    "organisations": "organization",
    "cancelled": "canceled",
    "cancelling": "canceling",
    "cancellation": "cancellation",
    "colour": "color",
    "licence": "license",
    "catalogue": "catalog",
    "amortised": "amortized",
    "summarised": "summarized",
    "e-mail": "email",
}

# Strong synonyms: the token stands for the same concept (canonical form on the right).
# Applied token-by-token after abbreviations; the canonical token is what is compared.
SYNONYMS: dict[str, str] = {
    # organisations
    "company": "account",
    "organization": "account",
    "customer": "account",
    "client": "account",
    "corporation": "account",
    "firm": "account",
    # people
    "person": "contact",
    "people": "contact",
    # deals
    "deal": "opportunity",
    # bills and money received
    "bill": "invoice",
    "charge": "payment",
    "transaction": "payment",
    # support
    "case": "ticket",
    # life-cycle verbs
    "creation": "created",
    "create": "created",
    "inserted": "created",
    "insert": "created",
    "modified": "updated",
    "modification": "updated",
    "modify": "updated",
    "changed": "updated",
    "change": "updated",
    "update": "updated",
    "edited": "updated",
    "archived": "deleted",
    "removed": "deleted",
    "trashed": "deleted",
    "delete": "deleted",
    "deletion": "deleted",
    "began": "started",
    "begin": "started",
    "start": "started",
    "starts": "started",
    "commenced": "started",
    "finish": "ended",
    "finished": "ended",
    "cancel": "canceled",
    "cancellation": "canceled",
    "canceling": "canceled",
    "solved": "resolved",
    "resolution": "resolved",
    "resolve": "resolved",
    "issuance": "issued",
    # attributes
    "telephone": "phone",
    "telephonenumber": "phone",
    "postcode": "postal",
    "zip": "postal",
    "headcount": "employee",
    "employees": "employee",
    "staff": "employee",
    "label": "tag",
    "labels": "tag",
    "tags": "tag",
    "keyword": "tag",
    "qty": "quantity",
    "units": "quantity",
    "seat": "quantity",
    "seats": "quantity",
    "sector": "industry",
    "vertical": "industry",
    "website": "domain",
    "homepage": "domain",
    "urgency": "priority",
    "phase": "stage",
    "assigned": "assignee",
    "consumed": "usage",
    "consumption": "usage",
    "used": "usage",
}

# Weak relations: related words that often (not always) stand for one another.
# Symmetric; score credit ``WEAK_CREDIT`` when two tokens are only weakly related.
RELATED: tuple[tuple[str, ...], ...] = (
    ("account", "tenant", "subscriber", "payer", "member", "workspace", "organization", "project"),
    (
        "contact",
        "user",
        "requester",
        "reporter",
        "submitter",
        "lead",
        "member",
        "recipient",
        "caller",
    ),
    ("owner", "rep", "representative", "agent", "assignee", "salesperson", "responder", "handler"),
    ("amount", "value", "sum", "total", "cost", "worth"),
    ("total", "grand", "gross"),
    ("subtotal", "net"),
    ("domain", "url", "web", "site", "homepage"),
    ("status", "state"),
    ("stage", "status", "step"),
    ("type", "kind", "category", "class"),
    ("method", "type", "instrument", "channel", "source"),
    ("plan", "price", "tier", "product", "package"),
    ("period", "interval", "cycle", "term"),
    ("quantity", "count", "volume", "amount"),
    ("number", "no", "code", "reference"),
    ("id", "key", "reference", "code"),
    ("region", "location", "geo"),
    ("zone", "domain", "datacenter"),
    ("service", "product"),
    ("sku", "product", "part"),
    ("unit", "uom", "measure"),
    ("probability", "likelihood", "chance", "confidence"),
    ("subject", "title", "summary", "headline"),
    ("description", "body", "content", "text", "detail", "comment"),
    ("channel", "via", "medium", "source"),
    ("title", "position", "role", "job"),
    ("started", "opened", "began", "from", "effective", "activated"),
    ("ended", "to", "until", "expired", "expires", "expiry", "expiration"),
    ("updated", "synced", "refreshed"),
    ("paid", "settled", "collected", "captured"),
    ("due", "owed", "outstanding", "remaining", "balance"),
    ("created", "opened", "submitted", "registered", "signup", "joined", "issued"),
    ("resolved", "closed", "completed", "done", "ended"),
    ("deleted", "inactive", "disabled", "deactivated"),
    ("country", "nation"),
    ("first", "given", "forename"),
    ("last", "family", "surname"),
    ("city", "town", "locality"),
    ("revenue", "income", "sales"),
    ("bill", "billed", "invoice", "invoiced"),
    ("cost", "charge", "spend", "fee"),
    ("parent", "master", "ultimate", "hq"),
    ("trial", "evaluation"),
)

# Words of the columns loaders add (``_fivetran_synced``, ``_sdc_batched_at``, ``_dlt_id``).
ETL_WORDS = frozenset(
    """sdc airbyte fivetran dlt etl stitch meltano hevo singer synced sync loaded load
    extracted extract ingested ingest batch batched row hash emitted received sequence raw
    deleted""".split()
)
# Tokens that qualify a temporal field without changing its event (created_at ~ created_date).
TEMPORAL_TOKENS = frozenset(
    {"at", "on", "date", "time", "timestamp", "datetime", "ts", "dt", "utc"}
)
# Prefixes of boolean flags (is_deleted ~ deleted).
BOOLEAN_TOKENS = frozenset({"is", "has", "was", "flag", "bool", "boolean", "yn"})
# Tokens that carry little meaning on their own in a field name.
NAME_STOPWORDS = frozenset(
    {"the", "a", "an", "of", "my", "our", "this", "for", "in", "to", "by", "and", "or", "c", "x"}
)
# Leaf tokens that say "identifier": reference fields drop them (``customer_id`` ~ ``customer``).
ID_TOKENS = frozenset({"id", "ids", "key", "uuid", "guid", "ref", "reference", "sid"})
# Qualifiers whose removal leaves the main concept (``currency_code`` ~ ``currency``).
DROPPABLE_SUFFIXES = frozenset({"code", "name", "iso", "value", "text", "string", "str"})
# Words that make a field a *different* instance of a concept (``shipping_city`` vs ``city``).
QUALIFIERS = frozenset(
    {
        "other",
        "shipping",
        "mailing",
        "home",
        "mobile",
        "previous",
        "prior",
        "next",
        "original",
        "secondary",
        "alternate",
        "alternative",
        "assistant",
        "expected",
        "estimated",
        "default",
        "pending",
        "refunded",
        "overage",
        "max",
        "min",
        "avg",
        "old",
        "new",
        "raw",
        "fax",
        "backup",
        "legacy",
        "external",
    }
)

# Entity words: how systems name the object that an ontology entity describes.
ENTITY_WORDS: dict[str, tuple[str, ...]] = {
    "account": (
        "account",
        "company",
        "organization",
        "customer",
        "client",
        "business",
        "firm",
        "tenant",
    ),
    "contact": (
        "contact",
        "person",
        "people",
        "user",
        "lead",
        "member",
        "individual",
        "subscriber",
        "prospect",
        "profile",
        "recipient",
    ),
    "opportunity": ("opportunity", "deal", "pipeline", "sale"),
    "invoice": ("invoice", "bill", "billing", "receivable"),
    "subscription": ("subscription", "plan", "membership", "recurring", "contract"),
    "payment": ("payment", "charge", "transaction", "receipt", "transfer"),
    "ticket": ("ticket", "case", "issue", "request", "incident", "conversation", "support"),
    "cloud_cost": ("cost", "usage", "billing", "spend", "cur", "focus", "cloud"),
}

# Words that name an entity less often than they name another one: a "customer" is
# usually the customer organisation (account), sometimes a person (contact).
WEAK_ENTITY_WORDS: dict[str, tuple[str, ...]] = {"contact": ("customer", "client")}

# Which entities are people and which organisations (person/organisation evidence).
ENTITY_KIND: dict[str, str] = {"contact": "person", "account": "organisation"}

# Attributes only a person has, and only an organisation has: concept -> phrases (each a
# set of words a field's leaf name must hold, after abbreviations). Fields both can hold
# (name, email, phone, address, website) are left out.
PERSON_WORDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "first_name": (("first", "name"), ("given", "name"), ("forename",)),
    "last_name": (("last", "name"), ("family", "name")),
    "middle_name": (("middle", "name"), ("middle", "initial")),
    "birth": (("birth",),),
    "gender": (("gender",), ("sex",)),
    "salutation": (("salutation",), ("honorific",)),
    "nickname": (("nickname",),),
    "job_title": (("job", "title"), ("occupation",)),
    "pronoun": (("pronoun",),),
}
ORGANISATION_WORDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "industry": (("industry",), ("sector",)),
    "employees": (("employee",), ("numberofemployees",)),
    "revenue": (("revenue",),),
    "tax_id": (
        ("tax", "number"),
        ("tax", "id"),
        ("vat",),
        ("ein",),
        ("gstin",),
        ("business", "number"),
        ("registration", "number"),
        ("company", "number"),
    ),
    "legal_name": (("legal", "name"), ("registered", "name"), ("trading", "name")),
    "ticker": (("ticker",),),
    "industry_code": (("sic",), ("naics",), ("duns",)),
    "ownership": (("ownership",),),
}

# Common words in descriptions that carry no field meaning.
TEXT_STOPWORDS = frozenset(
    """a an the of to in on for and or is are was were be been being by with as at from this that
    these those it its it's which who whom whose what when where why how if then than there their
    they them he she his her you your we our us i me my not no yes can could may might must should
    would will shall do does did done has have had having any all each every some such only also
    into onto over under about above below after before between during per via e g eg ie i.e
    example for_example used use uses using value values field fields record records object
    objects given specified set sets see more most other same one two three up out so etc""".split()
)

# Segments that only wrap a record's attributes (``properties.amount`` is the amount).
WRAPPERS = frozenset(
    {
        "properties",
        "attributes",
        "fields",
        "data",
        "values",
        "record",
        "payload",
        "body",
        "node",
        "result",
        "item",
    }
)

# Words of field names, used to split run-together names (``closedate`` -> close date).
COMMON_WORDS = frozenset(
    """name date time type status stage amount close closed create created modified update
    updated last first deal owner number count total tax due paid start end period current
    trial plan quantity price cost currency code country city state street postal phone email
    domain website industry revenue annual employee parent account contact title subject
    description priority channel tag tags assignee requester ticket invoice payment method
    subscription service region zone resource sku unit usage billing bill charge category
    provider line item product project won lost reason source forecast pipeline next step
    company customer user person lead owner value key ref reference id is has deleted archived
    active created amount currency canceled cancelled started ended expected sales order
    balance discount net gross sub home mobile work fax address zip full display legal web
    site url page link group team org organization level score rating note notes comment
    comments body text summary label labels kind category class family given middle
    prefix suffix birth day month year week hour minute second modstamp stamp system record
    deal stage probability subtotal""".split()
)
