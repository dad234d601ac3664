"""Run `make run`'s demo company site: one page of Acme's own site on http://localhost:<port>/
(another origin than the product's), carrying the conversion snippet and a sign-up form.

What a real company's site and sales team would do, in the smallest honest form:
* the page loads `<SITE_URL>/c/snippet.js`, which keeps the `utm_content` of the tracked
  link in a first-party cookie of this site; "Start free trial" calls
  `advocacy.track("signup")` (the product's browser endpoint records the conversion);
* the sign-up is also handed to the company's CRM, here the HubSpot emulator of `make run`
  (its control API): a contact whose first page seen carries the code, and an open deal;
* "Close the deal as won" is the sales team winning it: the deal's stage becomes closedwon
  in the emulator, and the product's CRM sync books it as attributed won revenue.

Pure standard library plus `requests`; state lives in the emulator, none here.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import Organization
from analytics.models import AnalyticsSettings

DEAL_AMOUNT = "12400"
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{name}: start your free trial</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script src="{site_url}/c/snippet.js" data-org="{org}" data-days="{days}"></script>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1d2733}}
input,button{{font:inherit;padding:.5rem .75rem}}button{{background:#2f5fa7;color:#fff;border:0;border-radius:4px}}
.note{{color:#5b6776;font-size:.9rem}}#status{{margin-top:1rem}}</style></head>
<body><p class="note">{name}'s own website (the demo company site of <code>make run</code>)</p>
<h1>Try {name} free for 30 days</h1>
<p id="visit" class="note"></p>
<form id="signup"><label for="email">Work e-mail</label><br>
<input id="email" name="email" type="email" required placeholder="you@customer.example">
<button type="submit">Start free trial</button></form>
<div id="status" role="status"></div>
<script>
function code() {{
  var c = document.cookie.split("; ").filter(function (x) {{ return x.indexOf("adv_code=") === 0; }})[0];
  return c ? decodeURIComponent(c.slice(9)) : "";
}}
document.getElementById("visit").textContent = code()
  ? "You came through an employee's post (tracking code " + code() + ")."
  : "No tracked visit yet: open an employee's tracked link first (for the demo: {site_url}/r/{demo_code}).";
var box = document.getElementById("status");
function say(text) {{ var p = document.createElement("p"); p.textContent = text; box.appendChild(p); return p; }}
document.getElementById("signup").addEventListener("submit", function (event) {{
  event.preventDefault();
  var email = document.getElementById("email").value;
  advocacy.track("signup").then(function (answer) {{
    say("Sign-up reported to the advocacy product: " + (answer ? answer.status : "no answer") + ".");
  }});
  fetch("/signup", {{method: "POST", body: JSON.stringify({{email: email, code: code()}})}})
    .then(function (r) {{ return r.json(); }})
    .then(function (deal) {{
      if (deal.error) {{ say(deal.error); return; }}
      var p = say("Your sales team opened deal " + deal.id + " (" + deal.amount + ") in HubSpot. ");
      var close = document.createElement("button");
      close.type = "button"; close.id = "close-deal"; close.textContent = "Close the deal as won";
      close.addEventListener("click", function () {{
        close.disabled = true;
        fetch("/close", {{method: "POST", body: JSON.stringify({{id: deal.id}})}})
          .then(function (r) {{ return r.json(); }})
          .then(function (won) {{
            say(won.error || ("Deal " + won.id + " closed as won in HubSpot: the product's CRM sync books it."));
          }});
      }});
      p.appendChild(close);
    }});
}});
</script></body></html>"""


class Command(BaseCommand):
    help = "Serve the demo company site (snippet + sign-up form) of make run."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.COMPANY_SITE_PORT)
        parser.add_argument("--org", default="acme", help="the organization whose site this is")

    def handle(self, *args, host, port, org, **options):
        from analytics.demo import COMPANY_SITE_CODE

        organization = Organization.objects.get(slug=org)
        rates = AnalyticsSettings.objects.for_org(organization).first() or AnalyticsSettings(organization=organization)
        page = PAGE.format(
            name=html.escape(organization.name),
            site_url=settings.SITE_URL,
            org=html.escape(organization.slug),
            days=rates.attribution_window_days,
            demo_code=COMPANY_SITE_CODE,
        ).encode()
        handler = _handler(page, hubspot=settings.HUBSPOT_ORIGIN, currency=rates.currency)
        server = ThreadingHTTPServer((host, port), handler)
        self.stdout.write(f"COMPANY SITE LISTENING http://localhost:{server.server_address[1]}/")
        self.stdout.flush()
        try:
            server.serve_forever()
        finally:
            server.server_close()


def _handler(page: bytes, *, hubspot: str, currency: str):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):
            pass

        def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, data: dict) -> None:
            self._send(status, json.dumps(data).encode())

        def do_GET(self):
            if self.path.split("?")[0] in ("/", "/pricing"):
                self._send(200, page, "text/html; charset=utf-8")
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self):
            length = min(int(self.headers.get("Content-Length") or 0), 2000)
            try:
                data = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                return self._json(400, {"error": "Send JSON."})
            try:
                if self.path == "/signup":
                    return self._json(201, _open_deal(hubspot, currency, str(data.get("email", "")), data.get("code")))
                if self.path == "/close":
                    return self._json(200, _close_deal(hubspot, str(data.get("id", ""))))
            except requests.RequestException as exc:
                return self._json(502, {"error": f"The HubSpot emulator did not answer: {exc}"})
            return self._json(404, {"error": "not found"})

    return Handler


def _open_deal(hubspot: str, currency: str, email: str, code) -> dict:
    """The sign-up handed to the CRM: a contact whose first page seen carries the tracking
    code (as HubSpot's own tracking would record it), and an open deal for it."""
    first_page = "https://www.acme.example/" + (f"?utm_source=linkedin&utm_content={code}" if code else "")
    contact = requests.post(
        f"{hubspot}/_emulator/contacts",
        json={"email": email or "trial@customer.example", "properties": {"hs_analytics_first_url": first_page}},
        timeout=5,
    )
    contact.raise_for_status()
    deal = requests.post(
        f"{hubspot}/_emulator/deals",
        json={
            "properties": {
                "dealname": f"Trial {email}",
                "amount": DEAL_AMOUNT,
                "deal_currency_code": currency,
                "dealstage": "appointmentscheduled",
            },
            "contacts": [contact.json()["id"]],
        },
        timeout=5,
    )
    deal.raise_for_status()
    return {"id": deal.json()["id"], "amount": f"{currency} {int(DEAL_AMOUNT):,}"}


def _close_deal(hubspot: str, deal_id: str) -> dict:
    """The sales team wins the deal: closedwon, closing now."""
    closed = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    answer = requests.patch(
        f"{hubspot}/_emulator/deals/{deal_id}",
        json={"properties": {"dealstage": "closedwon", "closedate": closed}},
        timeout=5,
    )
    answer.raise_for_status()
    return {"id": deal_id}
