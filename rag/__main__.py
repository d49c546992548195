from rag.cli import main

if __name__ == "__main__":  # not when a reader worker process is spawned
    raise SystemExit(main())
