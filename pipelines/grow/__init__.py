"""Clio Grow (intake) through the Clio Platform: a second dlt source, in schema `grow`.

It talks to Grow's API with the Manage source's HTTP client, auth flow, token store,
retries, watermarks and deletion ledger (`pipelines.clio`), and adds what differs: the
Platform's hosts and scopes, a rate budget shared by every process of the application,
and Grow's records (leads that leave the inbox when they become matters).
"""
