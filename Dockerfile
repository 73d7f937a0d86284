# Paperboy in a container: the bot by default; the database lives on the /data volume.
#   docker build -t paperboy .
#   docker run -d --restart unless-stopped --env-file .env -v paperboy-data:/data paperboy
#   docker run --rm --env-file .env -v paperboy-data:/data paperboy digest '"talking head"'
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PAPERBOY_DB=/data/paperboy.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 1000 paperboy \
    && mkdir /data && chown paperboy /data

USER paperboy
VOLUME ["/data"]
# `docker stop` sends SIGTERM: the message in flight finishes and state is saved.
STOPSIGNAL SIGTERM
ENTRYPOINT ["paperboy"]
CMD ["run"]
