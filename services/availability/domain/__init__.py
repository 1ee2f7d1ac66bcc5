"""The availability domain: what can be booked, and why not. Pure: no I/O, no grpc, no protobuf,
no clock reads (every calculation takes `now` as a parameter).

- `model`: the entities availability reads (offerings, sessions, time frames) and the answers it
  gives (course availability, time slots).
- `policy`: the one rule set for courses and classes, used for display (List*TimeSlots) and for
  booking validation (`validate_booking`) alike, so the two cannot diverge.
- `time_range`: local date-times of a request, resolved in an IANA time zone (DST-correct).
- `slots`: ordering, filtering and paging of time slots.
"""
