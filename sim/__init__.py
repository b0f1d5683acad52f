"""mvsched simulator: torch-free. Profiles + scenario in, metrics out."""
