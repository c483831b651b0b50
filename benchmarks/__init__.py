"""hookwire's benchmark suite: `python -m benchmarks [--quick] [--only SCENARIO]`.

Every module here is one role: the receiver the webhooks land on, the load clients,
the hookwire processes, one module per scenario, and the report. Nothing is imported
at package level, so the Celery side (`benchmarks.celery_app`) can run from its own
venv without hookwire installed.
"""
