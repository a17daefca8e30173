"""Reports: documents built from recorded facts for people and other systems to read.

    vsa.py      a gate decision as a SLSA verification summary in an in-toto Statement

Pure: reports import the domain only; services sign and write what they build.
Import from the modules: this package re-exports nothing, so importing one part never
drags in the rest (a command pays only for the modules it uses).
"""
