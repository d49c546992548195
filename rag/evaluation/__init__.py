"""Measuring retrieval and the citation checker on labelled question files."""
