"""HTTP: the Svix-compatible REST API, one module per resource."""
