"""Custody events (hops): shipping, receiving, storing, transporting with temperatures,
market gate inspections, processing, portions sold on, corrections. Modelled on GS1 EPCIS 2.0."""
