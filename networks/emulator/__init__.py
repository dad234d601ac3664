"""A local emulator of the LinkedIn, X and Facebook HTTP APIs, as strict as the real ones.

Pure standard library (no Django): the clients in `networks.clients` are proven against it
in development, demos and tests. The facts it follows are in ../shared/PROVIDERS.md.

Running
-------
    python -m networks.emulator --host 127.0.0.1 --port 8765   # --port 0 picks a free port
    python manage.py run_network_emulator --port 8765          # the same server

Either prints exactly one line, `EMULATOR LISTENING http://127.0.0.1:<port>`, once it
listens. `--verbose` logs requests to stderr. State lives in memory and dies with the
process. In tests, the `network_emulator` fixture (tests/emulator_fixture.py) starts one
per session. Human pages: `GET /` and `GET /<network>/` (accounts, posts with their
metrics now, apps, assisted shares).

URLs
----
Each network lives under one prefix and serves the real paths (OAuth host and API host
both map to it), so a client's `origin` is e.g. `http://127.0.0.1:8765/linkedin`:

- /linkedin: /oauth/v2/authorization, /oauth/v2/accessToken, /v2/userinfo, /rest/posts
  (POST; GET ?q=author; GET and DELETE /rest/posts/{encoded urn}), /rest/socialMetadata/{encoded
  urn} and its BATCH_GET /rest/socialMetadata?ids=List(...) (100 keys at most; a deleted post
  under `errors` with 404), /rest/memberCreatorPostAnalytics (q=entity with
  entity=(share:{encoded urn}), or q=me; aggregation TOTAL), /sharing/share-offsite/?url=
- /x: /i/oauth2/authorize, /2/oauth2/token, /2/oauth2/revoke, /oauth2/token (App-Only bearer
  token from the app's API Key and Secret: it reads GET /2/tweets on the app's own limit, never
  non_public_metrics / organic_metrics, which only the author's token reads on posts under 30
  days, and no user endpoint), /2/users/me, POST /2/tweets, GET /2/tweets?ids= (100 at most),
  GET and DELETE /2/tweets/{id}, /2/users/{id}/tweets, /intent/tweet
- /facebook: /vNN.0/dialog/oauth, /vNN.0/oauth/access_token, /vNN.0/me, /vNN.0/me/accounts,
  /vNN.0/me/permissions, POST /vNN.0/{page-id}/feed, GET /vNN.0/{page-id}/feed and
  /vNN.0/{page-id}/posts (the Page's posts, newest first; `limit`, `fields`), GET and DELETE
  /vNN.0/{post-id}, /vNN.0/{post-id}/insights, /vNN.0/?ids=a,b (multi-id read, 50 ids at
  most), POST /vNN.0/ with batch=[...] (50 GET requests at most, each with its own token or
  the top-level one, an app access token `{app-id}|{secret}` taken there), /dialog/share,
  /sharer/sharer.php

Pictures (networks/emulator/media.py; each network module cites the documentation and
states its limits next to its routes): LinkedIn POST /rest/images?action=initializeUpload
-> uploadUrl (single-use, expires) + urn:li:image:..., PUT the bytes there, the post's
content.media {id, altText}; X POST /2/media/upload (JSON, base64, tweet_image, 5 MB,
id expiring after expires_after_secs) and POST /2/media/metadata (alt text), the tweet's
media.media_ids; Facebook POST /vNN.0/{page-id}/photos (multipart `source`, published,
alt_text_custom, 4 MB), attached to a feed post with attached_media. Types and pixel sizes
are read from the bytes. A post naming an unknown, expired or another account's media is
refused in the network's error format. The state's `media` lists every upload (with
`posts` that carry it) and a post's `extra.media` its pictures with their alt text.

Reading one post, as a pasted link is checked: LinkedIn GET /rest/posts/{encoded urn} gives
`id`, `author` (urn:li:person:{sub}), `commentary`, `lifecycleState`, `createdAt` (it needs
r_member_social, a partner scope: ordinary apps get 403 ACCESS_DENIED; a missing or deleted
post is 404 NOT_FOUND); X GET /2/tweets/{id}?tweet.fields=author_id,created_at gives `data`
with `author_id` (a missing or deleted tweet is 200 with `errors`: "Not Found Error",
`parameter` "id"); Facebook GET /vNN.0/{post-id}?fields=id,from,created_time gives `from`
{id, name} of the Page (a missing post is 400 code 100 subcode 33; another Page's post
403 code 10).

Duplicates: publishing what the account already has is refused without any fault, as the
networks do: LinkedIn the same commentary within 24 hours (422 DUPLICATE_POST, "Content
is a duplicate of {urn of the earlier post}"), X the same text as any tweet not deleted
(403 "You are not allowed to create a Tweet with duplicate content."), Facebook the same
message and link on the Page within 24 hours (400 code 506, subcode 1455006).

Control API (JSON in and out, under /_emulator/)
-----------------------------------------------
- POST /_emulator/reset -> {}: forget everything (apps, accounts, tokens, posts, faults,
  clock offset, auto-approval, settings).
- POST /_emulator/apps {"network", "client_id", "client_secret", "redirect_uris": [...],
  "partner": false, "scopes": [...]?} -> 201 the app. `scopes` overrides what the app may
  be granted. LinkedIn `partner: true`: refresh tokens, and r_member_social +
  r_member_postAnalytics granted with the others (else the metrics endpoints answer 403
  ACCESS_DENIED). X apps without a secret are public clients. Registering a client_id again
  replaces the app.
- POST /_emulator/accounts {"network", "id"?, "name", "username"?, "email"?, "pages"?:
  [{"id"?, "name", "tasks": ["CREATE_CONTENT", ...], "category"?}]} -> 201 the account
  (ids generated when missing: LinkedIn a 10-character sub, X and Facebook numeric
  strings, pages numeric strings). 409 if the id exists.
- POST /_emulator/auto_approve {"network", "account_id": str|null, "deny": false}: the
  authorize endpoint then redirects at once with a code for that account, or with the
  network's access_denied parameters (and the state) when deny is true.
  {"account_id": null, "deny": false} turns it off (the consent page again).
- POST /_emulator/faults {"network", "kind", "account_id"?, "times"?: 1, "path"?: substring
  of the request path, "method"?, "reset_in"?: 900, "delay"?: 5, "code"?: 4} -> 201 the
  fault. Without `path` a fault fires on API calls only; OAuth token endpoints are hit
  only by a fault whose `path` names them; authorize pages never. Each firing consumes
  one of `times`. Kinds:
    rate_limit     X 429 + x-rate-limit-* (reset = now + reset_in); LinkedIn 429 short
                   throttle, no reset header ("Resource level throttle limit for calls to
                   this resource is reached."; only the natural daily limit below says
                   "... MEMBER DAY limit ..."); Facebook HTTP 400 with code 4 (or `code`
                   17/32/613), X-App-Usage and X-Business-Use-Case-Usage
                   (estimated_time_to_regain_access in minutes)
    server_error   500 in the network's error format
    forbidden      the app may not call this endpoint: X 403 client-forbidden (client-not-enrolled),
                   LinkedIn 403 ACCESS_DENIED, Facebook 403 (#200) Permissions error
    slow           sleep `delay` real seconds, then answer normally
    lost_response  perform the request (e.g. store the post), then close the socket unanswered
                   (`lost` is accepted as another name for it)
    revoked        all the account's tokens are revoked (LinkedIn 401 65601, X 401,
                   Facebook 400/190/460, the Page tokens obtained through it too, even when
                   `account_id` names a Page: a password change), and stay so
    duplicate      the next publish is refused as a duplicate in the network's format (see
                   Duplicates above); LinkedIn's message names the earlier post with this
                   commentary when there is one, else a URN no post has (LinkedIn's answers
                   have been seen to name posts that 404: verify before attaching one)
    expire_token   the account's access tokens expire now (LinkedIn 401 65600, X 401,
                   Facebook 400/190/463). Facebook Page tokens that never expire (obtained
                   with a long-lived user token) outlive the user token, as Graph documents;
                   with `account_id` naming a Page, that Page's tokens alone expire (GET
                   /me/accounts with the user token then hands out a new one)
  GET /_emulator/faults -> {"faults": [...pending...]}; DELETE /_emulator/faults clears them.
- POST /_emulator/clock {"advance": seconds} -> {"now": iso}: the emulator clock (token and
  code expiry, rate-limit windows, metric growth) moves forward; it never goes back.
  GET /_emulator/clock -> {"now", "offset"}.
- POST /_emulator/settings {"rate_limits": false}: switch the natural rate limits off
  (X 100 posts / 15 min and 300 / 24 h per user, LinkedIn 150 posts / member / UTC day,
  answered with LinkedIn's daily wording "Resource level throttle MEMBER DAY limit for
  calls to this resource is reached.", Facebook 4800 calls / app / hour), e.g. for
  benchmarks. GET shows them.
- GET /_emulator/state -> {"now", "apps", "accounts", "codes", "tokens" (token, kind,
  account_id, page_id, scopes, issued_at, expires_at, expired, revoked, spent), "posts"
  (network, id, author, account_id, text, raw, link, created_at, deleted, metrics, extra;
  LinkedIn: `raw` the little text sent, `text` as members read it, `extra.content` the
  article card as sent, `extra.hashtags`),
  "faults", "auto_approve", "settings", "shares" (assisted shares), "counters" (per
  network: requests, api_calls, posts_created, metrics_reads, refreshes, faults_fired.*)}.
- GET /_emulator/in_flight -> {"now", "most", "seconds"}: the API calls being answered now,
  the most answered at once and the seconds they took together, since the emulator started
  or since DELETE /_emulator/in_flight (which starts "most" again from "now" and "seconds"
  from 0): how many calls a worker really keeps in flight, at most and on average.

Metrics grow with each post's age on the emulator clock, deterministically from its id:
after `advance` a pull sees numbers at least as big (two quick pulls agree).
"""
