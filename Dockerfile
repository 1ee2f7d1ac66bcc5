# One image for every service; the command picks the service and what it does:
#   docker run IMAGE services.bookings serve      (the default command runs availability)
#   docker run IMAGE services.bookings migrate    (Kubernetes: the init container of each pod)
# Build: docker build -t bookings-platform:<version> .    (deploy/README.md)

# Pinned by tag (Python 3.11, the version the project is tested with; Debian 12 slim). Pin by
# digest as well in the registry you build from, so a rebuilt tag cannot change the image.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# --- builder: resolve and install the pinned dependencies and the project into a venv ----------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# Dependencies first, from the project's own pins: this layer is rebuilt only when they change.
# Every dependency ships manylinux wheels, so no compiler is needed even here.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
 && pip install --requirement requirements.txt --constraint constraints.txt

# Then the code (services/ only: generated API code and migrations included, tests are not).
COPY services ./services
RUN pip install --constraint constraints.txt . \
 && pip uninstall --yes pip setuptools

# --- runtime: the interpreter and the venv, nothing to build with -----------------------------
FROM ${PYTHON_IMAGE}
# Bytecode was compiled at install time and the root filesystem is read-only in Kubernetes;
# PYTHONSAFEPATH keeps the working directory off sys.path (code runs only from the venv).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONSAFEPATH=1
COPY --from=builder /opt/venv /opt/venv
# Owned by root, so the service user cannot write where it runs.
WORKDIR /app
# Numeric, non-root: Kubernetes' runAsNonRoot can verify it without an /etc/passwd entry.
USER 10001:10001
# availability 50051, bookings 50052, participations 50053, timeframes 50054 (DESIGN §3).
EXPOSE 50051 50052 50053 50054
ENTRYPOINT ["python", "-m"]
CMD ["services.availability", "serve"]
