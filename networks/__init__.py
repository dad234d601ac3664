"""Clients for LinkedIn, X and Facebook behind one interface, and their local emulator.

A pure library: no Django models. See ../shared/PROVIDERS.md for the APIs it speaks.
"""
