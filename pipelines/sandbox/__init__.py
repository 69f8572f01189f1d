"""The Clio emulator: a seeded firm served over real HTTP (demo and tests)."""
