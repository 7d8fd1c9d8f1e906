"""The Textual dashboard (no torch).  Empty until the dashboard issue."""
