"""The WhatsApp Cloud API channel: webhook models, signatures, the Graph API client, Flows crypto."""
