"""Domain values, events and their canonical encoding. Pure: no I/O, no clock.

Import from the modules: this package re-exports nothing, so importing one part never
drags in the rest (a command pays only for the modules it uses).
"""
