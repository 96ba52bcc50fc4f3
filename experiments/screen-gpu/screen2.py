"""The project's own fit, default config, on CUDA: bf16 and fp32 over many seeds, 15 processes."""
import json, os, sys, time, multiprocessing as mp
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))  # the repository

def job(args):
    prec, seed, out = args
    import torch, utils
    torch.set_num_threads(1)
    cfg = utils.Config(seed=seed, device="cuda", precision=prec, compile="off")
    t = time.time()
    h = utils.fit(cfg, progress=False, log=lambda *a: None)
    accs = [r["test_acc"] for r in h["epochs"]]
    rec = {"name": "default-" + prec, "seed": seed, "params": h["params"], "test": accs,
           "val": [r["val_acc"] for r in h["epochs"]], "lr": [r["lr"] for r in h["epochs"]],
           "last3min": min(accs[-3:]), "final": accs[-1], "s": round(time.time() - t, 1)}
    with open(out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    return rec

if __name__ == "__main__":
    out = sys.argv[1]
    jobs = []
    for s in range(1, 17):
        jobs.append(("bf16", s, out))
        if s <= 14: jobs.append(("fp32", s, out))
    with mp.get_context("spawn").Pool(15) as pool:
        for r in pool.imap_unordered(job, jobs):
            print(r["name"], r["seed"], r["params"], r["test"][-3:], r["s"], flush=True)
