"""The compose conversation's steps."""
