"""A changeproof server's client: what a machine with no database and no key runs."""
