"""Compliance pages: the review queue, the policy editor, the audit log."""
