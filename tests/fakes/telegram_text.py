"""Moved to ``bot/demo/emulator/text.py`` (the emulator `crier demo` runs); this name is kept
so tests importing it keep working: it is that very module."""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("bot.demo.emulator.text")
