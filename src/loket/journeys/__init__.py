"""Customer journeys: one module per thing a customer can get done."""
