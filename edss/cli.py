"""The ``edss`` command line: the whole encrypted EDSS workflow, from data to report.

Run ``edss --help`` or ``edss COMMAND --help``.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from edss.errors import DataError

log = logging.getLogger("edss")

EXAMPLES = """examples:
  edss demo --out demo-report            # built-in sample, whole path, under 3 minutes
  edss evaluate --data ../shared/data/lesjak2017 --out lesjak-report
  edss train --data ../shared/data/lesjak2017 --model edss.pt
  edss predict --model edss.pt --images slices/ --clinical clinical.csv --out predictions
  edss keygen --model edss.pt --out client          # hospital: plan, keys, secret key
  edss encrypt --client client --images slices/ --out request.bin
  edss infer --plan client/plan.bin --keys client/evaluation_keys.bin \\
      --in request.bin --out response.bin                # server side
  edss decrypt --client client --in response.bin --index request.bin.json --out predictions.csv
"""


def _at_least(minimum: int):
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def _load_cohort(data: str | None, image_size: int, slices: int):
    """The cohort at ``data`` (Lesjak, MS60 folder or slice folder), or the built-in sample."""
    from edss.sample import DATA_NOTE, load_sample

    if data is None:
        cohort, volumes = load_sample()
        return cohort, volumes, DATA_NOTE
    root = Path(data)
    if (root / "patient_info.csv").exists() and (root / "mni").is_dir():
        from edss.data.lesjak import load_lesjak
        from edss.sample import lesion_volumes

        cohort = load_lesjak(
            root, image_size=image_size, slices_per_patient=slices, selection="lesion"
        )
        volumes = lesion_volumes(root, [p.patient_id for p in cohort.patients])
        note = f"Lesjak et al. 2018 MS dataset at {root} (lesion-mask slices, CC-BY)"
        return cohort, volumes, note
    if any(root.glob("Patient-*")):
        from edss.data.ms60 import load_ms60_folder

        cohort = load_ms60_folder(root, image_size=image_size, slices_per_patient=slices)
        return cohort, None, f"MS60 dataset folder at {root} (Muslim et al. 2022, CC BY 4.0)"
    from edss.data.slices import load_slice_folder

    cohort = load_slice_folder(root, image_size=image_size)
    return cohort, None, f"slice folder {root}"


def _command_evaluate(args, demo: bool = False) -> int:
    from edss.pipeline import evaluate_cohort

    start = time.perf_counter()
    cohort, volumes, note = _load_cohort(args.data, 32, args.slices)
    print(f"data: {note}")
    if demo and args.data is None:
        print("       (a small derived sample of real MS data, shipped in the package)")
    results, html, metrics = evaluate_cohort(
        cohort,
        volumes,
        args.out,
        task=args.task,
        folds=args.folds,
        epochs=args.epochs,
        seed=args.seed,
        encrypted_limit=args.encrypted_patients,
        progress=not args.quiet,
        title="edss demo: encrypted EDSS grading" if demo else "edss evaluate",
        data_note=note,
        n_boot=args.bootstrap,
    )
    _print_summary(results)
    print(f"report: {html}\nmetrics: {metrics}\ntotal time: {time.perf_counter() - start:.1f} s")
    return 0


def _print_summary(results: dict) -> None:
    def line(name, block):
        parts = []
        for key in ("accuracy", "balanced_accuracy", "macro_f1", "auc"):
            value = block.get(key)
            if isinstance(value, dict) and value.get("value") is not None:
                low, high = value.get("low"), value.get("high")
                interval = f" [{low:.2f}, {high:.2f}]" if low is not None else ""
                parts.append(f"{key} {value['value']:.2f}{interval}")
        print(f"  {name:<12s} " + ", ".join(parts))

    print("metrics by patient (95% bootstrap intervals):")
    for name, block in results["metrics"].items():
        line(name, block)
    for name, block in results["baselines"].items():
        line(f"baseline {name}", block)
    agree = results.get("agreement") or {}
    if agree:
        print(f"  encrypted vs plaintext: {agree}")
    parameters = results.get("parameters") or {}
    if parameters:
        print(f"  CKKS: {parameters}")


def _command_train(args) -> int:
    from edss.storage import save_model
    from edss.training import slice_data, train_model

    cohort, _, note = _load_cohort(args.data, 32, args.slices)
    cohort = cohort.with_edss()
    data = slice_data(cohort.patients, cohort.feature_names, args.task, range(len(cohort.patients)))
    model = train_model(
        data,
        len(cohort.feature_names),
        args.task,
        epochs=args.epochs,
        seed=args.seed,
        progress=not args.quiet,
    )
    save_model(model, args.model, cohort.feature_names)
    print(f"trained on {len(cohort.patients)} patients ({note}); model written to {args.model}")
    return 0


def _slices_and_clinical(args, feature_names, image_size):
    from edss.data.slices import load_slice_folder

    cohort = load_slice_folder(args.images, image_size=image_size, clinical=args.clinical)
    images, clinical, rows = [], [], []
    for patient in cohort.patients:
        features = [patient.clinical.get(name, 0.0) for name in feature_names]
        for k, image in enumerate(patient.slices):
            images.append(image[None])
            clinical.append(features)
            name = patient.slice_names[k] if k < len(patient.slice_names) else str(k)
            rows.append({"file": name, "patient": patient.patient_id, "edss": patient.edss})
    import torch

    return (
        torch.tensor(np.array(images), dtype=torch.float32),
        torch.tensor(np.array(clinical), dtype=torch.float32),
        rows,
        cohort,
    )


def _label(output, task: str):
    from edss.metrics import CLASS_NAMES

    if task == "regression":
        return f"EDSS {float(output[0]):.1f}"
    return CLASS_NAMES[task][int(np.argmax(output))]


def _command_predict(args) -> int:
    from edss.encrypted import compile_model, run_encrypted
    from edss.report import write_report
    from edss.storage import load_model

    model, features = load_model(args.model)
    images, clinical, rows, cohort = _slices_and_clinical(
        args, features, model.config["image_size"]
    )
    compiled = compile_model(model, images, clinical)
    run = run_encrypted(compiled, model, images, clinical, progress=not args.quiet)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    task = model.config["task"]
    table = out / "predictions.csv"
    with open(table, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["file", "patient", "plaintext_output", "encrypted_output", "label"])
        for row, plain, encrypted in zip(rows, run.plain_outputs, run.outputs, strict=True):
            writer.writerow(
                [
                    row["file"],
                    row["patient"],
                    json.dumps(plain.round(6).tolist()),
                    json.dumps(encrypted.round(6).tolist()),
                    _label(encrypted, task),
                ]
            )
    from edss.metrics import agreement

    results = {
        "title": "edss predict",
        "data_note": f"images from {args.images}",
        "task": task,
        "classes": [],
        "metrics": {},
        "baselines": {},
        "agreement": agreement(
            run.plain_outputs.argmax(1), run.outputs.argmax(1), run.plain_outputs, run.outputs
        ),
        "patients": [],
        "layers": run.layers,
        "slices": [
            {
                "patient": r["patient"],
                "slice": r["file"],
                "plain_logits": p.tolist(),
                "encrypted_logits": e.tolist(),
            }
            for r, p, e in zip(rows, run.plain_outputs, run.outputs, strict=True)
        ],
        "parameters": {
            "ring_degree": compiled.params.ring_degree,
            "moduli_bits": list(compiled.params.moduli_bits),
            "special_moduli_bits": list(compiled.params.special_moduli_bits),
            "depth": compiled.depth,
            "rotation_keys": len(compiled.rotation_steps),
            "key_bytes": int(compiled.key_bytes),
        },
        "timings": run.timings,
        "notes": cohort.notes,
    }
    html, metrics = write_report(out, results)
    print(f"{len(rows)} images; predictions: {table}\nreport: {html}\nmetrics: {metrics}")
    return 0


def _command_keygen(args) -> int:
    import henn
    from edss.encrypted import compile_model
    from edss.storage import load_model

    model, features = load_model(args.model)
    if args.images:
        images, clinical, _, _ = _slices_and_clinical(args, features, model.config["image_size"])
    else:
        from edss.training import slice_data

        cohort, _, _ = _load_cohort(None, 32, 8)
        data = slice_data(
            cohort.patients, features, model.config["task"], range(len(cohort.patients))
        )
        images, clinical = data.images, data.clinical
    compiled = compile_model(model, images, clinical)
    client = henn.Client(compiled, progress=not args.quiet)
    client.save(args.out)
    # The hospital side keeps the model's feature order and task to read clinical CSVs and to
    # label decrypted outputs; the server never needs this file.
    Path(args.out, "features.json").write_text(
        json.dumps({"features": features, "task": model.config["task"]}, indent=1)
    )
    print(
        f"{compiled.summary()}\nwrote {args.out}/plan.bin and evaluation_keys.bin (for the "
        f"server) and {args.out}/secret.key (owner-only: it never leaves the hospital)"
    )
    return 0


def _command_encrypt(args) -> int:
    import henn
    from ckks.serialization import write_atomically

    client = henn.Client.load(args.client)
    shapes = client.plan.input_shapes
    features = _client_features(args.client)["features"]
    images, clinical, rows, cohort = _slices_and_clinical(args, features, shapes[0][-1])
    for note in cohort.notes:
        print(f"note: {note}")
    if not args.clinical:
        print("note: no --clinical CSV: every clinical feature is 0 for these slices")
    write_atomically(args.out, client.encrypt(images, clinical).to_bytes())
    Path(str(args.out) + ".json").write_text(json.dumps(rows, indent=1))
    print(f"encrypted {len(rows)} slices into {args.out} (index: {args.out}.json)")
    return 0


def _client_features(folder) -> dict:
    path = Path(folder, "features.json")
    try:
        content = json.loads(path.read_text())
        return {"features": list(content["features"]), "task": str(content["task"])}
    except (OSError, ValueError, KeyError, TypeError):
        raise DataError.about(
            path, "the features.json written by `edss keygen`", "nothing readable"
        ) from None


def _command_infer(args) -> int:
    import henn
    from ckks.serialization import write_atomically
    from henn.plan import Plan

    plan = Plan.from_bytes(Path(args.plan).read_bytes())
    server = henn.Server(plan, Path(args.keys).read_bytes(), progress=not args.quiet)
    write_atomically(args.out, server.run(Path(getattr(args, "in")).read_bytes()))
    print(f"server: wrote encrypted outputs to {args.out}")
    return 0


def _command_decrypt(args) -> int:
    import henn

    client = henn.Client.load(args.client)
    task = _client_features(args.client)["task"]
    outputs = client.decrypt(Path(getattr(args, "in")).read_bytes()).numpy()
    rows = [{}] * len(outputs)
    if args.index:
        rows = json.loads(Path(args.index).read_text())
        if len(rows) != len(outputs):
            raise DataError.about(
                args.index,
                f"an index of {len(outputs)} rows (one per decrypted output)",
                f"{len(rows)} rows",
                "pass the index written with this request",
            )
    with open(args.out, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["file", "patient", "encrypted_output", "label"])
        for row, output in zip(rows, outputs, strict=True):
            writer.writerow(
                [
                    row.get("file", ""),
                    row.get("patient", ""),
                    json.dumps(output.round(6).tolist()),
                    _label(output, task),
                ]
            )
    print(f"decrypted {len(outputs)} outputs into {args.out}")
    return 0


def _command_report(args) -> int:
    from edss.report import load_results, write_report

    html, metrics = write_report(args.out, load_results(args.metrics))
    print(f"report: {html}\nmetrics: {metrics}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edss",
        description="Encrypted EDSS grading of multiple sclerosis from an MRI slice and clinical "
        "data: the server computes on CKKS ciphertexts and never sees the data.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log every compiler pass and encrypted layer (level, time)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p, data=True, out_required=True):
        if data:
            p.add_argument(
                "--data",
                help="data folder: the Lesjak 2017 set, the MS60 folder "
                "layout, or a folder of slices; default: the built-in sample",
            )
        p.add_argument(
            "--task",
            default="binary",
            choices=["binary", "three_class"],
            help="binary: EDSS < 3 vs ≥ 3; three_class: < 3, 3–5.5, ≥ 6",
        )
        p.add_argument(
            "--epochs", type=_at_least(1), default=60, help="training epochs (default 60)"
        )
        p.add_argument(
            "--seed", type=int, default=0, help="random seed of splits and training (default 0)"
        )
        p.add_argument(
            "--slices", type=_at_least(1), default=8, help="slices per patient (default 8)"
        )
        p.add_argument("--quiet", action="store_true", help="no progress bars")

    def evaluation_options(p, encrypted: int, encrypted_help: str, bootstrap: int) -> None:
        p.add_argument("--folds", type=_at_least(2), default=3, help="patient folds (default 3)")
        p.add_argument(
            "--encrypted-patients", type=_at_least(-1), default=encrypted, help=encrypted_help
        )
        p.add_argument(
            "--bootstrap",
            type=_at_least(10),
            default=bootstrap,
            help=f"bootstrap resamples for the intervals (default {bootstrap})",
        )

    demo = sub.add_parser(
        "demo",
        help="the whole path on the built-in sample (or --data)",
        description="Train a small model, compile it, make keys, encrypt the "
        "held-out patients, evaluate on the server role, decrypt, and write "
        "report.html and metrics.json. Example: edss demo --out demo-report",
    )
    common(demo)
    demo.add_argument("--out", default="edss-demo", help="report folder (default edss-demo)")
    evaluation_options(demo, 6, "held-out patients run encrypted (default 6; all: -1)", 500)
    demo.set_defaults(handler=lambda a: _command_evaluate(a, demo=True))

    evaluate = sub.add_parser(
        "evaluate",
        help="cross-validate and run every held-out patient encrypted; write the report",
        description="Example: edss evaluate --data ../shared/data/lesjak2017 --out report",
    )
    common(evaluate)
    evaluate.add_argument("--out", required=True, help="report folder")
    evaluation_options(
        evaluate, -1, "how many held-out patients to run encrypted (default all)", 1000
    )
    evaluate.set_defaults(handler=_command_evaluate)

    train = sub.add_parser(
        "train",
        help="train the hybrid model on all patients",
        description="Example: edss train --model edss.pt",
    )
    common(train)
    train.add_argument("--model", required=True, help="where to write the model")
    train.set_defaults(handler=_command_train)

    predict = sub.add_parser(
        "predict",
        help="both roles in one process on a folder of slices",
        description="Example: edss predict --model edss.pt --images "
        "slices/ --clinical clinical.csv --out predictions",
    )
    predict.add_argument("--model", required=True, help="model written by `edss train`")
    predict.add_argument(
        "--images", required=True, help="folder of PNG/JPEG slices named PATIENT_anything.png"
    )
    predict.add_argument("--clinical", help="CSV with a patient column and clinical features")
    predict.add_argument("--out", required=True, help="folder for predictions.csv and the report")
    predict.add_argument("--quiet", action="store_true", help="no progress bars")
    predict.set_defaults(handler=_command_predict)

    keygen = sub.add_parser(
        "keygen",
        help="hospital: compile, make keys, write plan and keys",
        description="Example: edss keygen --model edss.pt --out client",
    )
    keygen.add_argument("--model", required=True, help="model written by `edss train`")
    keygen.add_argument("--images", help="slices for range calibration (default: the sample)")
    keygen.add_argument("--clinical", help="clinical CSV for the calibration slices")
    keygen.add_argument("--out", required=True, help="client folder")
    keygen.add_argument("--quiet", action="store_true", help="no progress bars")
    keygen.set_defaults(handler=_command_keygen)

    encrypt = sub.add_parser(
        "encrypt",
        help="hospital: encrypt slices for the server",
        description="Example: edss encrypt --client client --images slices/ --out request.bin",
    )
    encrypt.add_argument("--client", required=True, help="folder written by `edss keygen`")
    encrypt.add_argument(
        "--images", required=True, help="folder of PNG/JPEG slices named PATIENT_anything.png"
    )
    encrypt.add_argument(
        "--clinical",
        help="CSV: a patient column and the model's clinical "
        "features by name (see the client folder's features.json)",
    )
    encrypt.add_argument(
        "--out",
        required=True,
        help="request file for the server; an index OUT.json (file and "
        "patient names) stays with the hospital",
    )
    encrypt.set_defaults(handler=_command_encrypt)

    infer = sub.add_parser(
        "infer",
        help="server: plan + evaluation keys + ciphertexts in, ciphertexts out",
        description="Example: edss infer --plan "
        "client/plan.bin --keys client/evaluation_keys.bin --in request.bin "
        "--out response.bin",
    )
    infer.add_argument("--plan", required=True, help="plan.bin from the hospital")
    infer.add_argument("--keys", required=True, help="evaluation_keys.bin from the hospital")
    infer.add_argument("--in", required=True, help="request file written by `edss encrypt`")
    infer.add_argument("--out", required=True, help="response file for the hospital")
    infer.add_argument("--quiet", action="store_true", help="no progress bars")
    infer.set_defaults(handler=_command_infer)

    decrypt = sub.add_parser(
        "decrypt",
        help="hospital: decrypt the server's outputs",
        description="Example: edss decrypt --client client --in response.bin --out predictions.csv",
    )
    decrypt.add_argument("--client", required=True, help="folder written by `edss keygen`")
    decrypt.add_argument("--in", required=True, help="response file written by `edss infer`")
    decrypt.add_argument(
        "--index",
        help="the request's index (REQUEST.json written by `edss encrypt`) to name the rows",
    )
    decrypt.add_argument("--out", required=True, help="predictions CSV to write")
    decrypt.set_defaults(handler=_command_decrypt)

    report = sub.add_parser(
        "report",
        help="rebuild report.html from metrics.json",
        description="Example: edss report --metrics out/metrics.json --out out",
    )
    report.add_argument("--metrics", required=True, help="metrics.json of an earlier run")
    report.add_argument("--out", required=True, help="folder for the new report.html")
    report.set_defaults(handler=_command_report)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(message)s",
    )
    if getattr(args, "encrypted_patients", None) == -1:
        args.encrypted_patients = None
    from ckks.errors import CkksError
    from edss.errors import EdssError
    from henn.errors import HennError

    try:
        return args.handler(args)
    except (EdssError, HennError, CkksError) as error:
        print(f"edss {args.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a file that is missing or unreadable: no traceback for that
        print(f"edss {args.command}: error: {error.strerror}: {error.filename}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
