"""Security: secrets at rest, staff identity, access control, data-loss prevention."""
