"""The participations' use cases and the ports they need."""
