"""Run the hipify-tool CLI from the Python package this CMake package belongs to.

The package root is three levels up from this file in both layouts: ``<site-packages>`` for an
installed wheel (``hipify_tool/cmake/``) and the checkout for a source tree (``templates/cmake/``).
Putting it first on ``sys.path`` makes the build use the very tool its CMake files came with,
whatever else the interpreter has installed. ``--probe`` checks the environment for
``hipify_toolConfig.cmake`` and prints the keyword table of the option model it would run with.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(os.path.dirname(_HERE))
sys.path[:] = [_ROOT, *(p for p in sys.path if os.path.abspath(p or ".") != _HERE)]


def _probe() -> int:
    """Print ``version;python version;package dir`` when the tool can run here (torch included), then
    the CMake keyword table (a source checkout has no built one)."""
    import hipify_tool
    from hipify_tool import torch_adapter
    from hipify_tool.cmake_keywords import format_table
    from hipify_tool.errors import HipifyToolError

    try:
        torch_adapter.locate()
    except HipifyToolError as exc:
        print(exc, file=sys.stderr)
        return 5
    version = ".".join(str(part) for part in sys.version_info[:3])
    print(f"{hipify_tool.__version__};{version};{os.path.dirname(os.path.abspath(hipify_tool.__file__))}")
    sys.stdout.write(format_table())
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        sys.exit(_probe())
    from hipify_tool.cli import main

    main()
