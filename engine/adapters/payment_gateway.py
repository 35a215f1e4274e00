"""Payment gateways: the interface one-window fee payment pays through, and a local test gateway.

No real payment provider is wired in. A provider's adapter (a bank's counter terminal, a
government non-tax payment platform 非税收入缴款平台, a scan-to-pay service) implements
`PaymentGateway`: create a payment for a bill, query it, refund it, and authenticate the
provider's payment notification (callback). The engine stores the gateway's reference and
treats a confirmation of the same reference twice as one.

`LocalGateway` is for tests, demonstrations and training: payments at the window's till
(`channel="window"`, cash or card at the counter) settle at once; online payments
(`channel="online"`) stay pending until `simulate_callback` produces the signed notification a
provider would send to `POST /api/v1/payments/callback`. It keeps its pending payments in the
process's memory (a restart forgets them; confirm them by callback), and signs callbacks with
HMAC-SHA256 under `ONEWINDOW_LOCAL_GATEWAY_SECRET` (a random secret per process if unset).
Select the gateway with `ONEWINDOW_PAYMENT_GATEWAY` (only `local` exists).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from engine.errors import Forbidden, Invalid


@dataclass(frozen=True)
class GatewayPayment:
    """What a gateway says about one payment: `status` is pending, paid or unknown."""

    reference: str
    status: str
    amount_fen: int


@dataclass(frozen=True)
class GatewayRefund:
    reference: str  # the refund's own reference (退款流水号)
    status: str  # refunded


class GatewayError(Exception):
    """The provider refused or failed; the bill is left as it was."""


@runtime_checkable
class PaymentGateway(Protocol):
    """The one interface a payment provider's adapter implements."""

    name: str

    def create_payment(self, bill_number: str, amount_fen: int, channel: str, description: str) -> GatewayPayment:
        """Open a payment of `amount_fen` for a bill; a window payment may come back paid at once."""
        ...

    def query(self, reference: str) -> GatewayPayment:
        """The payment's state as the provider knows it now."""
        ...

    def refund(self, reference: str, amount_fen: int, reason: str) -> GatewayRefund:
        """Return `amount_fen` of a paid payment to the payer."""
        ...

    def verify_callback(self, payload: dict[str, Any]) -> GatewayPayment:
        """The payment a provider's notification confirms, once its signature is checked;
        Forbidden for a notification that is not the provider's."""
        ...


class LocalGateway:
    """A gateway with no provider behind it (see the module's notes)."""

    name = "local"

    def __init__(self, secret: str | None = None) -> None:
        self._secret = (secret or os.environ.get("ONEWINDOW_LOCAL_GATEWAY_SECRET")
                        or secrets.token_hex(32)).encode()
        self._payments: dict[str, GatewayPayment] = {}
        self._lock = threading.Lock()

    def create_payment(self, bill_number: str, amount_fen: int, channel: str, description: str) -> GatewayPayment:
        if amount_fen <= 0:
            raise GatewayError("a payment must be of more than 0 fen")
        reference = f"LOCAL-{uuid.uuid4().hex[:20].upper()}"
        payment = GatewayPayment(reference, "paid" if channel == "window" else "pending", amount_fen)
        with self._lock:
            self._payments[reference] = payment
        return payment

    def query(self, reference: str) -> GatewayPayment:
        with self._lock:
            return self._payments.get(reference) or GatewayPayment(reference, "unknown", 0)

    def refund(self, reference: str, amount_fen: int, reason: str) -> GatewayRefund:
        if not reference.startswith("LOCAL-"):
            raise GatewayError(f"payment {reference} was not made through the local gateway")
        return GatewayRefund(f"LOCALR-{uuid.uuid4().hex[:19].upper()}", "refunded")

    def _sign(self, reference: str, status: str, amount_fen: int) -> str:
        message = f"{reference}|{status}|{amount_fen}".encode("utf-8", "replace")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def simulate_callback(self, reference: str) -> dict[str, Any]:
        """The provider's side: the payer paid; the signed notification it would send us."""
        with self._lock:
            payment = self._payments.get(reference)
            if payment is None:
                raise GatewayError(f"the local gateway issued no payment {reference}")
            payment = GatewayPayment(reference, "paid", payment.amount_fen)
            self._payments[reference] = payment
        return {"gateway": self.name, "reference": reference, "status": "paid",
                "amount_fen": payment.amount_fen, "signature": self._sign(reference, "paid", payment.amount_fen)}

    def verify_callback(self, payload: dict[str, Any]) -> GatewayPayment:
        errors = {name: ["required"] for name in ("reference", "status", "amount_fen", "signature")
                  if name not in payload}
        if errors:
            raise Invalid("the payment notification is incomplete", errors=errors)
        reference, status, amount = payload["reference"], payload["status"], payload["amount_fen"]
        errors = {name: ["must be a string"] for name in ("reference", "status", "signature")
                  if not isinstance(payload[name], str)}
        if isinstance(amount, bool) or not isinstance(amount, int):
            errors["amount_fen"] = ["must be an integer"]
        if errors:
            raise Invalid(f"the payment notification has fields of the wrong type: {', '.join(errors)}",
                          errors=errors)
        if not hmac.compare_digest(self._sign(reference, status, amount).encode(), payload["signature"].encode()):
            raise Forbidden("the payment notification's signature does not match the gateway's")
        return GatewayPayment(reference, status, amount)


_GATEWAYS = {"local": LocalGateway}
_LOCK = threading.Lock()


def gateway_for(runtime: Any) -> PaymentGateway:
    """The runtime's payment gateway, made on first use (one per runtime: a provider's adapter
    keeps its connections, the local gateway its pending payments). Tests and integrations may
    set `runtime.payment_gateway` themselves."""
    found = getattr(runtime, "payment_gateway", None)
    if found is not None:
        return found
    with _LOCK:
        found = getattr(runtime, "payment_gateway", None)
        if found is None:
            name = os.environ.get("ONEWINDOW_PAYMENT_GATEWAY", "local")
            if name not in _GATEWAYS:
                raise GatewayError(f"ONEWINDOW_PAYMENT_GATEWAY={name!r} names no gateway (known: local)")
            found = _GATEWAYS[name]()
            runtime.payment_gateway = found
    return found
