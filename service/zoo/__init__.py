"""Torch only: the networks, preprocessing, losses and the PCA baseline (no web, no SQL).

Import from the modules (service.zoo.serving, service.zoo.build, ...): the package itself
imports nothing, so that `service.zoo.spec` (pydantic alone) costs the CLI's client
commands no torch import (1.1 s)."""
