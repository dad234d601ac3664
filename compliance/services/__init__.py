"""Compliance writes, one module per area (policy, screening, review, audit, archive)."""
