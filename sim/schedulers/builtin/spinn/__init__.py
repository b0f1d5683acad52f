"""SPINN: the scheduler (:mod:`.scheduler`), which picks a split point and an exit threshold
per app under hard constraints and soft objectives, and the model of each configuration's
latency, throughput, accuracy and server cost it optimises over (:mod:`.offload_model`).

Importing the package registers the scheduler."""

from sim.schedulers.builtin.spinn import scheduler as scheduler
