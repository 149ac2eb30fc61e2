"""coursekit: the helper package of *ConvNets from Scratch*.

Students import it from the notebooks:

- ``coursekit.testing``   assertion helpers whose messages say what went wrong
- ``coursekit.gradcheck`` numerical gradients and relative errors
- ``coursekit.data``      the bundled digits data set and an MNIST IDX reader
- ``coursekit.nn``        the course's reference layers (used by later notebooks)
- ``coursekit.widgets``   interactive explorers (ipywidgets) placed in the notebooks
"""

__version__ = "0.1.0"

import os as _os


def running_in_grader():
    """True while nbgrader autogrades the notebook: long demos use it to shrink themselves."""
    return _os.environ.get("NBGRADER_EXECUTION") == "autograde" or _os.environ.get("COURSEKIT_QUICK") == "1"
