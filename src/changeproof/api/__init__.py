"""The REST API: `changeproof serve`, the trust boundary (issue 12; docs/server.md)."""
