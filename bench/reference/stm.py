"""A small PyTorch STM (Jiang et al., ICCV 2019) written from DESIGN.md section 1, for benchmarks only.

Prints one JSON line per figure: inference clips/s (eval, no grad, one clip per batch; skipped with
--infer-clips 0) and the time of one SGD training step on a batch of clips (skipped with --train-steps 0),
with torch limited to --threads threads.
Run: /usr/bin/python3 bench/reference/stm.py --layers 3,4,6,3 --width 64 --frames 8 --size 224
On a GPU: --device cuda [--precision bf16] [--channels-last] [--infer-batch 8].
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class CMM(nn.Module):
    """Channel-wise motion: reduce to C/16, depthwise 3x3 on each frame, F'[t+1] - F[t], back to C."""

    def __init__(self, channels, frames, stride):
        super().__init__()
        reduced = channels // 16
        self.frames = frames
        self.stride = stride
        self.stage_conv = nn.Conv2d(channels, reduced, 1, bias=False)
        self.stage_bn = nn.BatchNorm2d(reduced)
        self.shift = nn.Conv2d(reduced, reduced, 3, padding=1, groups=reduced, bias=False)
        self.conv1x1 = nn.Conv2d(reduced, channels, 1, bias=False)

    def forward(self, x):
        f = self.stage_bn(self.stage_conv(x))
        nt, c, h, w = f.shape
        f = f.view(nt // self.frames, self.frames, c, h, w)
        moved = self.shift(f[:, 1:].reshape(-1, c, h, w)).view(nt // self.frames, self.frames - 1, c, h, w)
        diff = torch.cat([moved - f[:, :-1], torch.zeros_like(f[:, :1])], dim=1).view(nt, c, h, w)
        out = self.conv1x1(diff)
        return F.max_pool2d(out, 2) if self.stride == 2 else out


class STMBlock(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride, frames, downsample):
        super().__init__()
        self.frames = frames
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.shift = nn.Conv1d(planes, planes, 3, padding=1, groups=planes, bias=False)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.mb = CMM(planes, frames, stride)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = downsample
        with torch.no_grad():
            k = torch.zeros(planes, 1, 3)
            q = planes // 4
            k[:q, 0, 0] = 1
            k[q : planes - q, 0, 1] = 1
            k[planes - q :, 0, 2] = 1
            self.shift.weight.copy_(k)

    def temporal(self, x):
        nt, c, h, w = x.shape
        t = self.frames
        y = x.view(nt // t, t, c, h, w).permute(0, 3, 4, 2, 1).reshape(-1, c, t)
        y = self.shift(y)
        return y.view(nt // t, h, w, c, t).permute(0, 4, 3, 1, 2).reshape(nt, c, h, w)

    def forward(self, x):
        reduced = F.relu(self.bn1(self.conv1(x)))
        cstm = F.relu(self.bn2(self.conv2(self.temporal(reduced))))
        out = self.bn3(self.conv3(cstm + self.mb(reduced)))
        shortcut = self.downsample(x) if self.downsample is not None else x
        return F.relu(out + shortcut)


class STM(nn.Module):
    def __init__(self, layers, width, frames, classes):
        super().__init__()
        self.frames = frames
        self.conv1 = nn.Conv2d(3, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        inplanes = width
        stages = []
        for i, blocks in enumerate(layers):
            planes = width * 2**i
            stride = 1 if i == 0 else 2
            mods = []
            for b in range(blocks):
                down = None
                if b == 0:
                    down = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride=stride, bias=False), nn.BatchNorm2d(planes * 4))
                mods.append(STMBlock(inplanes, planes, stride if b == 0 else 1, frames, down))
                inplanes = planes * 4
            stages.append(nn.Sequential(*mods))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = nn.Linear(inplanes, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        frame_logits = self.fc(x.mean(dim=(2, 3)))
        return frame_logits.view(-1, self.frames, frame_logits.shape[1]).mean(dim=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", default="3,4,6,3")
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--classes", type=int, default=174)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--infer-clips", type=int, default=4)
    ap.add_argument("--train-clips", type=int, default=2)
    ap.add_argument("--train-steps", type=int, default=2)
    ap.add_argument("--infer-batch", type=int, default=1, help="clips per inference batch")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32", help="bf16: autocast to bfloat16")
    ap.add_argument("--channels-last", action="store_true", help="NHWC memory format (what GPUs are fastest with)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    layers = [int(v) for v in args.layers.split(",")]
    device = torch.device(args.device)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model = STM(layers, args.width, args.frames, args.classes).to(device, memory_format=fmt)

    def autocast():
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.precision == "bf16")

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()
    params = sum(p.numel() for p in model.parameters())
    t, s = args.frames, args.size

    common = {"threads": args.threads, "params": params, "torch": torch.__version__, "size": s, "device": args.device, "precision": args.precision, "channels_last": args.channels_last}
    if device.type == "cuda":
        common["gpu"] = torch.cuda.get_device_name(device)
    if args.infer_clips > 0:
        model.eval()
        batch = args.infer_batch
        clip = torch.randn(batch * t, 3, s, s, device=device).to(memory_format=fmt)
        runs = max(1, args.infer_clips // batch)
        with torch.no_grad(), autocast():
            model(clip)  # warm-up
            sync()
            start = time.perf_counter()
            for _ in range(runs):
                model(clip)
            sync()
            infer = runs * batch / (time.perf_counter() - start)
        print(json.dumps({"figure": "inference", "value": infer, "unit": "clips/s", "infer_batch": batch, **common}), flush=True)

    if args.train_steps > 0:
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x = torch.randn(args.train_clips * t, 3, s, s, device=device).to(memory_format=fmt)
        y = torch.randint(0, args.classes, (args.train_clips,), device=device)

        def step():
            opt.zero_grad()
            with autocast():
                loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()

        step()  # warm-up
        sync()
        times = []
        cpu = []
        for _ in range(args.train_steps):
            start, cpu_start = time.perf_counter(), time.process_time()
            step()
            sync()
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - cpu_start)
        # The best step, as the tfjs side reports its own: on a shared machine one step can take a third longer.
        # cpu_ms: CPU time of every thread of the process, a measure that a loaded machine disturbs less.
        print(json.dumps({"figure": "train step", "value": min(times) * 1000, "unit": "ms", "cpu_ms": min(cpu) * 1000, "clips": args.train_clips, **common}), flush=True)


if __name__ == "__main__":
    main()
