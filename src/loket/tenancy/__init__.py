"""Tenants are institutions; each owns WhatsApp phone numbers, and no tenant sees another's rows."""
