"""Helpers shared by the test folders and the benchmarks: importing them needs neither pytest nor Playwright."""
