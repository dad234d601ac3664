"""The three network clients. Build one with `networks.base.client_for(network, config)`."""

from networks.clients.facebook import FacebookClient
from networks.clients.linkedin import LinkedInClient
from networks.clients.x import XClient

__all__ = ["FacebookClient", "LinkedInClient", "XClient"]
