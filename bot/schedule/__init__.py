"""Time: reading what people type, timezones and cities, recurrence, queue slots."""
