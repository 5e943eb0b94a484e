"""Names the CLI offers as choices, kept apart from the torch modules that implement them so that
building the parser imports no torch."""

CLASSIFIER_ARCHITECTURES = ("mlp", "resnet", "rknet", "odenet", "revnet")
FLOW_DATASETS = ("moons", "8gaussians", "pinwheel", "2spirals", "checkerboard", "rings")
FLOW_TARGETS = ("u1", "u2", "u3", "u4")
