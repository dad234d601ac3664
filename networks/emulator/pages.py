"""Small HTML pages for humans: the index, one page per network, consent, errors, shares."""

from __future__ import annotations

from html import escape

from networks.emulator.state import NETWORKS, iso, post_metrics

TITLES = {"linkedin": "LinkedIn", "x": "X (Twitter)", "facebook": "Facebook"}
STYLE = """
body{font:15px/1.45 system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.3rem .5rem;
text-align:left;vertical-align:top}th{background:#f3f3f3}.muted{color:#666}.error{color:#b00020}
button{font-size:1rem;padding:.4rem 1rem;margin-right:.5rem}code{background:#f3f3f3;padding:0 .2rem}
"""


def _response(status: int, title: str, body: str):
    from networks.emulator.server import html_response

    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<style>{STYLE}</style></head><body><p class=muted><a href="/">Network emulator</a></p>'
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )
    return html_response(status, page)


def _table(headers: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f"<p class=muted>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def error_page(status: int, title: str, message: str):
    return _response(status, title, f"<p class=error>{escape(message)}</p>")


def index(store):
    items = "".join(
        f'<li><a href="/{n}/">{TITLES[n]}</a>: {len(store.network_accounts(n))} account(s), '
        f"{sum(1 for (net, _) in store.posts if net == n)} post(s)</li>"
        for n in NETWORKS
    )
    body = (
        f"<ul>{items}</ul><p>Emulator clock: <code>{escape(_iso(store.now()))}</code>. "
        'Machine-readable state: <a href="/_emulator/state">/_emulator/state</a>.</p>'
    )
    return _response(200, "Network emulator", body)


def network_page(store, network: str):
    now = store.now()
    accounts = store.network_accounts(network)
    account_rows = []
    for a in accounts:
        row = [f"<code>{escape(a.id)}</code>", escape(a.name), escape(a.username), escape(a.email)]
        if network == "facebook":
            row.append(
                "<br>".join(
                    f"{escape(p.name)} (<code>{escape(p.id)}</code>): {escape(', '.join(p.tasks))}" for p in a.pages
                )
            )
        account_rows.append(row)
    account_headers = ["id", "name", "username", "email"] + (["pages (tasks)"] if network == "facebook" else [])
    posts = sorted((p for (n, _), p in store.posts.items() if n == network), key=lambda p: p.created_at, reverse=True)
    post_rows = []
    for p in posts:
        m = post_metrics(p, now)
        metrics = "deleted" if p.deleted else ", ".join(f"{k} {v}" for k, v in m.items())
        link = f'<a href="{escape(p.link)}">{escape(p.link)}</a>' if p.link else ""
        pictures = "".join(
            f"<br>picture {escape(m['mime_type'])} {m['width']}x{m['height']}, alt: “{escape(m['alt_text'])}”"
            for m in p.extra.get("media", [])
        )
        post_rows.append(
            [
                f"<code>{escape(p.id)}</code>",
                escape(p.author),
                escape(p.text) + pictures,
                link,
                _iso(p.created_at),
                metrics,
            ]
        )
    apps = [a for (n, _), a in store.apps.items() if n == network]
    app_rows = [
        [
            f"<code>{escape(a.client_id)}</code>",
            "<br>".join(escape(u) for u in a.redirect_uris),
            "yes" if a.partner else "no",
            escape(" ".join(a.scopes)) if a.scopes is not None else "<span class=muted>default</span>",
        ]
        for a in apps
    ]
    shares = [s for s in store.shares if s["network"] == network]
    share_rows = [[escape(s["kind"]), escape(s.get("url") or ""), escape(s.get("text") or ""), s["at"]] for s in shares]
    body = (
        f"<h2>Accounts</h2>{_table(account_headers, account_rows, 'No accounts yet.')}"
        f"{_new_account_form(network, f'/{network}/')}"
        f"<h2>Posts</h2>{_table(['id', 'author', 'text', 'link', 'created', 'metrics now'], post_rows, 'No posts.')}"
        f"<h2>Apps</h2>{_table(['client_id', 'redirect URIs', 'partner', 'scopes'], app_rows, 'No apps.')}"
        f"<h2>Assisted shares</h2>{_table(['kind', 'url', 'text', 'at'], share_rows, 'None.')}"
    )
    return _response(200, TITLES[network], body)


def _new_account_form(network: str, next_url: str) -> str:
    return (
        '<form method="post" action="/_emulator/ui/accounts"><label>New account name '
        f'<input name="name" required></label><input type="hidden" name="network" value="{network}">'
        f'<input type="hidden" name="next" value="{escape(next_url)}"> <button>Create account</button></form>'
    )


def consent_page(status, network, app, scopes, accounts, carried, action, back, problem=None):
    hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in carried.items())
    options = "".join(f'<option value="{escape(a.id)}">{escape(a.name)} ({escape(a.id)})</option>' for a in accounts)
    chooser = (
        f'<label>Sign in as <select name="account_id">{options}</select></label>'
        if accounts
        else "<p class=muted>No account yet: create one below.</p>"
    )
    body = (
        (f"<p class=error>{escape(problem)}</p>" if problem else "")
        + f"<p>The app <code>{escape(app.client_id)}</code> asks for: "
        + (", ".join(f"<code>{escape(s)}</code>" for s in scopes) or "<span class=muted>no scopes</span>")
        + f'.</p><form method="post" action="{escape(action)}">{hidden}{chooser}<p>'
        + ('<button name="decision" value="allow">Allow</button>' if accounts else "")
        + '<button name="decision" value="deny">Deny</button></p></form>'
        + _new_account_form(network, back)
    )
    return _response(status, f"{TITLES[network]}: authorize {app.client_id}", body)


def shared_page(network: str, url: str, text: str = "", back: str | None = None):
    body = f'<p>Shared to {TITLES[network]}: <a href="{escape(url)}">{escape(url)}</a></p>'
    if text:
        body += f"<blockquote>{escape(text)}</blockquote>"
    if back:
        body += f'<p><a href="{escape(back)}">Back to the app</a></p>'
    return _response(200, f"{TITLES[network]}: shared", body)


def _iso(t: float) -> str:
    return iso(t) or ""
