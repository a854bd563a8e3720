#!/usr/bin/env bash
# Installs only what is missing for building and running KdTools on Linux.
# Sourced by build.sh; every function is idempotent and quiet when nothing is to do.
set -euo pipefail

kd_need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "build.sh: $1 needs root. Run './build.sh' as root (or with sudo), or install it yourself: $2" >&2
    exit 1
  fi
}

# The Debian mirror apt already uses (the first .../debian URI of its sources), or deb.debian.org.
kd_debian_mirror() {
  local mirror
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null \
    | grep -oE 'https?://[^ ]+/debian/?( |$)' | awk 'NR == 1 {print $1}') || true
  echo "${mirror:-http://deb.debian.org/debian}"
}

# TorchSharp 0.107's native library needs GLIBCXX_3.4.32 (GCC 13's libstdc++).
# Debian 12 ships GCC 12, so take libstdc++6 from Debian 13 while bookworm stays the default release.
kd_ensure_libstdcxx() {
  [ "$(uname -s)" = Linux ] || return 0
  local lib
  # No early exit in the pipeline: with pipefail a SIGPIPE'd ldconfig would abort the script silently.
  lib=$(ldconfig -p 2>/dev/null | awk '$1 == "libstdc++.so.6" && /x86-64/ {path = $NF} END {print path}')
  if [ -n "$lib" ] && grep -qa 'GLIBCXX_3\.4\.32' "$lib"; then return 0; fi
  if ! grep -qs '^ID=debian' /etc/os-release; then
    echo "build.sh: libstdc++ lacks GLIBCXX_3.4.32 (GCC 13+), which TorchSharp needs. Install GCC 13's libstdc++ with your distribution's tools (Ubuntu 24.04 and Debian 13 have it)." >&2
    exit 1
  fi
  kd_need_root "installing libstdc++6 from Debian 13 (trixie)" "add trixie main to apt sources and 'apt-get install -t trixie libstdc++6'"
  local mirror
  mirror=$(kd_debian_mirror)
  echo "build.sh: installing libstdc++6 from Debian 13 (trixie) via $mirror (TorchSharp needs GLIBCXX_3.4.32)"
  cat > /etc/apt/sources.list.d/kdtools-trixie.sources <<SRC
Types: deb
URIs: ${mirror%/}
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  # Keep bookworm the default: trixie is pinned low, so only what is asked for with -t trixie comes from it.
  printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' > /etc/apt/preferences.d/kdtools-trixie
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie libstdc++6 >/dev/null
}

# PyTorch for the parity tests and the side-by-side benchmark (Debian's python3-torch, CPU), with OpenBLAS behind it:
# Debian builds PyTorch against the generic libblas, and the netlib reference BLAS it falls back to makes every
# nn.Linear forward and backward about 8x slower (measured on DIH's head step), which would flatter KdTools.
# Convolutions use oneDNN either way.
kd_ensure_python_torch() {
  local missing=()
  /usr/bin/python3 -c 'import torch' 2>/dev/null || missing+=(python3-torch)
  dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null | grep -q 'ok installed' || missing+=(libopenblas0-pthread)
  [ ${#missing[@]} -eq 0 ] && return 0
  kd_need_root "installing ${missing[*]} (the PyTorch reference of the parity tests and the benchmark)" "apt-get install ${missing[*]}"
  echo "build.sh: installing ${missing[*]} for the PyTorch side of the parity tests and the benchmark"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The ONNX schema (onnx.proto) from which the build generates KdTools' ONNX protobuf types (src/KdTools.Core's
# GenerateOnnxTypes target, with protoc from the Google.Protobuf.Tools package). Debian's libonnx-dev ships it.
kd_ensure_onnx_proto() {
  [ -f /usr/include/onnx/onnx.proto ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "build.sh: onnx.proto is missing. Install your distribution's ONNX headers (Debian: libonnx-dev) or build with -p:OnnxProto=/path/to/onnx.proto." >&2
    exit 1
  fi
  kd_need_root "installing libonnx-dev (the onnx.proto schema of ONNX export)" "apt-get install libonnx-dev"
  echo "build.sh: installing libonnx-dev (onnx.proto, the schema of ONNX export)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq libonnx-dev >/dev/null
}

# Debian 13 (trixie) in a chroot at /opt/kdtools-trixie: PyTorch 2.6 for the bench's second PyTorch column, and the
# ONNX checker (python3-onnx) and ONNX Runtime 1.21 (python3-onnxruntime) for ./build.sh onnx-check, the check of
# KdTools' ONNX files outside .NET. Built once in a .partial folder, renamed when complete: debootstrap's minimal base
# from the mirror apt already uses, then the packages by apt inside it (debootstrap's own --include does not resolve
# virtual dependencies such as onnxruntime's libre2-11-absl20240722). An interrupted build continues from the partial
# folder; an existing chroot only gets the packages it lacks. Arguments: packages a command needs beyond these
# (./build.sh repro: python3-scipy, which mdistiller's OFD imports).
KD_TRIXIE_ROOT=/opt/kdtools-trixie
kd_ensure_trixie_chroot() {
  local root=$KD_TRIXIE_ROOT packages=(python3-torch libopenblas0-pthread python3-onnx python3-onnxruntime python3-numpy "$@")
  local missing=() package
  for package in "${packages[@]}"; do
    dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${db:Status-Status}' "$package" 2>/dev/null | grep -qx installed ||
      missing+=("$package")
  done
  [ -x "$root/usr/bin/python3" ] && [ ${#missing[@]} -eq 0 ] && return 0
  kd_need_root "creating or completing the Debian 13 chroot $root (${missing[*]})" \
    "debootstrap --variant=minbase trixie $root, then apt-get install ${packages[*]} inside it"
  if [ -x "$root/usr/bin/apt-get" ]; then
    echo "build.sh: installing ${missing[*]} into the Debian 13 chroot $root"
    kd_chroot_install "$root" "${missing[@]}"
    return 0
  fi
  local mirror; mirror=$(kd_debian_mirror)
  if [ ! -x "$root.partial/usr/bin/apt-get" ]; then
    command -v debootstrap >/dev/null 2>&1 ||
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq debootstrap >/dev/null
    echo "build.sh: creating the Debian 13 chroot $root from $mirror (several minutes, once)"
    rm -rf "$root.partial"
    debootstrap --variant=minbase trixie "$root.partial" "$mirror" >/dev/null
  fi
  echo "build.sh: installing ${packages[*]} into the Debian 13 chroot"
  kd_chroot_install "$root.partial" "${packages[@]}"
  mv "$root.partial" "$root"
}

# apt-get install in a chroot, in a private mount namespace (its /proc gone when done); finishes an interrupted install.
kd_chroot_install() {
  local root=$1; shift
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  # dpkg --configure -a may fail on what an interrupted install left unresolved; apt-get -f install then resolves it.
  unshare -m sh -c "mount -t proc proc '$root/proc' && { chroot '$root' dpkg --configure -a >/dev/null 2>&1 || true; } &&
    chroot '$root' apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive chroot '$root' apt-get -f install -y -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive chroot '$root' apt-get install -y -qq --no-install-recommends $* >/dev/null"
}

# AFL++ (Debian's afl++), for `./build.sh fuzz` only: the coverage-guided campaigns over the readers (docs/fuzzing.md).
# CI's short fuzz is a managed mutation loop and does not need it.
kd_ensure_afl() {
  command -v afl-fuzz >/dev/null 2>&1 && return 0
  kd_need_root "installing afl++ (the fuzzer of ./build.sh fuzz)" "apt-get install afl++"
  echo "build.sh: installing afl++ for the fuzzing campaigns"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq afl++ >/dev/null
}

# The NuGet package cache (global-packages), where restored tools and packages live.
kd_nuget_packages() {
  dotnet nuget locals global-packages --list | sed -E 's/^global-packages: *//; s:/*$::'
}

# pwsh, pinned by the repository's tool manifest (.config/dotnet-tools.json) and run as `dotnet tool run pwsh`.
# `dotnet tool restore` is a quick no-op when the tool is there (it also registers a package already in the NuGet cache
# with the tool resolver, which a cache directory check alone would miss), so it always runs, silently unless it fails.
# NuGet writes .nupkg.metadata last, so its presence means a complete package.
kd_ensure_pwsh() {
  local version log
  version=$(sed -nE '/"powershell"/,/}/ s/.*"version": *"([^"]+)".*/\1/p' .config/dotnet-tools.json)
  [ -f "$(kd_nuget_packages)/powershell/$version/.nupkg.metadata" ] ||
    echo "build.sh: restoring pwsh $version (a local .NET tool, .config/dotnet-tools.json)"
  log=$(dotnet tool restore 2>&1) || { echo "$log" >&2; exit 1; }
}

# Pester, pinned by eng/Pester.proj (a PackageDownload): its tools/ folder is the module, imported by path.
# Sets PESTER_MODULE to its manifest.
kd_ensure_pester() {
  local version
  version=$(sed -nE 's/.*Include="Pester" Version="\[([^]]+)\]".*/\1/p' eng/Pester.proj)
  PESTER_MODULE="$(kd_nuget_packages)/pester/$version/tools/Pester.psd1"
  [ -f "$(dirname "$PESTER_MODULE")/../.nupkg.metadata" ] && return 0
  echo "build.sh: restoring Pester $version (eng/Pester.proj)"
  dotnet restore eng/Pester.proj -nologo -v quiet -clp:ErrorsOnly
}

kd_ensure_dotnet() {
  command -v dotnet >/dev/null 2>&1 && return 0
  echo "build.sh: the .NET 10 SDK is missing. Install it (https://dot.net) and run again." >&2
  exit 1
}

# The second hosts of the sweep tests (tests/pester/RemoteSweep.Tests.ps1, SlurmSweep.Tests.ps1): an sshd the test
# starts on the loopback with pwsh's SSH subsystem, and a single-node Slurm cluster (slurmctld, slurmd, munge) the
# test starts and stops itself. Debian's packages; no service is enabled or started here.
kd_ensure_sweep_hosts() {
  [ "$(uname -s)" = Linux ] || return 0
  local missing=() package
  for package in openssh-server openssh-client slurm-wlm munge; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  kd_need_root "installing ${missing[*]} (the SSH and Slurm hosts of the sweep tests)" "apt-get install ${missing[*]}"
  echo "build.sh: installing ${missing[*]} for the remote and Slurm sweep tests"
  apt-get update -qq
  # policy-rc.d refuses service starts during the install: the tests start their own daemons, on their own ports.
  local policy=/usr/sbin/policy-rc.d created=
  [ -e "$policy" ] || { printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created=1; }
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -z "$created" ] || rm -f "$policy"
}
