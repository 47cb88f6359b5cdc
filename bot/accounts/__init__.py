"""The accounts a user connects: connecting, testing, renaming, options."""
