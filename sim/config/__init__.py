"""Inputs: the scenario file (data model, ``--set`` overrides, YAML reading, random
workloads), plausibility warnings, and their resolution into what the engine runs
(:func:`sim.config.inputs.load_inputs`)."""
