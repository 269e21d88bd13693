"""The daemon: the scheduler around the pipeline, and what a service manager needs."""
