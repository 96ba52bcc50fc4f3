import torch
from torch import nn
def block(ci, co, p, d2=True, pad=0):
    return nn.Sequential(nn.Conv2d(ci, co, 3, padding=pad, bias=False), nn.ReLU(), nn.BatchNorm2d(co),
                         (nn.Dropout2d(p) if d2 else nn.Dropout(p)) if p > 0 else nn.Identity())
class ANet(nn.Module):
    def __init__(self, spec, p=0.05, d2=True):
        super().__init__()
        layers, c = [], 1
        for s in spec:
            if s == "M": layers.append(nn.MaxPool2d(2))
            elif isinstance(s, str) and s.startswith("s"):
                layers.append(nn.Conv2d(c, int(s[1:]), 1, bias=False)); c = int(s[1:])
            elif isinstance(s, str) and s.startswith("P"):  # padded conv
                layers.append(block(c, int(s[1:]), p, d2, 1)); c = int(s[1:])
            else:
                layers.append(block(c, s, p, d2)); c = s
        self.features = nn.Sequential(*layers)
        self.head = nn.Conv2d(c, 10, 1, bias=False)
    def forward(self, x):
        return self.head(self.features(x).mean((2, 3), keepdim=True)).flatten(1)
def nparams(m): return sum(p.numel() for p in m.parameters())
SPECS = {
 "default": [8,12,14,"s8","M",12,16,16],
 "pool2":   [8,12,"M",14,16,16,16],
 "pool2b":  [8,12,"s8","M",14,16,16,18],
 "pool2c":  [8,10,"M",12,16,16,16,16],
 "pool1":   [10,"M",14,16,16,16,16],
 "p2pad":   [8,12,"M","P14",16,16,16,16],
}
if __name__ == "__main__":
    for k, s in SPECS.items():
        m = ANet(s); x = torch.zeros(2,1,28,28)
        print(k, nparams(m), m.features(x).shape)
