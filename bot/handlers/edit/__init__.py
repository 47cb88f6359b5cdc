"""Editing a scheduled post: the /edit menu (menu.py) and its steps (steps.py).

Its states belong to the compose conversation (bot/handlers/conversation.py wires them);
it may import handlers/compose/ (the shared states, content and versions), never posts/.
"""
