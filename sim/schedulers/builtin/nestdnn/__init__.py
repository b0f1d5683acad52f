"""NestDNN: the MinTotalCost and MinMaxCost schedulers (:mod:`.scheduler`), the cost model they
share (:mod:`.problem`) and its exact (:mod:`.exact`), greedy (:mod:`.greedy`) and ILP solvers.

Importing the package registers both schedulers."""

from sim.schedulers.builtin.nestdnn import scheduler as scheduler
