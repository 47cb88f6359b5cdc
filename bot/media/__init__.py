"""Media files: sniff, probe, profile, adapt, fetch, prepare, clean up."""
