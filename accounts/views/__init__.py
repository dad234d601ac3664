"""Pages of the accounts app, one module per concept: organizations, members (and teams),
invitations, api_tokens, connections, profile, notifications, guidelines (see accounts/urls.py)."""
