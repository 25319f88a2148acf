"""Purchases (收购): a buyer records what it bought and the certificate it collected with each lot
("无证不收"), re-issues for what it mixes or splits, and keeps them as long as its setting says."""
