"""The API process imports what serving needs, not the training-time libraries: scipy.stats
(the robust score statistics, service.zoo.serving) cost it 0.4 s and 60 MB at start."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.slow  # a fresh interpreter
@pytest.mark.any_database
def test_the_app_does_not_import_training_time_libraries() -> None:
    probe = (
        "import json, sys, service.main; "
        "print(json.dumps(sorted(m for m in ('scipy.stats', 'sklearn') if m in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
