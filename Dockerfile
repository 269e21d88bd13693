# The monitor as a container: a non-root user, the database on a volume, and a health
# check the runtime can act on. Build: docker build -t diplomatic-signal-monitor .
# Run:   docker run -d -v monitor-data:/var/lib/monitor diplomatic-signal-monitor
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MONITOR_CONFIG=/etc/monitor/monitor.toml

WORKDIR /opt/monitor
COPY requirements-runtime.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements-runtime.lock
COPY pyproject.toml README.md ./
COPY config ./config
COPY monitor ./monitor
RUN pip install --no-cache-dir --no-deps . && rm -rf /opt/monitor/build
COPY contrib/container.toml /etc/monitor/monitor.toml

RUN useradd --system --uid 10001 --home-dir /var/lib/monitor --create-home monitor
USER monitor
VOLUME ["/var/lib/monitor"]

# Exit status 2 (down: no daemon, or no poll for several intervals) is unhealthy;
# degraded (1: some feeds failing) is reported by `monitor health` but needs no restart.
HEALTHCHECK --interval=1m --timeout=30s --start-period=2m --retries=3 \
    CMD monitor -q health > /dev/null; test $? -lt 2

ENTRYPOINT ["monitor", "--log-format", "json"]
CMD ["run"]
