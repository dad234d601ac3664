"""DNS TXT look-ups (dnspython), for proving that an organization owns an e-mail domain.

`DnsClient(nameservers=["127.0.0.1:5353"])` asks those servers (tests and demos run a local
one: `integrations.dns_server`); with no nameservers it uses the machine's resolver.
"""

from __future__ import annotations

import dns.exception
import dns.resolver
from django.utils.translation import gettext as _


class DnsUnavailable(Exception):
    """The DNS could not answer (time-out, server failure): try again later."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DnsClient:
    def __init__(self, nameservers: list[str] | None = None, timeout: float = 3.0):
        self.resolver = dns.resolver.Resolver(configure=not nameservers)
        if nameservers:
            hosts, ports = zip(*(_host_port(n) for n in nameservers), strict=True)
            self.resolver.nameservers = list(hosts)
            self.resolver.port = ports[0]
        self.resolver.timeout = self.resolver.lifetime = timeout

    def txt_records(self, name: str) -> list[str]:
        """Every TXT string at `name` (its character strings joined, as RFC 7208 reads
        them). [] when the name or the record does not exist; DnsUnavailable otherwise."""
        try:
            answer = self.resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except (dns.exception.Timeout, dns.resolver.NoNameservers, dns.resolver.LifetimeTimeout) as exc:
            raise DnsUnavailable(
                _("The DNS did not answer for %(name)s (%(error)s).") % {"name": name, "error": exc.__class__.__name__}
            ) from None
        return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


def _host_port(server: str) -> tuple[str, int]:
    host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
    return (host or server), int(port or 53)
