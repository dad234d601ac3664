"""Policies, findings, review decisions, post versions and the audit trail."""
