"""Running notebooks per client: the batch runner, warm kernels, manifests, locks, HTML export, history, terminal output."""
