"""Where a new confidential code is sent: the holder's mobile number or postal address."""
