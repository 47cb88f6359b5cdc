"""The publish engine: claims, publishes, retries, records outcomes, sends notices."""
