"""Qt table models, one per list; columns are IntEnums."""

from PySide6.QtCore import Qt

IdRole = Qt.ItemDataRole.UserRole + 1
SortRole = Qt.ItemDataRole.UserRole + 2
