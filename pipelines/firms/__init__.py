"""Many firms in one deployment: profiles (`firms.<name>` config sections), their schemas,
and syncing them all (`clio-sync run --all-firms`)."""
