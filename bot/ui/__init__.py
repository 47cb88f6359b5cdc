"""What handlers share: rendering, keyboards, replies, one-question conversations."""
