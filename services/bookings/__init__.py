"""Bookings: the service catalog (services and their booking policies), the default
BookingPolicyProvider, and (in a later issue) bookings themselves."""
