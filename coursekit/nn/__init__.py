"""The course's reference layers, in NumPy.

Each graded function of the notebooks has its reference here, with the same
name and signature; the hidden tests compare against these, and these are
checked against PyTorch on recorded golden data (``tests/golden``).
"""

from .conv import *      # noqa: F401,F403  notebooks 01, 03
from .linear import *    # noqa: F401,F403  notebook 02
from .pooling import *   # noqa: F401,F403  notebook 04
from .norm import *      # noqa: F401,F403  notebook 05
from .init import *      # noqa: F401,F403  notebook 06
from .optim import *     # noqa: F401,F403  notebook 07
from .arch import *      # noqa: F401,F403  notebook 08
