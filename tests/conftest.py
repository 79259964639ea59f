"""Root of the test folders: puts ``tests/`` on the import path so that every folder imports the shared
definitions of ``helpers.py`` (problem sources, the in-process command runner, the one-thread fixture)."""
