"""The routes: the factory's methods, built from the interface table (``methods``), and the service's own (``ops``)."""
