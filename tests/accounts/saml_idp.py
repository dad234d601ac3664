"""A SAML 2.0 identity provider for the tests: pysaml2's Server behind a small WSGI app, run as
its own process on loopback (`python -m tests.accounts.saml_idp --port 0`).

It generates its signing key and certificate at start (`cryptography`; nothing on disk in the
repository) and answers like a real IdP: the SP redirects the browser to /sso/redirect with an
AuthnRequest, the IdP "signs the person in" (the identity set through the control API) and
answers with a page that POSTs a signed Response to the ACS URL of the request.

Control API (JSON), for the tests:
  POST /_idp/next        {"user": {...}, "fault": "..."}  who signs in next, and how the response
                          is spoiled: "" (signed assertion), "response_signed" (only the Response
                          signed), "unsigned", "audience" (meant for another SP), "destination"
                          (sent to another ACS), "recipient" (the assertion's Recipient is another
                          ACS, the Response's Destination ours), "expired" (NotOnOrAfter 10 minutes ago),
                          "foreign_key" (signed with a key the SP does not trust), "tampered"
                          (the e-mail changed after signing), "sha1"
                          (signed with RSA-SHA1, deprecated); otherwise RSA-SHA256
  POST /_idp/unsolicited {"acs_url": ..., "audience": ...}  an IdP-initiated response
  GET  /metadata          the IdP's metadata; GET /cert  its certificate (PEM)
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server
from xml.sax.saxutils import escape

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.assertion import Policy
from saml2.config import IdPConfig
from saml2.mdstore import MetadataStore
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

DEFAULT_USER = {
    "email": "ada@acme.example",
    "name": "Ada Lovelace",
    "department": "Engineering",
    "location": "London",
    "groups": ["advocates"],
}
FAULTS = {
    "",
    "response_signed",
    "unsigned",
    "audience",
    "destination",
    "recipient",
    "expired",
    "foreign_key",
    "sha1",
    "tampered",
}


def make_key_pair(directory: Path, name: str) -> tuple[Path, Path]:
    """An RSA key and a self-signed certificate (valid from a day ago for a year), as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def idp_server(base: str, key_path: Path, cert_path: Path) -> Server:
    config = IdPConfig()
    config.load(
        {
            "entityid": f"{base}/metadata",
            "service": {
                "idp": {
                    "endpoints": {"single_sign_on_service": [(f"{base}/sso/redirect", BINDING_HTTP_REDIRECT)]},
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    "want_authn_requests_signed": False,
                    "policy": {"default": {"lifetime": {"minutes": 15}, "attribute_restrictions": None}},
                }
            },
            "key_file": str(key_path),
            "cert_file": str(cert_path),
            "xmlsec_binary": shutil.which("xmlsec1"),
            "allow_unknown_attributes": True,
        }
    )
    server = Server(config=config)
    server.metadata = MetadataStore(config.attribute_converters, config)
    return server


SP_METADATA = """<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}">
<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{acs_url}" index="0"/>
</md:SPSSODescriptor></md:EntityDescriptor>"""


def know_sp(server: Server, entity_id: str, acs_url: str) -> None:
    """Register the SP, as an admin does at a real IdP; here from what the request says (a test
    IdP answers whoever asks: the SP's metadata is not reachable from this process)."""
    if entity_id not in server.metadata.keys():  # noqa: SIM118 - MetadataStore has no __contains__ for entities
        server.metadata.load("inline", SP_METADATA.format(entity_id=escape(entity_id), acs_url=escape(acs_url)))


class IdentityProvider:
    def __init__(self, base: str, directory: Path):
        self.base = base
        key, cert = make_key_pair(directory, "idp")
        self.cert_pem = cert.read_text()
        self.server = idp_server(base, key, cert)
        # The same IdP (entity id, endpoints) with another key: what a forger would sign with.
        self.forger = idp_server(base, *make_key_pair(directory, "forger"))
        self.user = dict(DEFAULT_USER)
        self.fault = ""

    # --- the response ------------------------------------------------------------------

    def response_page(self, *, acs_url: str, audience: str, in_response_to: str | None, relay_state: str) -> str:
        """The HTML page that POSTs the (possibly spoiled) Response to `acs_url`."""
        fault = self.fault
        server = self.forger if fault == "foreign_key" else self.server
        lifetime = {"minutes": -10} if fault == "expired" else {"minutes": 15}
        destination = acs_url
        if fault in ("destination", "recipient"):
            destination = acs_url.rstrip("/").rsplit("/", 2)[0] + "-elsewhere/acs/"
        if fault == "audience":
            audience = "https://elsewhere.example/accounts/saml/elsewhere/metadata/"
        know_sp(server, audience, acs_url)
        identity = {
            "mail": [self.user["email"]],
            "displayName": [self.user["name"]],
            "department": [self.user["department"]],
            "location": [self.user["location"]],
            "groups": list(self.user["groups"]),
            **({"preferredLanguage": [self.user["language"]]} if self.user.get("language") else {}),
        }
        response = server.create_authn_response(
            identity,
            in_response_to,
            destination,
            audience,
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=self.user["email"]),
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"},
            sign_response=fault == "response_signed",
            sign_assertion=fault not in ("unsigned", "response_signed"),
            sign_alg=SIG_RSA_SHA1 if fault == "sha1" else SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA1 if fault == "sha1" else DIGEST_SHA256,
            release_policy=Policy({"default": {"lifetime": lifetime, "attribute_restrictions": None}}),
        )
        response = str(response)
        if fault == "recipient":
            # The (unsigned) Response names the right ACS; the signed assertion's
            # SubjectConfirmationData Recipient still names the other one.
            response = response.replace(f'Destination="{destination}"', f'Destination="{acs_url}"', 1)
        if fault == "tampered":
            # Somebody on the way changes who signed in, after the IdP signed the assertion.
            response = response.replace(self.user["email"], "mallory@acme.example")
        http = server.apply_binding(
            BINDING_HTTP_POST, response, destination=acs_url, relay_state=relay_state, response=True
        )
        return http["data"]

    # --- WSGI ---------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        try:
            status, content_type, body = self.route(environ, path, method)
        except Exception as exc:  # the test reads the IdP's answer; a crash must say why
            status, content_type, body = "500 Internal Server Error", "text/plain", f"{type(exc).__name__}: {exc}"
        start_response(status, [("Content-Type", content_type)])
        return [body.encode()]

    def route(self, environ, path: str, method: str) -> tuple[str, str, str]:
        if path == "/metadata":
            return "200 OK", "text/xml", str(entity_descriptor(self.server.config))
        if path == "/cert":
            return "200 OK", "text/plain", self.cert_pem
        if path == "/sso/redirect":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            request = self.server.parse_authn_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT).message
            page = self.response_page(
                acs_url=request.assertion_consumer_service_url,
                audience=request.issuer.text,
                in_response_to=request.id,
                relay_state=query.get("RelayState", [""])[0],
            )
            return "200 OK", "text/html", page
        if method == "POST" and path.startswith("/_idp/"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}")
            if path == "/_idp/next":
                if body.get("fault", "") not in FAULTS:
                    return "400 Bad Request", "text/plain", f"unknown fault {body.get('fault')!r}"
                self.user = {**DEFAULT_USER, **body.get("user", {})}
                self.fault = body.get("fault", "")
                return "200 OK", "application/json", json.dumps({"user": self.user, "fault": self.fault})
            if path == "/_idp/unsolicited":
                page = self.response_page(
                    acs_url=body["acs_url"], audience=body["audience"], in_response_to=None, relay_state=""
                )
                return "200 OK", "text/html", page
        return "404 Not Found", "text/plain", "not found"


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        sys.stderr.write("%s\n" % (format % args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="saml-idp-"))
    httpd = make_server("127.0.0.1", args.port, lambda e, s: app(e, s), handler_class=QuietHandler)
    base = f"http://127.0.0.1:{httpd.server_port}"
    app = IdentityProvider(base, directory)
    print(f"SAML IDP LISTENING {base}", flush=True)
    try:
        httpd.serve_forever()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
