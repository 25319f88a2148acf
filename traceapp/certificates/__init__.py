"""Commitment compliance certificates (承诺达标合格证): issue, print, revoke."""
