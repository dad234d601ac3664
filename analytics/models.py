"""Tracked links, clicks, engagement snapshots and daily rollups."""
