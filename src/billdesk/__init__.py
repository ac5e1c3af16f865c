"""billdesk: offline desktop billing for small businesses."""

__version__ = "0.1.0"
APP_NAME = "billdesk"
