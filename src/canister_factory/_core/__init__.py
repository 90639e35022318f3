"""The factory's core: rules and state machines, no I/O, standard library only (a test checks the imports)."""
