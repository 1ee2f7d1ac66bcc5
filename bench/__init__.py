"""Benchmarks (not tests): `make bench-availability`; see bench/README.md."""

import os

# Set before anything imports grpc: the bench process starts py-spy (fork+exec) while it makes
# gRPC calls; gRPC's fork handlers are not needed for that and only log that they were skipped.
# The services do not get this setting (bench/availability.py leaves it out of their environment).
OWN_ENV = frozenset() if "GRPC_ENABLE_FORK_SUPPORT" in os.environ else frozenset({"GRPC_ENABLE_FORK_SUPPORT"})
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
