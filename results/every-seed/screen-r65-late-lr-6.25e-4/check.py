"""Round 65, part B (a record, run once): which seeds the cap bound on (part A's rate at epoch 13 above 6.25e-4),
and whether the others came out identical to part A's runs (every epoch's losses, accuracies and rate).

    python results/every-seed/screen-r65-late-lr-6.25e-4/check.py results/every-seed/fresh-681-700-bf16-amx results/every-seed/screen-r65-late-lr-6.25e-4
"""
import json, sys
from pathlib import Path
A, B = Path(sys.argv[1]), Path(sys.argv[2])
keys = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "lr")
for pb in sorted(B.glob("seed-*.json"), key=lambda p: int(p.stem[5:])):
    a, b = (json.loads((d / pb.name).read_text()) for d in (A, B))
    bound = a["epochs"][12]["lr"] > 6.25e-4
    same = all(ea[k] == eb[k] for ea, eb in zip(a["epochs"], b["epochs"]) for k in keys)
    la, lb = [e["test_acc"] for e in a["epochs"][-3:]], [e["test_acc"] for e in b["epochs"][-3:]]
    print(f"{pb.stem}: rate at epoch 13 {a['epochs'][12]['lr']:.3g}, cap {'binds' if bound else 'never binds'}; "
          f"identical to part A: {same}; A {la} -> B {lb}; rates B {[e['lr'] for e in b['epochs'][-3:]]}")
