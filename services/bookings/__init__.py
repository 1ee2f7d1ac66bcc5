"""Bookings: the service catalog (services and their booking policies), the default
BookingPolicyProvider, and bookings themselves (bookings.v2.Bookings)."""
