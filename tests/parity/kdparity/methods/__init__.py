"""PyTorch formulations of KdTools' methods, by KdTools' method name: one line per method."""
from .ab import ActivationBoundary
from .at import AttentionTransfer
from .byot import Byot
from .cc import CorrelationCongruence
from .ce import CrossEntropy
from .crd import Crd
from .dih import Dih
from .dist import Dist
from .dkd import Dkd
from .fitnet import FitNet
from .fsp import Fsp
from .ft import FactorTransfer
from .kd import Kd
from .kdsvd import Kdsvd
from .mhkd import Mhkd
from .nst import NeuronSelectivity
from .ofd import Ofd
from .pkt import Pkt
from .reviewkd import ReviewKd
from .rkd import Rkd
from .sp import SimilarityPreserving
from .tofd import Tofd
from .vid import Vid

METHODS = {
    "CE": CrossEntropy,
    "KD": Kd,
    "FitNet": FitNet,
    "AT": AttentionTransfer,
    "SP": SimilarityPreserving,
    "CC": CorrelationCongruence,
    "VID": Vid,
    "RKD": Rkd,
    "PKT": Pkt,
    "AB": ActivationBoundary,
    "NST": NeuronSelectivity,
    "FT": FactorTransfer,
    "CRD": Crd,
    "DIH": Dih,
    "MHKD": Mhkd,
    "TOFD": Tofd,
    "BYOT": Byot,
    "DKD": Dkd,
    "DIST": Dist,
    "FSP": Fsp,
    "ReviewKD": ReviewKd,
    "OFD": Ofd,
    "KDSVD": Kdsvd,
}
