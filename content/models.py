"""Content items, shares and deliveries (the share lifecycle lives in services.py)."""
