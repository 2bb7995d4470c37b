"""A typed Python client for the B2Brouter e-invoicing API.

::

    from b2brouter import B2BRouter

    with B2BRouter(api_key) as client:
        invoice = client.invoices.create(account_id, {...})

See ``docs/client.md`` for the guide. Imports httpx and the standard library only.
"""

from . import webhooks
from ._client import (
    DEFAULT_API_VERSION,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    REQUEST_ID_HEADER,
    B2BRouter,
)
from ._environments import (
    PRODUCTION,
    PRODUCTION_BASE_URL,
    PRODUCTION_WEB_URL,
    STAGING,
    STAGING_BASE_URL,
    STAGING_WEB_URL,
    Environment,
)
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    B2BRouterError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
    WebhookSignatureError,
)
from ._money import MONEY_FIELDS, to_decimal
from ._pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, ListPage
from ._tin import compact_tin, same_tin
from ._types import (
    Account,
    AccountId,
    AccountListParams,
    AccountParams,
    AllowanceCharge,
    AllowanceChargeParams,
    Amount,
    BankAccount,
    Contact,
    ContactListParams,
    ContactParams,
    DocumentType,
    Invoice,
    InvoiceLine,
    InvoiceLineParams,
    InvoiceListParams,
    InvoiceParams,
    InvoiceState,
    InvoiceValidation,
    MarkAsState,
    ResourceId,
    Tax,
    TaxBreakdown,
    TaxParams,
    WebhookEvent,
    WebhookEventData,
)
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "Account",
    "AccountId",
    "AccountListParams",
    "AccountParams",
    "AllowanceCharge",
    "AllowanceChargeParams",
    "Amount",
    "AuthenticationError",
    "B2BRouter",
    "B2BRouterError",
    "BankAccount",
    "ConflictError",
    "Contact",
    "ContactListParams",
    "ContactParams",
    "DEFAULT_API_VERSION",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_TIMEOUT",
    "DocumentType",
    "Environment",
    "InvalidRequestError",
    "Invoice",
    "InvoiceLine",
    "InvoiceLineParams",
    "InvoiceListParams",
    "InvoiceParams",
    "InvoiceState",
    "InvoiceValidation",
    "ListPage",
    "MAX_PAGE_SIZE",
    "MONEY_FIELDS",
    "MarkAsState",
    "NotFoundError",
    "PRODUCTION",
    "PRODUCTION_BASE_URL",
    "PRODUCTION_WEB_URL",
    "PermissionDeniedError",
    "REQUEST_ID_HEADER",
    "RateLimitError",
    "ResourceId",
    "STAGING",
    "STAGING_BASE_URL",
    "STAGING_WEB_URL",
    "ServerError",
    "Tax",
    "TaxBreakdown",
    "TaxParams",
    "UnexpectedResponseError",
    "WebhookEvent",
    "WebhookEventData",
    "WebhookSignatureError",
    "__version__",
    "compact_tin",
    "same_tin",
    "to_decimal",
    "webhooks",
]
