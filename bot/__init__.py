"""Crier's application package: Telegram UI, publish engine, notices."""

import os

# PTB 22 is moving durations (retry_after, video duration) from int to timedelta and warns on
# every access until a program opts in; Crier handles both, so opt in.
os.environ.setdefault("PTB_TIMEDELTA", "true")
