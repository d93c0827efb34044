#!/usr/bin/env python3
"""Golden WordPiece ids for Tests/Fixtures/wordpiece_golden.json (test-time only, not used at run time).

Runs Hugging Face `tokenizers` (pip install tokenizers) with BERT's uncased settings on the all-MiniLM-L6-v2
vocabulary fetched by `scripts/fetch-assets.sh bodies`, over texts chosen to exercise every rule of the Swift
tokenizer: accents, punctuation, CJK, control characters, unusual whitespace, unknown and very long words.

    python3 scripts/golden_wordpiece.py [.assets/minilm-l6/vocab.txt]
"""
import json
import sys
from pathlib import Path

from tokenizers import BertWordPieceTokenizer

ROOT = Path(__file__).resolve().parent.parent
vocab = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / ".assets/minilm-l6/vocab.txt")
tok = BertWordPieceTokenizer(vocab, lowercase=True, strip_accents=None, clean_text=True,
                             handle_chinese_chars=True)

texts = [
    "The heart rate increased sharply.",
    "A time series of sensor readings.",
    "unaffable",
    "Hello, World! How's it going?",
    "Café naïve résumé ÉCOLE Ångström",
    "São Paulo, Zürich and Kraków",
    "ECG: 72 bpm (normal); SpO2=98%",
    "e-mail: someone@example.com — see https://example.org/a_b?c=d&e=f",
    "我爱北京天安门 and 東京",
    "日本語のテキスト",
    "한국어 텍스트",
    "tab\there\nnewline\r\nCRLF\u00a0nbsp\u2003emspace",
    "zero\u200bwidth\u0007bell\u0000nul\ufffdreplacement",
    "$100 ^caret `backtick` ~tilde| {braces} [brackets] <angles>",
    "\u201cquoted\u201d \u2018single\u2019 \u00abguillemets\u00bb \u2026 \u00bfque?",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "x" * 100,
    "x" * 101,
    "ab" * 60 + " ok",
    "Ω≈ç√∫˜µ≤≥÷ emoji 😀👍🏽 symbols ™ © ®",
    "   leading and trailing spaces   ",
    "",
    "[CLS] literal special [SEP] tokens [UNK]",
    "GunPoint ArrowHead ItalyPowerDemand BasicMotions JapaneseVowels",
    "İstanbul ΣΊΣΥΦΟΣ Straße ﬁne",
]
cases = [{"text": t, "ids": tok.encode(t).ids} for t in texts]
out = ROOT / "Tests/Fixtures/wordpiece_golden.json"
out.write_text(json.dumps({
    "generator": "scripts/golden_wordpiece.py with tokenizers BertWordPieceTokenizer(lowercase=True)",
    "vocabulary": "all-MiniLM-L6-v2 vocab.txt, sha256 07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "cases": cases,
}, ensure_ascii=False, indent=1) + "\n")
print(f"wrote {len(cases)} cases to {out}")
