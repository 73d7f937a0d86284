"""Chat frontends (Telegram, Discord). They render core objects and turn commands into core calls."""
