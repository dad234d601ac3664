"""The whole product under load (bench/load/run.py starts the processes and runs this headless).

People sign in with sessions the driver created server-side (Django's `login()` through
its test client, as `force_login` does) and handed over as cookies in the plan file
(LOAD_PLAN): a password sign-in per virtual user would time the password hasher, not the
pages. Forms are read from the page like a browser does: every field with its value as
served (CSRF token, the one-time submit token), then the person's own input on top.

Users are spread over the two web processes (the plan's `hosts`): user n talks to host n mod 2.

The table is the steady state: each user starts somewhere in a think (people at work do not
all click in the same second, as users spawned together would), and the statistics restart
SETTLE_SECONDS after the last user has started, when every user is in its cycle (before,
the first requests of every user, all at once, put a second of queueing into the p95 of
the pages asked for least). run.py gives locust the ramp on top of LOAD_SECONDS.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from html.parser import HTMLParser

import gevent
from locust import FastHttpUser, HttpUser, between, constant_throughput, events, task

PLAN = json.loads(open(os.environ["LOAD_PLAN"]).read())  # noqa: SIM115 (read once at import)
HOSTS = itertools.cycle(PLAN["hosts"])
PEOPLE = {role: itertools.cycle(sessions) for role, sessions in PLAN["sessions"].items()}
MAX_REQUESTS = int(os.environ.get("LOAD_MAX_REQUESTS", "200000"))
THINK = (3, 9)  # seconds between a person's pages
# From the last user's start to the statistics' restart: run.py's STEADY_AFTER (the longest think).
SETTLE_SECONDS = float(os.environ["LOAD_STEADY_AFTER"])
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


class Forms(HTMLParser):
    """The page's forms as a browser would submit them: {action: {field: value}}."""

    def __init__(self):
        super().__init__()
        self.forms: dict[str, list[tuple[str, str]]] = {}
        self.current: list[tuple[str, str]] | None = None
        self.textarea: str | None = None
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self.current = self.forms.setdefault(a.get("action") or "", [])
        elif self.current is None or not a.get("name"):
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self.current.append((a["name"], a.get("value") or ("on" if kind == "checkbox" else "")))
        elif tag == "textarea":
            self.textarea = a["name"]
            self.current.append((a["name"], ""))
        elif tag == "select":
            self.select = a["name"]
        elif tag == "option" and self.select and "selected" in a:
            self.current.append((self.select, a.get("value", "")))

    def handle_data(self, data):
        if self.textarea and self.current:
            name, value = self.current[-1]
            self.current[-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None


def form_of(html: str, action_part: str) -> dict[str, list[str]] | None:
    parser = Forms()
    parser.feed(html)
    for action, fields in parser.forms.items():
        if action_part in action or not action:  # no action: the page's own URL
            data: dict[str, list[str]] = {}
            for name, value in fields:
                data.setdefault(name, []).append(value)
            return data
    return None


class Person(HttpUser):
    abstract = True
    role = ""
    wait_time = between(*THINK)

    def __init__(self, environment):
        self.host = next(HOSTS)
        super().__init__(environment)
        self.me = next(PEOPLE[self.role])
        self.shared: set[int] = set()
        self.base = f"/o/{PLAN['org']}/"

    def on_start(self):
        self.client.cookies.set("sessionid", self.me["session"])
        gevent.sleep(random.uniform(0, THINK[1]))  # somewhere in a think, not all at once

    def get(self, path: str, name: str):
        with self.client.get(self.base + path, name=name, catch_response=True, allow_redirects=False) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}")
            return r

    def post(self, path: str, data: dict, name: str, referer: str):
        headers = {"Referer": self.host + self.base + referer}
        with self.client.post(
            self.base + path, data=data, name=name, headers=headers, catch_response=True, allow_redirects=False
        ) as r:
            if r.status_code not in (302, 303):
                r.failure(f"{r.status_code}: not redirected after the submit")
            return r


class Employee(Person):
    fixed_count = PLAN["people"]["employee"]
    role = "employee"

    @task(4)
    def feed(self):
        self.get("feed/", "feed")

    @task(2)
    def my_stats(self):
        self.get("analytics/me/", "my stats")

    @task(2)
    def share(self):
        # A second share of one item asks the person to confirm: each shares an item once.
        fresh = [item for item in PLAN["items"] if item not in self.shared]
        if not fresh:
            return
        item = random.choice(fresh)
        self.shared.add(item)
        page = self.get(f"feed/{item}/share/", "composer")
        data = form_of(page.text, "/share/") if page.status_code == 200 else None
        if data is None:
            return
        # Half promise results (a term the policy sends to review), half do not (out at once).
        claim = "guaranteed results" if random.random() < 0.5 else "a year of work"
        data["commentary"] = [f"What we built this year: {claim}, in my words ({random.randrange(10**9)})."]
        data["when"] = ["now"]
        self.post(f"feed/{item}/share/", data, "share (submit)", f"feed/{item}/share/")


class Marketer(Person):
    fixed_count = PLAN["people"]["marketer"]
    role = "marketer"

    @task(3)
    def library(self):
        self.get("library/", "library")

    @task(2)
    def item_editor(self):
        self.get(f"library/items/{random.choice(PLAN['items'])}/", "item editor")

    @task(2)
    def content_performance(self):
        self.get("analytics/content/", "content performance")


class Officer(Person):
    fixed_count = PLAN["people"]["officer"]
    role = "officer"

    @task
    def work_the_queue(self):
        queue = self.get("review/", "review queue")
        shares = [int(part.split("/")[0]) for part in queue.text.split("/review/shares/")[1:] if part[:1].isdigit()]
        if not shares:
            return
        # Each officer works their own slice of the queue (as claimed tasks would split it):
        # two officers opening one share see "already decided", which is not the load's point.
        mine = [pk for pk in shares if pk % PLAN["officers"] == self.me["n"]]
        if not mine:
            return
        share = random.choice(mine[:5])
        page = self.get(f"review/shares/{share}/", "review (open)")
        data = form_of(page.text, f"/review/shares/{share}/") if page.status_code == 200 else None
        if data is None or "outcome" not in str(page.text):
            return
        if random.random() < 0.9:
            data["outcome"] = ["approved"]
        else:
            data["outcome"] = ["changes_requested"]
            data["comment"] = ["Say where the figure comes from, please."]
        self.post(f"review/shares/{share}/", data, "review (decide)", f"review/shares/{share}/")


class Executive(Person):
    fixed_count = PLAN["people"]["executive"]
    role = "executive"

    @task(3)
    def dashboard(self):
        self.get("reports/", "executive dashboard")

    @task(1)
    def csv(self):
        self.get("reports/roi.csv", "executive CSV")


CLICKERS = PLAN["people"]["visitor"]
CLICK_RATE = PLAN["click_rate"]


class Visitor(FastHttpUser):
    """Tracked-link traffic: CLICK_RATE requests/s in all, from browsers (counted clicks)."""

    fixed_count = CLICKERS
    wait_time = constant_throughput(CLICK_RATE / CLICKERS)

    def __init__(self, environment):
        self.host = next(HOSTS)
        super().__init__(environment)

    def on_start(self):
        gevent.sleep(random.uniform(0, CLICKERS / CLICK_RATE))  # the clicks spread over their interval

    @task
    def click(self):
        code = random.choice(PLAN["codes"])
        with self.client.get(
            f"/r/{code}", name="/r/<code>", headers={"User-Agent": BROWSER}, catch_response=True, allow_redirects=False
        ) as r:
            if r.status_code != 302:
                r.failure(f"{r.status_code}")


_environment: list = []


@events.init.add_listener
def _keep_environment(environment, **kwargs):
    _environment.append(environment)


@events.spawning_complete.add_listener
def _measure_the_steady_state(user_count, **kwargs):
    gevent.spawn_later(SETTLE_SECONDS, _environment[0].stats.reset_all)


@events.request.add_listener
def _stop_at_the_request_cap(**kwargs):
    """Bounded in requests as well as in time (--run-time): LOAD_MAX_REQUESTS at most."""
    environment = _environment[0]
    if environment.runner and environment.stats.total.num_requests >= MAX_REQUESTS:
        environment.runner.quit()
