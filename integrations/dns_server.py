"""A small authoritative DNS server for tests and demos (dnslib): it answers TXT queries from
a dict it is given, NXDOMAIN for every other name. UDP on loopback.

    server = LocalDns(); server.start(); server.records["_x.acme.test"] = ["token"]; ...; server.stop()
"""

from __future__ import annotations

from dnslib import QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class _Records(BaseResolver):
    def __init__(self, records: dict[str, list[str]]):
        self.records = records

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        values = self.records.get(name)
        if values is None:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype == QTYPE.TXT:
            for value in values:
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(value), ttl=60))
        return reply


class LocalDns:
    def __init__(self, address: str = "127.0.0.1", port: int = 0):
        self.records: dict[str, list[str]] = {}
        self.server = DNSServer(
            _Records(self.records), address=address, port=port, logger=DNSLogger(logf=lambda _line: None)
        )

    @property
    def nameserver(self) -> str:
        host, port = self.server.server.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> None:
        self.server.start_thread()

    def stop(self) -> None:
        self.server.stop()
