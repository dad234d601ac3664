"""Clients of outside services other than the social networks, and local emulators of them
(DESIGN.md): pure library, no models; the Django side lives in the app that owns the feature."""
