"""Content pages: `sharing` (the employee's feed, composer, shares) and `library` (marketers)."""
