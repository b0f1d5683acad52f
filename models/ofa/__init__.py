"""Once-for-all (Cai et al., ICLR 2020): MobileNetV3 supernet, progressive shrinking,
accuracy predictor, latency lookup table and evolutionary specialisation (family ``ofa-mbv3``)."""

from models.ofa.family import OFAFamily

__all__ = ["OFAFamily"]
