"""Conversations: the session both front ends drive, saved history, slash commands."""
