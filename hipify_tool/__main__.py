"""``python -m hipify_tool`` is the ``hipify-tool`` command."""

from .entry import main

if __name__ == "__main__":
    main()
