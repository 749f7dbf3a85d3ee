"""The operator REST API for the alerts domain (docs/api.md)."""
