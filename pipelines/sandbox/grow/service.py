"""What one sandbox holds for Grow: the records, the Platform's tokens and codes, the
per-application rate limiter. Rebuilt with the firm on a reset; minted tokens survive it."""

from __future__ import annotations

from pipelines.sandbox.firm import Firm
from pipelines.sandbox.grow.intake import Intake
from pipelines.sandbox.grow.options import GrowOptions
from pipelines.sandbox.grow.render import View
from pipelines.sandbox.grow.world import GrowWorld
from pipelines.sandbox.ratelimit import RateLimiter
from pipelines.sandbox.tokens import AccessToken, TokenRegistry


class GrowService:
    """Grow's state inside one `SandboxState` (reached as `state.grow`)."""

    def __init__(self, options: GrowOptions, region: str, firm: Firm) -> None:
        self.options = options
        self.tokens = TokenRegistry(region, options.token_lifetime)
        limit, window = options.rate_limit or (None, 1.0)
        self.limiter = RateLimiter(limit, window)
        self.codes: dict[str, dict] = {}  # authorization codes -> their request
        self.world = GrowWorld(firm)
        self.intake = Intake(self.world)
        self._seed()

    def _seed(self) -> None:
        with self.world.lock:
            self.intake.seed()

    def reset(self, firm: Firm) -> None:
        """Grow for a fresh firm, limits back to the configured ones."""
        self.world = GrowWorld(firm)
        self.intake = Intake(self.world)
        self._seed()
        limit, window = self.options.rate_limit or (None, 1.0)
        self.limiter.configure(limit, window)

    def view(self, token: AccessToken | None, custom_fields: bool = False) -> View:
        """How `token`'s grant sees records (None: the control API, seeing everything)."""
        return View(
            scopes=token.grant.scopes if token else None,
            client_id=token.grant.client_id if token else None,
            custom_fields=custom_fields,
            timestamps=self.options.timestamps,
            lead_rollout=self.options.lead_rollout,
        )
