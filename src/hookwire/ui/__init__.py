"""The operator dashboard (`/ui`), the customer portal (`/portal`) and the offline API docs.

Server-rendered pages (Jinja2) with vendored static assets; every page calls the same
use-case functions in `hookwire.outbound` and `hookwire.ingest` as the JSON API does.
"""

from hookwire.ui.install import install

__all__ = ["install"]
