"""SimPy world: device, link, server, app frame streams, monitors."""
