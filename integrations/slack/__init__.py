"""Slack: the client of its OAuth v2 and Web API (`client`), its typed errors (`errors`),
the v0 request signing (`signing`) and a local emulator of the same paths (`emulator`),
built like `networks/` and `integrations/hubspot/`.

Pure library, no Django: the organization's installation, its channel routes and the
Share button's flow live in `content` (DESIGN.md, "Slack distribution in content/").
"""
