"""NestDNN (MobiCom'18): multi-capacity models by TRR pruning and freeze-&-grow."""

from models.nestdnn.family import NestDNNResNet, NestDNNVGG

__all__ = ["NestDNNResNet", "NestDNNVGG"]
