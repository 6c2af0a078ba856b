"""`python -m gentool` (and `torchrun -m gentool run ...`) runs the command line."""

from gentool.cli import main

if __name__ == "__main__":
    main()
