"""Accuracy screen of candidate networks, many seeds, several processes sharing one GPU."""
import json, os, sys, time, multiprocessing as mp
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))  # the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch
from torch import nn

CANDS = {  # name: (spec, dropout, dropout2d, bf16)
    "A-d":    ([8,12,14,"s8","M",12,16,16], 0.05, False, False),
    "A-2d":   ([8,12,14,"s8","M",12,16,16], 0.05, True, False),
    "A-0":    ([8,12,14,"s8","M",12,16,16], 0.0, True, False),
    "D-2d":   ([10,"M",12,14,16,16], 0.05, True, False),
    "D-0":    ([10,"M",12,14,16,16], 0.0, True, False),
    "G-2d":   ([10,"M",14,14,16,16], 0.05, True, False),
    "B-2d":   ([8,12,"M",12,12,14,16], 0.05, True, False),
    "D-2d-bf":([10,"M",12,14,16,16], 0.05, True, True),
    "G-2d-bf":([10,"M",14,14,16,16], 0.05, True, True),
    "H-2d":   ([8,"M",12,14,16,16], 0.05, True, False),
    "D-d":    ([10,"M",12,14,16,16], 0.05, False, False),
}
ORDER = [("A-d", 6), ("A-2d", 6), ("D-2d", 10), ("G-2d", 10), ("A-0", 6), ("D-0", 8), ("B-2d", 6),
         ("D-2d-bf", 8), ("G-2d-bf", 8), ("H-2d", 8), ("D-d", 8)]

class BF16(nn.Module):
    def __init__(self, m):
        super().__init__(); self.m = m
    def forward(self, x):
        with torch.autocast(x.device.type, dtype=torch.bfloat16):
            return self.m(x).float()

def job(args):
    name, seed, out, kw = args
    import utils
    from arch import ANet
    torch.set_num_threads(1)
    spec, p, d2, bf = CANDS[name]
    cfg = utils.Config(seed=seed, device=kw.get("device", "cuda"), data_dir=kw.get("data_dir", "data"),
                       epochs=kw.get("epochs", 15), train_subset=kw.get("train_subset"))
    torch.manual_seed(seed)
    net = ANet(spec, p, d2)
    if bf: net = BF16(net)
    t = time.time()
    h = utils.fit(cfg, model=net, progress=False, log=lambda *a: None)
    accs = [r["test_acc"] for r in h["epochs"]]
    rec = {"name": name, "seed": seed, "params": h["params"], "test": accs,
           "val": [r["val_acc"] for r in h["epochs"]], "last3min": min(accs[-3:]), "final": accs[-1],
           "s": round(time.time() - t, 1)}
    with open(out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    return rec

if __name__ == "__main__":
    out = sys.argv[1]; procs = int(sys.argv[2]); kw = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    jobs = []
    maxn = max(n for _, n in ORDER)
    for s in range(1, maxn + 1):  # round-robin over candidates so partial results cover all of them
        for name, n in ORDER:
            if s <= n: jobs.append((name, s, out, kw))
    if "only" in kw: jobs = jobs[:kw["only"]]
    with mp.get_context("spawn").Pool(procs) as pool:
        for r in pool.imap_unordered(job, jobs):
            print(r["name"], r["seed"], r["params"], r["test"][-3:], r["s"], flush=True)
