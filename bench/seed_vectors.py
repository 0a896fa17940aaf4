"""Write the vectors of the shipped escalation seeds (prompts/escalation/) for the embedded model into
copilot/defaults/vectors, so no process embeds them at start. Run it after changing the seeds; a test
fails when the shipped file does not match the seeds."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from copilot.signals import _VECTORS, EscalationClassifier, _shared_model

OUT = Path(__file__).resolve().parent.parent / "copilot" / "defaults" / "vectors"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _VECTORS.clear()
        clf = EscalationClassifier(_shared_model(), cache_dir=Path(tmp))
        clf.base()
        OUT.mkdir(parents=True, exist_ok=True)
        for old in OUT.glob("seeds-*.npy"):
            old.unlink()
        for f in Path(tmp).glob("seeds-*.npy"):
            shutil.copy(f, OUT / f.name)
            print(f"wrote {OUT / f.name}")


if __name__ == "__main__":
    main()
