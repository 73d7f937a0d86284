"""Versioned schema migrations, applied in order at start-up.

`PRAGMA user_version` records how many have run. Never edit a released migration: append a new one,
so a database from any earlier version upgrades step by step without loss.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: papers, their announcements, feed state, topics, digests and the summary cache.
    """
    CREATE TABLE papers (
        id               TEXT PRIMARY KEY,      -- arXiv id without version
        version          INTEGER NOT NULL,      -- newest version we know
        title            TEXT NOT NULL,
        abstract         TEXT NOT NULL,
        authors          TEXT NOT NULL,         -- JSON array of names
        categories       TEXT NOT NULL,         -- JSON array, primary first
        primary_category TEXT,
        comment          TEXT,
        journal_ref      TEXT,
        doi              TEXT,
        published        TEXT,                  -- v1 submission, ISO 8601 UTC
        updated          TEXT,                  -- this version's submission, ISO 8601 UTC
        enriched_version INTEGER,               -- version whose full API metadata we hold
        first_seen_at    TEXT NOT NULL,
        updated_at       TEXT NOT NULL
    );
    CREATE TABLE paper_versions (
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        version  INTEGER NOT NULL,
        seen_at  TEXT NOT NULL,
        PRIMARY KEY (paper_id, version)
    ) WITHOUT ROWID;
    CREATE TABLE announcements (
        paper_id     TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        version      INTEGER NOT NULL,
        listing_date TEXT NOT NULL,             -- ISO date, arXiv's (US Eastern) listing date
        type         TEXT NOT NULL,             -- new | cross | replace | replace-cross
        feed_group   TEXT NOT NULL,
        source       TEXT NOT NULL,             -- rss | backfill
        PRIMARY KEY (paper_id, version, listing_date)
    ) WITHOUT ROWID;
    CREATE INDEX announcements_by_date ON announcements (listing_date);
    CREATE TABLE feed_state (
        feed_group        TEXT PRIMARY KEY,
        last_listing_date TEXT,
        last_fetch_at     TEXT,
        covered_from      TEXT
    );
    CREATE TABLE topics (
        id         INTEGER PRIMARY KEY,
        canonical  TEXT NOT NULL UNIQUE,        -- normalised query, the topic's identity
        text       TEXT NOT NULL,               -- as first typed
        created_at TEXT NOT NULL
    );
    CREATE TABLE digests (
        id            INTEGER PRIMARY KEY,
        audience      TEXT NOT NULL,            -- who it is for: 'cli', later a chat
        topic_id      INTEGER NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
        since         TEXT,                     -- first listing date covered (ISO date)
        through       TEXT,                     -- last listing date covered (ISO date)
        total_matched INTEGER NOT NULL,
        created_at    TEXT NOT NULL,
        UNIQUE (audience, topic_id, through)
    );
    CREATE TABLE digest_entries (
        digest_id        INTEGER NOT NULL REFERENCES digests(id) ON DELETE CASCADE,
        position         INTEGER NOT NULL,
        paper_id         TEXT NOT NULL,
        version          INTEGER NOT NULL,
        kind             TEXT NOT NULL,         -- new | updated
        previous_version INTEGER,
        PRIMARY KEY (digest_id, paper_id)
    ) WITHOUT ROWID;
    CREATE INDEX digest_entries_by_paper ON digest_entries (paper_id);
    CREATE TABLE summaries (
        paper_id       TEXT NOT NULL,
        version        INTEGER NOT NULL,
        language       TEXT NOT NULL,           -- cache key: the language asked for
        prompt_version TEXT NOT NULL,
        model          TEXT NOT NULL,           -- cache key: the model asked (or 'extractive')
        tldr           TEXT NOT NULL,
        takeaways      TEXT NOT NULL,           -- JSON array
        source         TEXT NOT NULL,           -- llm | extractive
        summary_language TEXT NOT NULL,         -- the language it is written in
        summary_model  TEXT,                    -- the model that wrote it; NULL if extractive
        created_at     TEXT NOT NULL,
        PRIMARY KEY (paper_id, version, language, prompt_version, model)
    ) WITHOUT ROWID;
    """,
    # 2: chats with their settings, their subscriptions, and the delivery outbox.
    """
    CREATE TABLE chats (
        key           TEXT PRIMARY KEY,         -- platform:id, e.g. telegram:-1001234
        kind          TEXT NOT NULL,            -- private | group | channel
        title         TEXT,
        language      TEXT NOT NULL DEFAULT 'en',
        timezone      TEXT NOT NULL DEFAULT 'UTC',
        delivery_time TEXT,                     -- HH:MM local; NULL = as soon as listed
        detail        TEXT NOT NULL DEFAULT 'full',
        max_papers    INTEGER NOT NULL DEFAULT 10,
        send_empty    INTEGER NOT NULL DEFAULT 0,
        paused        INTEGER NOT NULL DEFAULT 0,
        paused_reason TEXT,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    CREATE TABLE subscriptions (
        id         INTEGER PRIMARY KEY,
        chat_key   TEXT NOT NULL REFERENCES chats(key) ON UPDATE CASCADE ON DELETE CASCADE,
        topic_id   INTEGER NOT NULL REFERENCES topics(id),
        query      TEXT NOT NULL,               -- as the user typed it
        paused     INTEGER NOT NULL DEFAULT 0,
        created_by TEXT,
        created_at TEXT NOT NULL,
        UNIQUE (chat_key, topic_id)
    );
    CREATE TABLE deliveries (
        id              INTEGER PRIMARY KEY,
        chat_key        TEXT NOT NULL REFERENCES chats(key) ON UPDATE CASCADE ON DELETE CASCADE,
        subscription_id INTEGER REFERENCES subscriptions(id) ON DELETE SET NULL,
        digest_id       INTEGER NOT NULL REFERENCES digests(id),
        status          TEXT NOT NULL,          -- pending | sent | skipped | failed
        parts_sent      INTEGER NOT NULL DEFAULT 0,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error      TEXT,
        created_at      TEXT NOT NULL,
        finished_at     TEXT,
        UNIQUE (chat_key, digest_id)            -- each digest reaches a chat once
    );
    CREATE INDEX deliveries_by_status ON deliveries (status, next_attempt_at);
    """,
    # 3: copies in the outbox, so a chat can ask for a digest it already got (`/digest`): the
    # scheduled delivery is copy 0, each later request the next copy. SQLite cannot change a
    # UNIQUE constraint in place, so the table is rebuilt with every row kept (copy 0).
    """
    CREATE TABLE deliveries_v3 (
        id              INTEGER PRIMARY KEY,
        chat_key        TEXT NOT NULL REFERENCES chats(key) ON UPDATE CASCADE ON DELETE CASCADE,
        subscription_id INTEGER REFERENCES subscriptions(id) ON DELETE SET NULL,
        digest_id       INTEGER NOT NULL REFERENCES digests(id),
        copy            INTEGER NOT NULL DEFAULT 0, -- 0: scheduled; 1, 2, ...: asked for again
        status          TEXT NOT NULL,          -- pending | sent | skipped | failed
        parts_sent      INTEGER NOT NULL DEFAULT 0,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error      TEXT,
        created_at      TEXT NOT NULL,
        finished_at     TEXT,
        UNIQUE (chat_key, digest_id, copy)
    );
    INSERT INTO deliveries_v3
        (id, chat_key, subscription_id, digest_id, copy, status, parts_sent, attempts,
         next_attempt_at, last_error, created_at, finished_at)
    SELECT id, chat_key, subscription_id, digest_id, 0, status, parts_sent, attempts,
           next_attempt_at, last_error, created_at, finished_at
    FROM deliveries;
    DROP TABLE deliveries;
    ALTER TABLE deliveries_v3 RENAME TO deliveries;
    CREATE INDEX deliveries_by_status ON deliveries (status, next_attempt_at);
    """,
    # 4: conditional feed requests and quiet days (per feed group), why a cached summary is
    # extractive, and the arXiv request slot shared by every process using this database.
    """
    ALTER TABLE feed_state ADD COLUMN etag TEXT;
    ALTER TABLE feed_state ADD COLUMN last_modified TEXT;
    ALTER TABLE feed_state ADD COLUMN feed_date TEXT;  -- date of the last feed seen, even empty
    ALTER TABLE summaries ADD COLUMN fallback_reason TEXT;
    CREATE TABLE request_slots (
        name       TEXT PRIMARY KEY,            -- 'arxiv'
        next_start REAL NOT NULL                -- Unix time before which no request may start
    );
    """,
    # 5: the review cache (one JSON payload per key, keyed like summaries) and the LLM tokens
    # spent per UTC day, for the daily token budget.
    """
    CREATE TABLE reviews (
        paper_id       TEXT NOT NULL,
        version        INTEGER NOT NULL,
        language       TEXT NOT NULL,           -- cache key: the language asked for
        prompt_version TEXT NOT NULL,
        model          TEXT NOT NULL,           -- cache key: the model asked (or 'extractive')
        origin         TEXT NOT NULL,           -- llm | extractive
        payload        TEXT NOT NULL,           -- JSON, bot.reviews.model.to_payload
        created_at     TEXT NOT NULL,
        PRIMARY KEY (paper_id, version, language, prompt_version, model)
    ) WITHOUT ROWID;
    CREATE TABLE llm_usage (
        day               TEXT PRIMARY KEY,     -- ISO date, UTC
        prompt_tokens     INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        calls             INTEGER NOT NULL DEFAULT 0
    );
    """,
)

LATEST_VERSION = len(MIGRATIONS)
