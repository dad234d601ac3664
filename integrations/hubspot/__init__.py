"""HubSpot: the client of its OAuth and CRM v3 API (`client`), its typed errors (`errors`)
and a local emulator of the same paths (`emulator`), built like `networks/`.

Pure library, no Django: the organization's connection, the deals it brings and their
attribution live in `analytics` (DESIGN.md, "CRM revenue in analytics/").
"""
