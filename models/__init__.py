"""mvsched models: build, train and measure real networks into profile files (needs torch)."""
