"""The auditor's offline verifier: `python -m changeproof.verify EXPORT --public-key KEY`.

It imports only the standard library, `cryptography` and `changeproof.ledger`, so it can
be read in full and trusted on its own (a test enforces this).
"""

from changeproof.verify.export import ExportFile, ExportFormatError

__all__ = ["ExportFile", "ExportFormatError"]
