"""Participations: turns bookings into participations and keeps each session's participant total."""
