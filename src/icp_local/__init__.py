"""The local IC: an in-process emulator of an Internet Computer subnet."""
