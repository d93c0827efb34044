#!/usr/bin/env python3
"""Regenerates the small binary fixtures of MonaDataTests (IDX, gzip, WAV). Standard library only.

The gzip fixtures are made with Python's zlib (an implementation independent of ours):
stored blocks (level 0), fixed-Huffman blocks (short input), dynamic-Huffman blocks (longer text),
a two-member file, and corrupted variants.
"""
import gzip, io, struct, zlib, os

here = os.path.dirname(os.path.abspath(__file__))

def write(name, data):
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)

def gz(data, level, name=None, mtime=0):
    buf = io.BytesIO()
    with gzip.GzipFile(filename=name or "", mode="wb", compresslevel=level, fileobj=buf, mtime=mtime) as g:
        g.write(data)
    return buf.getvalue()

# --- IDX: 3 images of 2x3 uint8 pixels and their labels.
pixels = bytes([0, 51, 102, 153, 204, 255,
                255, 0, 255, 0, 255, 0,
                1, 2, 3, 4, 5, 6])
images = struct.pack(">BBBB", 0, 0, 0x08, 3) + struct.pack(">III", 3, 2, 3) + pixels
labels = struct.pack(">BBBB", 0, 0, 0x08, 1) + struct.pack(">I", 3) + bytes([9, 0, 3])
write("images-idx3-ubyte", images)
write("labels-idx1-ubyte", labels)
write("images-idx3-ubyte.gz", gz(images, 9, "images-idx3-ubyte"))
write("labels-idx1-ubyte.gz", gz(labels, 9))
write("truncated-idx3-ubyte", images[:-4])
# float32 and int16 IDX arrays
write("floats-idx2", struct.pack(">BBBB", 0, 0, 0x0D, 2) + struct.pack(">II", 2, 2) + struct.pack(">ffff", 1.5, -2.0, 0.25, 1e3))
write("shorts-idx1", struct.pack(">BBBB", 0, 0, 0x0B, 1) + struct.pack(">I", 3) + struct.pack(">hhh", -300, 0, 32767))

# --- gzip variants
text = b"".join(b"line %d: the quick brown fox jumps over the lazy dog %d\n" % (i, i * i) for i in range(400))
write("text.txt", text)
write("text.txt.gz", gz(text, 9, "text.txt"))               # dynamic Huffman blocks
write("stored.gz", gz(text[:3000], 0))                      # stored blocks
write("hello.gz", gz(b"hello, hello, hello world\n", 9))    # fixed Huffman block
write("two-members.gz", gz(b"first member\n", 6) + gz(b"second member\n", 6))
good = gz(text, 9)
bad_crc = bytearray(good); bad_crc[-8] ^= 0xFF
write("bad-crc.gz", bytes(bad_crc))
write("truncated.gz", good[: len(good) // 2])
bad_magic = bytearray(good); bad_magic[1] = 0x8C
write("bad-magic.gz", bytes(bad_magic))
corrupt = bytearray(good); corrupt[10] = (corrupt[10] & 0xF9) | 0x06  # block type 3 (reserved)
write("bad-block.gz", bytes(corrupt))

# --- WAV: 16-bit stereo at 8 kHz, 5 frames, with a LIST chunk of odd size (padded) before the data.
def chunk(tag, body):
    return tag + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")
frames = [(0, 32767), (16384, -32768), (-16384, 0), (1, -1), (32767, 8192)]
pcm = b"".join(struct.pack("<hh", l, r) for l, r in frames)
fmt = struct.pack("<HHIIHH", 1, 2, 8000, 8000 * 4, 4, 16)
body = b"WAVE" + chunk(b"fmt ", fmt) + chunk(b"LIST", b"INFOabc") + chunk(b"data", pcm)
wav = b"RIFF" + struct.pack("<I", len(body)) + body
write("stereo16.wav", wav)
# data chunk declaring more bytes than present (RIFF size consistent with the file)
bad_body = b"WAVE" + chunk(b"fmt ", fmt) + b"data" + struct.pack("<I", 400) + pcm
write("truncated-chunk.wav", b"RIFF" + struct.pack("<I", len(bad_body)) + bad_body)
# 8-bit mono float-free check: 3 samples
fmt8 = struct.pack("<HHIIHH", 1, 1, 16000, 16000, 1, 8)
body8 = b"WAVE" + chunk(b"fmt ", fmt8) + chunk(b"data", bytes([128, 255, 0]))
write("mono8.wav", b"RIFF" + struct.pack("<I", len(body8)) + body8)
