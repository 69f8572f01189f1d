"""Webhook receiver, durable inbox, applier and subscription lifecycle."""
