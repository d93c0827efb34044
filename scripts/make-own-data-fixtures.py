#!/usr/bin/env python3
"""Writes the tiny "your own data" fixtures under Tests/Fixtures/own-data (standard library only, seeded).

One small task per format of docs/own-data.md: a numeric series CSV, a peptide-style sequence CSV, a DNA FASTA,
a folder of class folders of WAV clips, an .npy pair and an IDX pair. Re-running gives identical files.
"""
import math
import os
import random
import struct
import wave

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "own-data")
rng = random.Random(16)


def path(*parts):
    p = os.path.join(ROOT, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def wave_row(cls, length=16):
    # Class "sine": one period of a sine; class "ramp": a rising line; both with a little noise.
    return [(math.sin(2 * math.pi * t / length) if cls == "sine" else 2 * t / (length - 1) - 1) + rng.gauss(0, 0.1)
            for t in range(length)]


def series_csv():
    with open(path("sensors.csv"), "w") as f:
        f.write(",".join(f"t{t}" for t in range(16)) + ",label\n")
        for i in range(32):
            cls = "sine" if i % 2 == 0 else "ramp"
            values = [f"{v:.3f}" for v in wave_row(cls)]
            if i == 5:
                values[7] = ""  # one missing reading, filled by interpolation
            f.write(",".join(values) + f",{cls}\n")


def sequence_csv():
    # "AMP-like" peptides rich in K/R/L, "other" ones rich in D/E/S/G.
    with open(path("peptides.csv"), "w") as f:
        f.write("sequence,label\n")
        for i in range(32):
            amp = i % 2 == 0
            pool = "KRLLAKKLRW" if amp else "DESGGTNQDE"
            n = rng.randint(8, 20)
            f.write("".join(rng.choice(pool) for _ in range(n)) + ("," + ("1" if amp else "0")) + "\n")


def fasta():
    # GC-rich genes of family "alpha", AT-rich of family "beta"; the family is the second '|' field.
    with open(path("genes.fasta"), "w") as f:
        for i in range(32):
            fam = "alpha" if i % 2 == 0 else "beta"
            pool = "GGCCGCAT" if fam == "alpha" else "AATTATGC"
            seq = "".join(rng.choice(pool) for _ in range(rng.randint(30, 48)))
            f.write(f">gene{i}|{fam}|sample\n{seq[:30]}\n{seq[30:]}\n")


def wav_folder():
    rate = 8000
    for cls, freq in (("high", 1500.0), ("low", 300.0)):
        for k in range(6):
            n = int(rate * (0.12 + 0.02 * k))
            f0 = freq * (1 + 0.05 * (k - 2.5) / 2.5)
            samples = [0.5 * math.sin(2 * math.pi * f0 * t / rate) + rng.gauss(0, 0.02) for t in range(n)]
            with wave.open(path("words", cls, f"{cls}{k}.wav"), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(rate)
                w.writeframes(b"".join(struct.pack("<h", max(-32767, min(32767, int(s * 32767)))) for s in samples))


def npy(name, shape, values, dtype):
    descr, fmt = {"f4": ("<f4", "<f"), "i8": ("<i8", "<q")}[dtype]
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else ""))
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    with open(path("arrays", name), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(b"".join(struct.pack(fmt, v) for v in values))


def npy_pair():
    for split, count in (("train", 24), ("test", 8)):
        xs, ys = [], []
        for i in range(count):
            cls = i % 2
            xs += wave_row("sine" if cls == 0 else "ramp")
            ys.append(cls)
        npy(f"X_{split}.npy", (count, 16), xs, "f4")
        npy(f"y_{split}.npy", (count,), ys, "i8")


def idx_pair():
    # 8×8 images: class 0 a vertical bar, class 1 a horizontal bar, with noise.
    for prefix, count in (("train", 24), ("t10k", 8)):
        images, labels = bytearray(), bytearray()
        for i in range(count):
            cls = i % 2
            at = rng.randint(2, 5)
            for r in range(8):
                for c in range(8):
                    on = (c == at) if cls == 0 else (r == at)
                    images.append(max(0, min(255, (220 if on else 20) + rng.randint(-20, 20))))
            labels.append(cls)
        with open(path("images", f"{prefix}-images-idx3-ubyte"), "wb") as f:
            f.write(bytes([0, 0, 8, 3]) + struct.pack(">III", count, 8, 8) + images)
        with open(path("images", f"{prefix}-labels-idx1-ubyte"), "wb") as f:
            f.write(bytes([0, 0, 8, 1]) + struct.pack(">I", count) + labels)


if __name__ == "__main__":
    series_csv()
    sequence_csv()
    fasta()
    wav_folder()
    npy_pair()
    idx_pair()
