"""Chat frontends (Telegram, Discord): render core objects, turn commands into core calls."""
