"""Sales feedback as a training feature, measured: the synthetic company of
``tests/predict/synthetic.py`` with ``write_feedback``'s dated verdicts, ``leadscore evaluate``
with the feedback and with ``--drop "sales feedback"``, through the CLI only.

    python bench/feedback.py --leads 3000 --seeds 3

Prints each run's ROC AUC of the default model, the member it chose, and the report's
agreement with the verdicts given after the cut-offs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.predict import synthetic

DEFAULT = "default model (chosen by validation)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=3000)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    leadscore = [sys.executable, "-m", "leadscore"]
    root = Path(tempfile.mkdtemp(prefix="leadscore-feedback-"))
    try:
        run = {"cwd": root, "check": True, "capture_output": True}
        subprocess.run([*leadscore, "init"], **run)  # type: ignore[call-overload]
        files = synthetic.write(root, leads=args.leads)
        for kind, path in (
            ("leads", files.leads),
            ("events", files.events),
            ("outcomes", files.outcomes),
            ("feedback", synthetic.write_feedback(root, files)),
        ):
            subprocess.run([*leadscore, "import", kind, str(path)], **run)  # type: ignore[call-overload]
        found: dict[str, list[float]] = {"with": [], "without": []}
        for seed in range(args.seeds):
            for label, drop in (("with", []), ("without", ["--drop", "sales feedback"])):
                out = root / f"seed{seed}-{label}"
                command = ["evaluate", "--snapshots", "6", "--seed", str(seed)]
                subprocess.run([*leadscore, *command, "--output-dir", str(out), *drop], **run)  # type: ignore[call-overload]
                report = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
                model = report["models"][DEFAULT]
                heard = report["sales_feedback"]
                found[label].append(model["roc_auc"])
                print(
                    f"seed {seed} {label} the feedback: ROC AUC {model['roc_auc']:.4f} "
                    f"({model['chosen']}); agreement {heard['agreement']:.3f} of "
                    f"{heard['verdicts']} later verdicts",
                    flush=True,
                )
        for label, values in found.items():
            print(f"median ROC AUC {label} the feedback: {statistics.median(values):.4f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
