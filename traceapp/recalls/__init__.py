"""Trace backward and forward through every shipment, portion and transformation; recalls."""
