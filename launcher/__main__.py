"""`python -m launcher`: the `rag` command, as the installed script runs it."""
from launcher import main

if __name__ == "__main__":  # not when a reader worker process is spawned
    raise SystemExit(main())
