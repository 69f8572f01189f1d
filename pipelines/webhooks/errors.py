"""Expected failures of the webhook area (printed by the CLI without a traceback).

    ClioSyncError
    └── WebhookError              anything about webhooks
        ├── InboxError            the SQLite inbox file cannot be opened or written
        └── SubscriptionError     creating, activating, renewing or deleting a webhook failed
"""

from __future__ import annotations

from pipelines.errors import ClioSyncError


class WebhookError(ClioSyncError):
    """A webhook operation failed."""


class InboxError(WebhookError):
    """The inbox file is unusable (permissions, corruption, wrong path)."""


class SubscriptionError(WebhookError):
    """Clio refused a subscription request or a webhook is in a state we cannot fix."""
