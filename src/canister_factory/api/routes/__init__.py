"""One router per resource; each route parses, calls one ``Factory`` method, and formats."""
