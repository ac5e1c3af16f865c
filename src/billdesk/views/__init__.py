"""The windows (PySide6). They only show and call services."""
