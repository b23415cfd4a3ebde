"""Training: DeePMD-kit's input.json, its loss and learning-rate schedule, checkpoints, lcurve."""
