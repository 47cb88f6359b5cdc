"""Admin commands (commands.py), /broadcast (broadcast.py, which also keeps this process's
broadcast runner), and the admin check every one goes through (guard.py).

May import no other sub-room of handlers/.
"""
