"""Use cases: one function per factory method, over a store and an IC port. ``Factory`` is the facade."""
