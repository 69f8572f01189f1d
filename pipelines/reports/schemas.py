"""The schemas the models read and are built in: today's names, or one firm's.

The SQL of the models, checks and reports names the single-firm schemas (`clio.bills`,
`staging.bills`, `reports.ar_aging_detail`). A firm's warehouse has the same tables under
`clio_<name>`, `staging_<name>`, `intermediate_<name>` and `reports_<name>`
(`pipelines.firms.profiles.schemas`), so an engine carries a `ModelSchemas` and renames
those references as it runs each statement; the default map renames nothing.
"""

from __future__ import annotations

import re
from dataclasses import astuple, dataclass

# A schema-qualified reference: `reports.x`, `staging."x"`; not `reports_acme.x`, not
# `a.reports.x`'s middle part (a column of a table aliased `reports`: none of our SQL has one).
_REFERENCE = re.compile(r"(?<![\w.\"])(clio|staging|intermediate|reports)\.(?=[A-Za-z_\"])",
                        re.IGNORECASE)


@dataclass(frozen=True)
class ModelSchemas:
    """Where the raw tables are (`raw`) and where each layer of models is built."""

    raw: str = "clio"
    staging: str = "staging"
    intermediate: str = "intermediate"
    reports: str = "reports"

    @classmethod
    def for_firm(cls, firm: str | None) -> ModelSchemas:
        """A firm's schemas (`clio_<firm>`, ...); today's names without a firm."""
        from pipelines.firms.profiles import schemas

        names = schemas(firm)
        return cls(names.raw, names.staging, names.intermediate, names.reports)

    @property
    def renames(self) -> bool:
        return astuple(self) != astuple(DEFAULT)

    @property
    def layers(self) -> tuple[str, str, str]:
        """The models' schemas, in build order of their layers."""
        return self.staging, self.intermediate, self.reports

    def schema(self, name: str) -> str:
        """The schema standing in for `clio`, `staging`, `intermediate` or `reports`; any
        other name (`grow`: not per firm) as it is."""
        return {"clio": self.raw, "staging": self.staging, "intermediate": self.intermediate,
                "reports": self.reports}.get(name.lower(), name)

    def rename(self, sql: str) -> str:
        """`sql` with its references to the single-firm schemas aimed at these."""
        if not self.renames:
            return sql
        return _REFERENCE.sub(lambda m: self.schema(m.group(1)) + ".", sql)


DEFAULT = ModelSchemas()
