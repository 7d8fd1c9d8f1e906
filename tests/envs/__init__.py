"""Tests of the environment backends (envs/)."""
