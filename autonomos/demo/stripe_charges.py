"""Stripe Charges: one per paid invoice, declined attempts before a successful card retry,
failed attempts on invoices that stay unpaid, and standalone charges without an invoice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from autonomos.demo._common import (
    BASE,
    DAY,
    Row,
    World,
    between,
    money,
    unix,
)

_FAILURES = [
    ("card_declined", "Your card was declined."),
    ("insufficient_funds", "Your card has insufficient funds."),
    ("expired_card", "Your card has expired."),
    ("incorrect_cvc", "Your card's security code is incorrect."),
    ("processing_error", "An error occurred while processing your card. Try again."),
    ("authentication_required", "This transaction requires authentication."),
]


def generate_charges(w: World, invoices: list[Row], customers: list[Row], target: int) -> list[Row]:
    rng = w.rng

    def charge(
        cust_id: str,
        inv: str | None,
        amount: int,
        currency: str,
        created: datetime,
        ok: bool,
        bank: bool,
    ) -> Row:
        cur = currency.lower()
        method = "card"
        if bank:
            method = {"usd": "us_bank_account", "eur": "sepa_debit", "gbp": "bacs_debit"}.get(
                cur, "customer_balance"
            )
        if rng.random() < 0.015:
            currency = rng.choice([cur.upper(), cur.capitalize()])
        code, message = rng.choice(_FAILURES) if not ok else (None, None)
        refunded = ok and rng.random() < 0.02
        return {
            "id": w.ids.stripe("ch_"),
            "customer": cust_id,
            "invoice": inv,
            "amount": amount,
            "amount_refunded": (amount if rng.random() < 0.7 else amount // 2) if refunded else 0,
            "currency": currency,
            "status": "succeeded" if ok else "failed",
            "paid": ok,
            "refunded": refunded,
            "created": unix(created),
            "payment_method_type": method,
            "card_brand": rng.choice(["visa", "mastercard", "amex"]) if method == "card" else None,
            "failure_code": code,
            "failure_message": message,
        }

    def at(ts: int) -> datetime:
        return datetime.fromtimestamp(ts, UTC)

    out: list[Row] = []
    unpaid: list[Row] = []
    for inv in invoices:
        bank = inv["collection_method"] == "send_invoice" or rng.random() < 0.1
        if inv["status"] == "paid" and inv["amount_paid"] > 0:
            out.append(
                charge(
                    inv["customer"],
                    inv["id"],
                    inv["amount_paid"],
                    inv["currency"],
                    at(inv["status_transitions.paid_at"]),
                    True,
                    bank,
                )
            )
        elif inv["status"] in ("open", "uncollectible"):
            unpaid.append(inv)
    rng.shuffle(out)
    del out[target:]
    retries = [c for c in out if c["payment_method_type"] == "card"]
    while len(out) < target:
        roll = rng.random()
        if unpaid and roll < 0.15:  # failed attempts on invoices that stay unpaid
            inv = rng.choice(unpaid)
            when = at(inv["created"]) + timedelta(hours=rng.randint(1, 24 * 20))
            out.append(
                charge(
                    inv["customer"],
                    inv["id"],
                    inv["amount_due"],
                    inv["currency"],
                    min(when, BASE - timedelta(hours=1)),
                    False,
                    False,
                )
            )
        elif retries and roll < 0.4:  # a declined card before the successful retry
            ok = rng.choice(retries)
            when = at(ok["created"]) - timedelta(hours=rng.randint(1, 24 * 3))
            out.append(
                charge(
                    ok["customer"], ok["invoice"], ok["amount"], ok["currency"], when, False, False
                )
            )
        else:  # standalone charges (add-ons, usage top-ups), no invoice
            cust = rng.choice(customers)
            when = between(rng, datetime(2023, 6, 1, tzinfo=UTC), BASE - timedelta(hours=1))
            row = charge(
                cust["id"],
                None,
                int(money(rng, 5000, 1.0)) or 500,
                cust["currency"],
                when,
                rng.random() < 0.9,
                rng.random() < 0.2,
            )
            if row["paid"] and row["payment_method_type"] != "card" and when > BASE - 5 * DAY:
                row.update(status="pending", paid=False)
            out.append(row)
    out.sort(key=lambda r: (r["created"], r["id"]))
    return out
