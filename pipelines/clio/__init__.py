"""Everything that talks to Clio's REST API: auth, HTTP, paging, pacing, the dlt source."""
