"""报送: turning a yearly work plan into monthly fill-in workbooks, and the returns into reports."""

__version__ = "0.1.0"
