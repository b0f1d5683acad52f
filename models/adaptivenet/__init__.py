"""AdaptiveNet (MobiCom'23): an elastified supernet grown from a pretrained ResNet, searched on
the device with NearbyInit/NearbyMutate and reuse-based evaluation.

Importing the package registers the ``adaptivenet-resnet`` family.
"""

from models.adaptivenet.backbone import SCALES, BackboneConfig, ResNetBackbone
from models.adaptivenet.family import SCALE_SPECS, AdaptiveNetResNet, ScaleSpec
from models.adaptivenet.prefix_tree import ReuseEvaluator, build_tree, naive_evaluate
from models.adaptivenet.search import (
    BlockTable,
    Candidate,
    SearchResult,
    crossover,
    evolve,
    fitness,
    nearby_init,
    nearby_mutate,
    pareto_pool,
)
from models.adaptivenet.space import SKIP, ElasticSpace, SubnetConfig, span
from models.adaptivenet.supernet import ElasticResNet, StaticSubnet

__all__ = [
    "SCALES",
    "SCALE_SPECS",
    "SKIP",
    "AdaptiveNetResNet",
    "BackboneConfig",
    "BlockTable",
    "Candidate",
    "ElasticResNet",
    "ElasticSpace",
    "ResNetBackbone",
    "ReuseEvaluator",
    "ScaleSpec",
    "SearchResult",
    "StaticSubnet",
    "SubnetConfig",
    "build_tree",
    "crossover",
    "evolve",
    "fitness",
    "naive_evaluate",
    "nearby_init",
    "nearby_mutate",
    "pareto_pool",
    "span",
]
