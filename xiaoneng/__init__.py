"""Xiaoneng (效能): administrative-efficiency supervision platform."""
