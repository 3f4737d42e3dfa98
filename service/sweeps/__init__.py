"""Sweeps (#26): one request trains a grid or a search of specs, each trial an ordinary
job, and answers which code size the data need."""
