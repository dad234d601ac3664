"""Microsoft Teams channel posts through a channel's workflow webhook (Power Automate's
"Post to a channel when a webhook request is received"): a client with typed errors, the
Adaptive Card message builder, and a local emulator of the webhook endpoint. No models."""
