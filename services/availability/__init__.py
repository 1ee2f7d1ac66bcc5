"""Availability: what can be booked right now and how many spots are left (seed 000)."""
