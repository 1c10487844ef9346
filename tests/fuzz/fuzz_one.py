"""Coverage-guided fuzzing of one target with atheris (libFuzzer), in its own process.

    python tests/fuzz/fuzz_one.py TARGET [libFuzzer flags] CORPUS_DIR [SEED_DIR...]

Redress's modules are instrumented, so inputs that reach new branches of its parsers are kept
and mutated further. Run by tests/fuzz/run.py, which sets the flags and reads the result.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

with atheris.instrument_imports(include=["redress"]):
    from tests.fuzz.targets import TARGETS


def main() -> None:
    """Fuzz the target named first on the command line (the rest goes to libFuzzer)."""
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target.check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
