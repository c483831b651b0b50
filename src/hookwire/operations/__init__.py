"""Operations: operational webhooks, alerting, metrics, health, tracing and retention."""
