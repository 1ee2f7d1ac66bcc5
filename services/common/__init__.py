"""Runtime shared by the four services: settings, auth, errors, logging, telemetry, gRPC server
and clients, Postgres pools and migrations, cursor paging. Nothing here knows a domain."""
