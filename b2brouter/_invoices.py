"""``client.invoices``: issue, list, read, change, send and download invoices."""

from __future__ import annotations

import logging
import time
from typing import Any, Literal, Unpack, cast

from ._base import Service, resource_path, unwrap
from ._exceptions import DocumentNotReadyError, NotFoundError
from ._money import with_decimals
from ._pagination import MAX_PAGE_SIZE, ListPage
from ._types import (
    AccountId,
    DocumentType,
    Invoice,
    InvoiceListParams,
    InvoiceParams,
    InvoiceValidation,
    MarkAsState,
    ResourceId,
)


logger = logging.getLogger("b2brouter")

#: Waits between the downloads of a document B2Brouter is still generating: 1, 2, 4, 4, ... s.
GENERATION_WAIT_INITIAL = 1.0
GENERATION_WAIT_MAX = 4.0


def _invoice(data: dict[str, Any]) -> Invoice:
    return cast(Invoice, with_decimals(data))


def _decoded_invoice(data: dict[str, Any]) -> Invoice:
    # A list page is parsed with request(money=True): its amounts are Decimals already.
    return cast(Invoice, data)


def _accept_for(document_type: str) -> str:
    # As B2Brouter's own SDK does: documents are not JSON, so ask for what they are.
    if document_type.startswith("pdf"):
        return "application/pdf"
    if document_type.startswith("xml"):
        return "application/xml"
    return "*/*"


class InvoicesService(Service):
    """Everything about an account's issued invoices."""

    def create(self, account: AccountId, invoice: InvoiceParams, send_after_import: bool = False) -> Invoice:
        """Create an invoice (``POST /accounts/{account}/invoices``); unsent unless asked.

        A POST is never retried once it may have reached B2Brouter: on an error with
        ``maybe_applied`` look the invoice up with :meth:`find_by_number` before trying again.
        """
        body = self._client.request(
            "POST",
            resource_path("/accounts/{}/invoices", account),
            json={"invoice": invoice, "send_after_import": send_after_import},
        )
        return _invoice(unwrap(body, "invoice"))

    def list(self, account: AccountId, **filters: Unpack[InvoiceListParams]) -> ListPage[Invoice]:
        """List an account's invoices (``GET /accounts/{account}/invoices``).

        Filters: ``number`` (exact), ``date_from``/``date_to``, ``due_date_from``/``due_date_to``,
        ``type``, state flags (``new``, ``sending``, ``sent``, ``error``, ``refused``,
        ``accepted``, ``registered``, ``closed``, ``allegedly_paid``), ``query``,
        ``updated_at_from``, ``offset``, ``limit`` (at most 500).
        """
        return self._list(resource_path("/accounts/{}/invoices", account), "invoices", filters, _decoded_invoice,
                          money=True)

    def find_by_number(self, account: AccountId, number: str) -> Invoice | None:
        """Return the account's invoice numbered exactly ``number``, or None.

        Invoice numbers are unique per account, so this is how to learn whether a create
        that failed with ``maybe_applied`` went through.
        """
        for invoice in self.list(account, number=number, limit=MAX_PAGE_SIZE):
            if invoice.get("number") == number:
                return invoice
        return None

    def retrieve(self, invoice_id: ResourceId) -> Invoice:
        """Read an invoice (``GET /invoices/{id}``)."""
        return _invoice(unwrap(self._client.request("GET", resource_path("/invoices/{}", invoice_id)), "invoice"))

    def update(self, invoice_id: ResourceId, changes: InvoiceParams) -> Invoice:
        """Change an invoice in state ``new`` or ``error`` (``PUT /invoices/{id}``); else 409."""
        body = self._client.request("PUT", resource_path("/invoices/{}", invoice_id), json={"invoice": changes})
        return _invoice(unwrap(body, "invoice"))

    def delete(self, invoice_id: ResourceId) -> None:
        """Delete an invoice in state ``new`` or ``error`` (``DELETE /invoices/{id}``); else 409."""
        self._client.request("DELETE", resource_path("/invoices/{}", invoice_id))

    def validate(self, invoice_id: ResourceId) -> InvoiceValidation:
        """Check an invoice against its e-invoice format (``GET /invoices/{id}/validate``)."""
        body = self._client.request("GET", resource_path("/invoices/{}/validate", invoice_id))
        return cast(InvoiceValidation, with_decimals(body) if isinstance(body, dict) else {})

    def send(self, invoice_id: ResourceId) -> Invoice:
        """Send an invoice (``POST /invoices/send_invoice/{id}``).

        Return the invoice when B2Brouter answers with it (its state then reads ``sending`` or
        ``sent``); other answers are returned as they are, and an empty one as ``{}``.
        """
        body = self._client.request("POST", resource_path("/invoices/send_invoice/{}", invoice_id))
        return _invoice(unwrap(body, "invoice"))

    def mark_as(self, invoice_id: ResourceId, state: MarkAsState) -> Invoice:
        """Change an invoice's state (``POST /invoices/{id}/mark_as``), e.g. to ``paid``."""
        body = self._client.request("POST", resource_path("/invoices/{}/mark_as", invoice_id), json={"state": state})
        return _invoice(unwrap(body, "invoice"))

    def add_attachment(
        self,
        invoice_id: ResourceId,
        content: bytes,
        *,
        filename: str,
        use_as_pdf_view: bool = False,
        content_type: str = "application/octet-stream",
    ) -> None:
        """Attach a file to an invoice (``POST /invoices/{id}/add_attachment``); B2Brouter answers 204.

        The body is the file's raw bytes and ``filename`` its name. With ``use_as_pdf_view`` a PDF
        becomes the invoice's visual and legal representation instead of one B2Brouter generates
        (also after later changes to the invoice, until it is replaced). A POST is never retried.
        """
        if not filename or not str(filename).strip():
            raise ValueError("filename is required")
        if not content:
            raise ValueError("content is empty")
        self._client._upload(
            "POST",
            resource_path("/invoices/{}/add_attachment", invoice_id),
            bytes(content),
            content_type=content_type,
            # As the attachments guide writes it: use_as_pdf_view=true.
            params={"filename": str(filename), "use_as_pdf_view": "true" if use_as_pdf_view else None},
        )

    def download(
        self,
        invoice_id: ResourceId,
        document_type: DocumentType | str,
        *,
        disposition: Literal["inline", "attachment"] | None = None,
        filename: str | None = None,
        wait_for_generation: int = 0,
    ) -> bytes:
        """Download a document of an invoice (``GET /invoices/{id}/as/{document_type}``).

        Types: ``pdf.invoice``, ``xml.ubl.invoice.bis3``, ``xml.facturae.3.2.2``, ``original``
        (B2Brouter's ``/document_types`` lists them all). ``disposition`` (``inline`` or
        ``attachment``) and ``filename`` are sent as query parameters and only shape the
        answer's Content-Disposition header.

        B2Brouter generates documents asynchronously, so right after an invoice is created its
        download may answer 404. With ``wait_for_generation=N`` a 404 is retried up to N times,
        waiting 1, 2, 4, 4, ... seconds (never past the client's deadline), and then
        :class:`DocumentNotReadyError` (a :class:`NotFoundError`) is raised. With the default 0
        a 404 raises :class:`NotFoundError` at once.
        """
        if wait_for_generation < 0:
            raise ValueError("wait_for_generation must be 0 or more")
        path = resource_path("/invoices/{}/as/{}", invoice_id, document_type)
        params = {"disposition": disposition, "filename": filename}
        accept = _accept_for(str(document_type))
        client = self._client
        deadline_at = client._deadline_at()
        attempt = 0
        while True:
            try:
                return client._download(path, accept=accept, params=params, deadline_at=deadline_at)
            except NotFoundError as exc:
                if wait_for_generation == 0:
                    raise
                delay = min(GENERATION_WAIT_INITIAL * 2**attempt, GENERATION_WAIT_MAX)
                out_of_time = deadline_at is not None and time.monotonic() + delay >= deadline_at
                if attempt >= wait_for_generation or out_of_time:
                    raise DocumentNotReadyError(
                        f"B2Brouter is still generating the {document_type} document of invoice "
                        f"{invoice_id}: try again in a minute",
                        attempts=attempt + 1,
                        status_code=exc.status_code,
                        code=exc.code,
                        param=exc.param,
                        messages=exc.messages,
                        error_type=exc.error_type,
                        request_id=exc.request_id,
                        body=exc.body,
                        json_body=exc.json_body,
                        headers=exc.headers,
                        method=exc.method,
                        path=exc.path,
                        retry_after=exc.retry_after,
                    ) from exc
                logger.info(
                    "%s not generated yet; downloading again in %.0f s (retry %d of %d)",
                    path, delay, attempt + 1, wait_for_generation,
                )
                client._sleep(delay)
                attempt += 1
