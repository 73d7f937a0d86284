# Paperboy in a container: the bot by default; the database lives on the /data volume.
#   docker build -t paperboy .
#   docker run -d --restart unless-stopped --env-file .env -v paperboy-data:/data paperboy
#   docker run --rm --env-file .env -v paperboy-data:/data paperboy digest '"talking head"'
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, in a layer of their own: editing the source does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; open('/tmp/requirements.txt', 'w').write('\n'.join(deps))" \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && useradd --create-home --uid 1000 paperboy \
    && mkdir /data && chown paperboy /data

COPY README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install --no-cache-dir --no-deps .

USER paperboy
VOLUME ["/data"]
# `docker stop` sends SIGTERM: the messages in flight finish and state is saved.
STOPSIGNAL SIGTERM
# The database belongs on the volume whatever the .env says: `--env-file` passes the empty
# `PAPERBOY_DB=` of .env.example as an empty value, which would override an ENV default here
# and put the database outside /data, lost with the container. The shell fills in /data when
# the variable is unset or empty; a path the user sets is kept.
ENTRYPOINT ["/bin/sh", "-c", "export PAPERBOY_DB=\"${PAPERBOY_DB:-/data/paperboy.db}\"; exec paperboy \"$@\"", "paperboy"]
CMD ["run"]
# Healthy while the bot's scheduler beats and digest cycles keep finishing (see `paperboy health`).
HEALTHCHECK --interval=2m --timeout=20s --start-period=5m --retries=2 \
    CMD ["/bin/sh", "-c", "export PAPERBOY_DB=\"${PAPERBOY_DB:-/data/paperboy.db}\"; exec paperboy health"]
