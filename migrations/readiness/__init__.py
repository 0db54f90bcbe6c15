"""The go/no-go to switch the legacy backend off, and telling the holders who still need it."""
