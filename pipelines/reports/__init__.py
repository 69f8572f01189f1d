"""SQL model runner, reconciliation checks and the `report` / `sql` commands."""
