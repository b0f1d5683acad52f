"""Real execution of a simulated run on this machine (``mvsched emulate``), to measure how
far the simulator's predictions are from reality."""

from models.emulate.run import EmulationResult, emulate
from models.emulate.schedule import EmulationError

__all__ = ["EmulationError", "EmulationResult", "emulate"]
