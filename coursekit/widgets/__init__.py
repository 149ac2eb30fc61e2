"""Interactive explorers for the notebooks (ipywidgets + matplotlib).

Each explorer is a function that returns a widget; put it last in a cell::

    from coursekit.widgets import conv_arithmetic_explorer
    conv_arithmetic_explorer()

Each also has a plain function that computes what it shows, for tests and for
readers who prefer numbers to pictures:

=============================  ===========================  ================
explorer                       computes                     notebook
=============================  ===========================  ================
``conv_arithmetic_explorer``   ``conv_arithmetic``          01
``im2col_explorer``            ``im2col_step``              01
``receptive_field_explorer``   ``receptive_field_trace``    08
``pooling_explorer``           ``pooling_step``             04
``norm_axes_explorer``         ``norm_axes``                05
``init_explorer``              ``init_experiment``          06
``optimizer_explorer``         ``optimizer_paths``          07
=============================  ===========================  ================

An explorer's controls are in ``explorer.controls`` (a dict), the computed
state in ``explorer.state`` and an invalid setting's message in ``explorer.error``.

The explorers speak English, or Korean in the Korean notebooks (``release --lang ko``);
``set_language("ko")`` / ``set_language("en")`` chooses for the explorers built next
(``_language`` says how the language is found otherwise).
"""

from ._language import language, set_language  # noqa: F401

from .conv import *              # noqa: F401,F403
from .receptive_field import *   # noqa: F401,F403
from .pooling import *           # noqa: F401,F403
from .norm_axes import *         # noqa: F401,F403
from .initialization import *    # noqa: F401,F403
from .optimizers import *        # noqa: F401,F403
