"""Clio Grow on the Clio Platform, played by the sandbox beside Clio Manage.

The Grow API is served under `/grow/...` (as at `https://api.clio.com/grow`), the
Platform's OAuth under `/platform/oauth/...` (as at `https://auth.api.clio.com/oauth/...`),
and the control API under `/_sandbox/grow/...`. Grow's records follow the Manage firm the
sandbox already serves: hired Grow matters carry the `clio_id` of a Manage matter. See
docs/sandbox.md ("Clio Grow") for the choices made where GROW_API.md leaves questions open.
"""
