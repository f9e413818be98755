"""The HTTP layer: thin routes over the services; no business rules live here."""
