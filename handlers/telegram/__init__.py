"""Telegram frontend (python-telegram-bot): commands, rendering and delivery."""
