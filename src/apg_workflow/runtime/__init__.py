"""The runtime: workers that run jobs, the timer poller, and the wiring of one process
(:func:`open_runtime`). ``runtime.scheduling`` holds the pure schedule computations;
``runtime.local`` runs definitions in memory (``apg-workflow run``)."""
