"""SPINN progressive inference: early-exit ResNet, device/server splits, joint training.

Importing the package registers the ``spinn-resnet`` and ``spinn-vgg`` families.
"""

from models.spinn.exits import EXIT_TARGETS, FINAL, ExitHead, SpinnNet, place_exits
from models.spinn.family import SpinnFamily, SpinnResNet, SpinnVGG
from models.spinn.network import SCALES, ResNetBackbone, ResNetConfig
from models.spinn.policy import accuracy_at, exit_index, exit_rates
from models.spinn.split import Prefix, Suffix

__all__ = [
    "EXIT_TARGETS",
    "FINAL",
    "SCALES",
    "ExitHead",
    "Prefix",
    "ResNetBackbone",
    "ResNetConfig",
    "SpinnNet",
    "SpinnFamily",
    "SpinnResNet",
    "SpinnVGG",
    "Suffix",
    "accuracy_at",
    "exit_index",
    "exit_rates",
    "place_exits",
]
