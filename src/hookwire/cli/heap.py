"""The garbage collector in a long-running hookwire process.

Everything a process builds while it starts (FastAPI's routes and models, the OpenAPI
document, templates, parsed queries, settings, imported modules) lives until it exits.
CPython's full collection nevertheless walks all of it again whenever enough objects have
survived a younger collection, and under load (requests, tasks and connections in flight
survive a young collection and then die by reference counting) that was every second or
two: 55 to 90 ms each time in the API and worker processes, freeing nothing, with the event
loop stopped. Those pauses were the p99 of accepted → first attempt.

`settle()` runs once, when start-up is done: one full collection, then `gc.freeze()` moves
every surviving object to the permanent generation, which later collections never scan. A
full collection afterwards walks only what was allocated since, a few milliseconds' worth.
Cycles among new objects are still found and freed as before.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect once, then exempt what start-up built from every later collection."""
    gc.collect()
    gc.freeze()
