"""Tests of the metrics package: rows, windows, files, events, control channel."""
