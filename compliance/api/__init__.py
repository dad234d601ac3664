"""Compliance API endpoints."""
