"""The conversation engine: understanding a customer's turn and choosing the answer."""
