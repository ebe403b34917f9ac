"""Float paths for networks too large for exact enumeration: certified float arithmetic
(`arithmetic`), the operator graph (`operators`), certified bounds on numpy (`bounds`) and
torch (`torch`), SeqLip (`seqlip`), estimates (`estimate`) and measures (`measures`)."""
