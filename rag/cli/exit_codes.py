"""The `rag` command's exit codes: 0 done; 1 done, but some files failed (or some
claims are unsupported, for `rag check`); 2 error; 130 interrupted."""

EXIT_OK, EXIT_PARTIAL, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130
