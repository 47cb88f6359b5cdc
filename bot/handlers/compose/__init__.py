"""The compose conversation's steps: content, accounts, time, preview, confirm.

Holds: common.py (states, filters, the ways out, the time question), content.py, status.py,
alt.py, switch.py, targets.py, time.py, calendar.py, queue.py, preview.py, versions.py
(each account's own version, in compose and edit previews alike), repeat.py.
The graph that wires them (and the edit/, posts/ states that share the conversation) is
bot/handlers/conversation.py, with its diagram in conversation.mmd.

May import: what handlers/ may, except the other sub-rooms and the modules directly in
handlers/. Inside, common.py is imported by the steps and imports none of them; preview.py
never imports time.py or queue.py (they come back to it).
"""
