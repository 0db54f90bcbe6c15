"""The legacy Télépoints account export (contract section 2): reading it line by line and
turning each line into either a legacy account or a rejection with its reason."""
