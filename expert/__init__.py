"""Experts and the curriculum mixer (no torch).

Empty until the Tempest issue: the `Expert` protocol, the Tempest and ALE RAM experts, the ratio
schedule and the action mixer land here.
"""
