"""Web Push: the client that sends a notification to a browser's push service (`client`,
over `pywebpush`: VAPID, RFC 8292, and the aes128gcm payload encryption, RFC 8291), its
typed errors (`errors`), VAPID key helpers (`keys`) and a local emulator of a push service
(`emulator`) that checks what the real ones check and decrypts what it receives.

Pure library, no Django: the member's subscriptions and the push channel of the
notification preferences live in `accounts` (DESIGN.md, "push subscriptions ... in accounts/").
"""
