"""What admins do: access control, alerts, broadcasts, stats."""
