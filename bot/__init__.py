"""Crier's application package: Telegram UI, publish engine, notices.

It is organised in rooms, each a subpackage whose __init__ says what it holds and what it
may import; docs/ARCHITECTURE.md draws the whole house, and tests/unit/test_layout.py keeps
the imports pointing one way."""

import os

# PTB 22 is moving durations (retry_after, video duration) from int to timedelta and warns on
# every access until a program opts in; Crier handles both, so opt in.
os.environ.setdefault("PTB_TIMEDELTA", "true")
