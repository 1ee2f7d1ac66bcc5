"""Availability: what can be booked right now and how many spots are left (docs/booking-policies.md)."""
