"""One-window fee payment (一窗缴费): the rules of fee items and bills, with no database or HTTP.

An enterprise pays every fee of a case once, at the window, instead of at each body. A body's
staff set the fees of their own approval item (收费项目: name, legal basis 收费依据, amount in fen,
payer); the fees of one case (or of one batch of auxiliary items, 分期报建) gather on one bill.
A bill moves through four states, each change with who and when:

    待缴 due ──pay──▶ 已缴 paid ──refund──▶ 已退 refunded
       └──waive (减免, with a reason)──▶ 减免 waived

Anything else is refused with the reason (a due bill cannot be refunded, a paid one is refunded
rather than waived, nothing is paid twice). Amounts are integers in fen (分) everywhere: money
is never a float.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from engine.errors import Conflict, Invalid

DUE, PAID, REFUNDED, WAIVED = "due", "paid", "refunded", "waived"
STATUSES = (DUE, PAID, REFUNDED, WAIVED)
STATUS_NAMES = {DUE: "待缴", PAID: "已缴", REFUNDED: "已退", WAIVED: "减免"}
SETTLED = (PAID, WAIVED)  # nothing more is owed on these

PAY, REFUND, WAIVE = "pay", "refund", "waive"
# action -> (the state it needs, the state it leaves)
TRANSITIONS = {PAY: (DUE, PAID), REFUND: (PAID, REFUNDED), WAIVE: (DUE, WAIVED)}

CHANNELS = ("window", "online")  # at the window's till (settles at once) / scan-to-pay (settles by callback)
MAX_AMOUNT_FEN = 10**12  # ten billion yuan: beyond any administrative fee, well inside 64 bits
TEXT_LIMITS = {"fee_name": 200, "legal_basis": 500, "payer": 200}


def yuan(fen: int) -> str:
    """`123456` → `1,234.56` (fen shown as yuan, exactly: no float on the way)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def transition(bill_number: str, status: str, action: str, reference: str | None = None) -> str:
    """The state `action` leaves a bill in, or a Conflict saying why the bill's state refuses it."""
    needed, after = TRANSITIONS[action]
    if status == needed:
        return after
    name = STATUS_NAMES.get(status, status)
    if action == PAY:
        if status == PAID:
            raise Conflict(f"bill {bill_number} is already paid (已缴, payment reference {reference}); "
                           f"nothing is paid twice")
        if status == WAIVED:
            raise Conflict(f"bill {bill_number} was waived (减免); there is nothing to pay")
        raise Conflict(f"bill {bill_number} was refunded (已退); a refunded bill is not paid again — "
                       f"the body adds its fee again on a new bill")
    if action == REFUND:
        if status == DUE:
            raise Conflict(f"bill {bill_number} is unpaid (待缴); only a paid bill can be refunded")
        raise Conflict(f"bill {bill_number} is {status} ({name}); only a paid bill can be refunded")
    if status == PAID:
        raise Conflict(f"bill {bill_number} is already paid (已缴); refund it instead of waiving it")
    raise Conflict(f"bill {bill_number} is {status} ({name}); only an unpaid bill can be waived")


def item_key(item: dict[str, Any] | None) -> str | None:
    """The stable key of an approval item within its case: its catalogue code (else its name),
    prefixed `b<n>/` for the items of auxiliary batch n (the same code may recur per batch)."""
    if not isinstance(item, dict):
        return None
    base = item.get("code") or item.get("name")
    if not isinstance(base, str) or not base.strip():
        return None
    batch = item.get("batch")
    return f"b{batch}/{base}" if isinstance(batch, int) and not isinstance(batch, bool) else base


def item_batch(item: dict[str, Any] | None) -> int | None:
    """The batch an item belongs to (None: the main project): its fees go on that batch's bill."""
    batch = item.get("batch") if isinstance(item, dict) else None
    return batch if isinstance(batch, int) and not isinstance(batch, bool) else None


def check_fee_item(data: Any) -> dict[str, Any]:
    """A fee item as a body sets it, every problem named by field (422), nothing guessed:
    `item` (the approval item's key), `fee_name`, `legal_basis`, `amount_fen` (integer fen > 0),
    optional `payer` (default: the case's enterprise)."""
    if not isinstance(data, dict):
        raise Invalid("a fee item must be an object", errors={"_schema": ["must be an object"]})
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for field in ("item", "fee_name", "legal_basis", "payer"):
        value = data.get(field)
        if value is None:
            if field != "payer":
                errors[field] = ["required"]
            continue
        if not isinstance(value, str) or not value.strip():
            errors[field] = ["must be a non-empty string"]
            continue
        limit = TEXT_LIMITS.get(field, 200)
        if len(value) > limit:
            errors[field] = [f"at most {limit} characters"]
            continue
        clean[field] = value.strip()
    amount = data.get("amount_fen")
    if amount is None:
        errors["amount_fen"] = ["required"]
    elif isinstance(amount, bool) or not isinstance(amount, int):
        errors["amount_fen"] = ["must be an integer number of fen (分), e.g. 150000 for 1,500.00 yuan"]
    elif amount <= 0:
        errors["amount_fen"] = ["must be more than 0 (a fee that is not charged is not a fee item)"]
    elif amount > MAX_AMOUNT_FEN:
        errors["amount_fen"] = [f"must be at most {MAX_AMOUNT_FEN}"]
    else:
        clean["amount_fen"] = amount
    unknown = sorted(set(data) - {"item", "fee_name", "legal_basis", "payer", "amount_fen"})
    for name in unknown:
        errors[name] = ["unknown field"]
    if errors:
        raise Invalid("the fee item is invalid", errors=errors)
    return clean


def check_reason(reason: Any) -> str:
    """Refunds and waivers need a reason the record keeps (减免依据, 退费原因)."""
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid("a reason is required", errors={"reason": ["required"]})
    if len(reason) > 2000:
        raise Invalid("the reason is too long", errors={"reason": ["at most 2000 characters"]})
    return reason.strip()


def fee_required(value: Any) -> bool:
    """Whether a task's `fee_required` property (or its item's own `fee_required`) is on."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "是")


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2199, 12, 31)


def check_day(day: date) -> date:
    """A reconciliation day the service can have records of (far-off years are a typo, 422)."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise Invalid(f"date {day.isoformat()} is outside {FIRST_DAY.isoformat()}..{LAST_DAY.isoformat()}",
                      errors={"date": [f"must be between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}"]})
    return day
