"""Payments of an invoice: what is still due, recording and deleting a payment, and the status they imply.

The amount due is the invoice's total, less what its issued credit notes credit, less the
payments recorded. Once it reaches zero an issued invoice becomes paid; deleting a payment
(a mistake) that leaves something due turns a paid invoice back to issued. Payments change
no content of the invoice, so they are taken on locked (issued or sent) invoices too. A
linked B2Brouter invoice is then marked paid in B2Brouter (``mark_as`` paid) by the
integration; when that fails the payment stays recorded and the page offers to try again.
When a deleted payment leaves something due on an invoice B2Brouter holds as paid, the page
says so and offers to put back the state it had there before (:func:`remote_unpaid_pending`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from b2binvoice.companies.models import PaymentMethodType
from b2binvoice.core.localformats import LocalDecimalField, format_money
from b2binvoice.core.money import minor_units, round_money

from . import history
from .calculations import calculate_invoice
from .credit_notes import credit_summary
from .lock import b2brouter_link
from .models import ChangeAction, Invoice, InvoiceStatus, Payment

ZERO = Decimal(0)
#: States in which B2Brouter already knows the invoice is paid (or is done with it).
REMOTE_PAID_STATES = frozenset({"paid", "allegedly_paid", "closed"})


@dataclass
class Balance:
    """An invoice's total, what credit notes and payments took off it, and what is still due."""

    currency: str
    total: Decimal
    credited: Decimal
    paid: Decimal
    payments: list[Payment] = field(default_factory=list)

    @property
    def due(self) -> Decimal:
        return max(self.total - self.credited - self.paid, ZERO)

    @property
    def covered(self) -> bool:
        return self.total - self.credited - self.paid <= 0


def balance(invoice: Invoice) -> Balance:
    """Return the invoice's balance (credit notes count once issued)."""
    totals = calculate_invoice(invoice)
    credited = ZERO if invoice.is_credit_note else credit_summary(invoice).credited
    payments = list(invoice.payments.select_related("created_by").all())
    paid = round_money(sum((p.amount for p in payments), ZERO), totals.currency)
    return Balance(currency=totals.currency, total=totals.total, credited=credited, paid=paid, payments=payments)


def payment_refusal(invoice: Invoice) -> str | None:
    """Return why no payment can be recorded on ``invoice``, or None when one can."""
    if invoice.is_credit_note:
        return _("%(number)s is a credit note: it is not paid by the client.") % {"number": invoice.number}
    if invoice.status == InvoiceStatus.DRAFT:
        return _("%(number)s is a draft: issue it before recording a payment.") % {"number": invoice.number}
    if invoice.status == InvoiceStatus.CANCELLED:
        return _("%(number)s is cancelled: it takes no payment.") % {"number": invoice.number}
    return None


def check_amount(amount: Decimal, *, due: Decimal, currency: str) -> None:
    """Refuse an amount that is not positive, has too many decimals, or exceeds what is due."""
    if amount <= 0:
        raise ValidationError(_("Enter an amount greater than zero."), code="not_positive")
    if round_money(amount, currency) != amount:
        raise ValidationError(_("%(currency)s amounts have at most %(decimals)s decimals."),
                              code="too_many_decimals", params={"currency": currency,
                                                                 "decimals": minor_units(currency)})
    if amount > due:
        raise ValidationError(_("The amount is more than what is due (%(due)s %(currency)s)."),
                              code="above_due", params={"due": format_money(due, currency), "currency": currency})


def _status_after(invoice: Invoice, covered: bool) -> str:
    if covered and invoice.status == InvoiceStatus.ISSUED:
        return InvoiceStatus.PAID
    if not covered and invoice.status == InvoiceStatus.PAID:
        return InvoiceStatus.ISSUED
    return invoice.status


def _set_status(invoice: Invoice, new: str, *, user: Any) -> bool:
    old = invoice.status
    if new == old:
        return False
    invoice.status = new
    invoice.save(update_fields=["status", "updated_at"])
    history.record_status_change(invoice, old=old, new=new, user=user)
    return True


def _describe(payment: Payment, currency: str) -> dict[str, str]:
    return {"amount": f"{payment.amount:f}", "currency": currency, "date": payment.date.isoformat(),
            "method": payment.method}


def record_payment(*, invoice: Invoice, amount: Decimal, date: dt.date, method: str = "", note: str = "",
                   user: Any = None) -> tuple[Payment, bool]:
    """Record a payment and mark the invoice paid when it is covered; return (payment, became paid).

    The invoice row is locked while the amount due is checked, so two payments at once cannot
    together exceed it. Raise ValidationError when the payment is refused.
    """
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        refusal = payment_refusal(locked)
        if refusal:
            raise ValidationError(refusal, code="not_payable")
        before = balance(locked)
        check_amount(amount, due=before.due, currency=before.currency)
        payment = Payment.objects.create(invoice=locked, amount=amount, date=date, method=method, note=note,
                                         created_by=user if getattr(user, "is_authenticated", False) else None)
        history.record(locked, ChangeAction.PAYMENT, user=user, changes={"payment": _describe(payment, before.currency)})
        became_paid = _set_status(locked, _status_after(locked, before.due - amount <= 0), user=user)
    invoice.status = locked.status
    return payment, became_paid


def delete_payment(*, invoice: Invoice, payment: Payment, user: Any = None) -> bool:
    """Delete a payment recorded by mistake; return whether the invoice went back to issued."""
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        currency = locked.currency.upper()
        described = _describe(payment, currency)
        payment.delete()
        history.record(locked, ChangeAction.PAYMENT_DELETED, user=user, changes={"payment": described})
        after = balance(locked)
        reverted = _set_status(locked, _status_after(locked, after.covered), user=user)
    invoice.status = locked.status
    return reverted


def remote_paid_pending(invoice: Invoice) -> bool:
    """Return whether the invoice is paid here but its linked B2Brouter invoice does not say so yet."""
    link = b2brouter_link(invoice)
    return (invoice.status == InvoiceStatus.PAID and link is not None and str(link.status) == "linked"
            and str(link.state or "") not in REMOTE_PAID_STATES)


def remote_unpaid_pending(invoice: Invoice) -> bool:
    """Return whether something is due here while the linked B2Brouter invoice is held as paid there.

    This follows a deleted payment that un-paid the invoice (or a payment marked in B2Brouter and
    not recorded here); the invoice's page says so and offers to put B2Brouter's state back.
    """
    link = b2brouter_link(invoice)
    return (invoice.status == InvoiceStatus.ISSUED and not invoice.is_credit_note and link is not None
            and str(link.status) == "linked" and str(link.state or "") == "paid" and balance(invoice).due > 0)


def last_remote_error(invoice: Invoice) -> Payment | None:
    """Return the latest payment whose "mark paid in B2Brouter" failed, if any."""
    return invoice.payments.exclude(remote_error="").order_by("-created_at", "-pk").first()


def remember_remote_outcome(payment: Payment | None, *, error: str = "", message: str = "",
                            request_id: str = "") -> None:
    """Store on ``payment`` how telling B2Brouter went (an empty error clears a previous failure)."""
    if payment is None:
        return
    Payment.objects.filter(pk=payment.pk).update(remote_error=error, remote_message=message,
                                                 remote_request_id=request_id)


class PaymentForm(forms.Form):
    """Record a payment: the amount defaults to what is due; refused at or below zero and above it."""

    # A date input takes ISO dates whatever the language; the amount is typed as the language writes it.
    date = forms.DateField(label=gettext_lazy("Date"),
                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    amount = LocalDecimalField(label=gettext_lazy("Amount"), max_digits=18, decimal_places=4)
    method = forms.ChoiceField(label=gettext_lazy("Method"), required=False,
                               choices=[("", "—"), *PaymentMethodType.choices])
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=255)

    def __init__(self, *args: Any, balance: Balance, **kwargs: Any) -> None:
        self.balance = balance
        super().__init__(*args, **kwargs)
        if isinstance(self.initial.get("amount"), Decimal):  # what is due, with the currency's decimals
            self.initial["amount"] = format_money(self.initial["amount"], balance.currency, grouping=False)
        self.fields["amount"].help_text = _("Due: %(due)s %(currency)s") % {
            "due": format_money(balance.due, balance.currency), "currency": balance.currency}

    def clean_amount(self) -> Decimal:
        amount: Decimal = self.cleaned_data["amount"]
        check_amount(amount, due=self.balance.due, currency=self.balance.currency)
        return amount
