#!/usr/bin/env bash
# KdTools build entry point.
#   ./build.sh          install what is missing (pwsh and Pester too), build, publish the module into module/bin
#   ./build.sh demo     ... then run examples/quickstart.ps1 in pwsh on the built-in synthetic dataset
#   ./build.sh test     ... then run every test: xunit (Core, with a small PyTorch parity check, and the hosted pwsh
#                       engine), then Invoke-Pester over tests/pester
#   ./build.sh parity   ... then check every classification network and method against PyTorch step by step (table)
#   ./build.sh onnx-check ... then export every architecture to ONNX and check the files with Debian 13's onnx checker and
#                       ONNX Runtime 1.21 in the chroot /opt/kdtools-trixie (created on first use; needs root)
#   ./build.sh bench    ... then benchmark against PyTorch 2.6 at 1, 2 and all threads (bench/README.md; creates the Debian 13 chroot when missing)
#   ./build.sh bench --soak [-Runs N -Measurements N -Every N]   ... then the memory soak (bench/soak.ps1) instead
#   ./build.sh fuzz [--target NAME[,NAME]] [--minutes N] [--goal EXECS]   AFL++ campaigns over every file reader, N minutes each
#                                          or until a target has run EXECS executions over all its campaigns (docs/fuzzing.md)
#   ./build.sh repro [--part official|defaults] [--methods a,b] [--seeds 1,2] [--official PATH] [--data PATH]
#                       ... then KdTools against RepDistiller's code on real CIFAR-10, in the chroot's PyTorch 2.6;
#                       appends to docs/reproduction/ and regenerates docs/reproduction.md (tools/repro/repro.sh lists all options)
# Backend: KDTOOLS_BACKEND=cpu (default) or cuda-windows (see README, Windows with NVIDIA GPUs).
set -euo pipefail
cd "$(dirname "$0")"
source eng/prereqs.sh
source eng/fuzz.sh

CONFIG=${KDTOOLS_CONFIG:-Release}
BACKEND=${KDTOOLS_BACKEND:-cpu}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

rid() {
  local os arch
  case "$(uname -s)" in Linux) os=linux ;; Darwin) os=osx ;; MINGW*|MSYS*|CYGWIN*) os=win ;; *) echo "build.sh: unsupported OS $(uname -s)" >&2; exit 1 ;; esac
  case "$(uname -m)" in x86_64|amd64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) echo "build.sh: unsupported CPU $(uname -m)" >&2; exit 1 ;; esac
  echo "$os-$arch"
}

build() {
  kd_ensure_dotnet
  kd_ensure_libstdcxx
  kd_ensure_onnx_proto
  kd_ensure_pwsh
  kd_ensure_pester
  local r; r=$(rid)
  echo "build.sh: building KdTools ($CONFIG, $r, backend $BACKEND)"
  # One flat folder per platform: natives beside TorchSharp.dll, where the module loads them from.
  dotnet publish src/KdTools.Cmdlets -c "$CONFIG" -r "$r" --self-contained false -p:KdBackend="$BACKEND" \
    -o module/bin -nologo -v quiet -clp:ErrorsOnly
  # libtorch's Python binding and test plugins are never loaded by KdTools; keep the module lean.
  rm -f module/bin/libtorch_python.* module/bin/libjitbackend_test.* module/bin/libtorchbind_test.* \
        module/bin/libbackend_with_compiler.* module/bin/libnnapi_backend.* module/bin/libaoti_custom_ops.*
  # Get-Help's text, generated from the cmdlets' doc comments (one source of truth; not committed).
  dotnet run --project eng/KdTools.HelpGenerator -c "$CONFIG" -v quiet -- \
    module/bin/KdTools.Cmdlets.dll module/en-US/KdTools.Cmdlets.dll-Help.xml
}

pwsh_file() {
  # The pwsh the tool manifest pins (.config/dotnet-tools.json), whatever else is on PATH.
  dotnet tool run pwsh -NoLogo -NoProfile -NonInteractive -File "$@"
}

run_tests() {
  local results=artifacts/test-results passed=0 failed=0 status=0
  rm -rf "$results"; mkdir -p "$results"
  dotnet build KdTools.sln -c "$CONFIG" -p:KdBackend="$BACKEND" -nologo -v quiet -clp:ErrorsOnly
  for project in tests/KdTools.Core.Tests tests/KdTools.Cmdlets.Tests; do
    local name; name=$(basename "$project")
    dotnet test "$project" -c "$CONFIG" --no-build -nologo 2>&1 | tee "$results/$name.log" || status=1
    # The summary line: "Passed!  - Failed:     0, Passed:   292, Skipped: 0, Total: 292, ..."
    local line; line=$(grep -E '(Passed|Failed)! +- +Failed:' "$results/$name.log" | tail -n1 || true)
    if [ -z "$line" ]; then echo "build.sh: $name reported no results" >&2; status=1; continue; fi
    passed=$((passed + $(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$line")))
    failed=$((failed + $(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$line")))
  done
  echo "build.sh: Invoke-Pester over tests/pester (results: $results/pester.xml)"
  pwsh_file eng/Invoke-PesterSuite.ps1 -PesterModule "$PESTER_MODULE" -Path tests/pester -ResultPath "$results/pester.xml" \
    2>&1 | tee "$results/pester.log" || status=1
  local pline; pline=$(grep -E '^Pester: [0-9]+ passed, [0-9]+ failed' "$results/pester.log" | tail -n1 || true)
  if [ -n "$pline" ]; then
    local pester_passed pester_failed
    pester_passed=$(sed -E 's/^Pester: ([0-9]+) passed.*/\1/' <<<"$pline")
    pester_failed=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$pline")
    if [ $((pester_passed + pester_failed)) -eq 0 ]; then echo "build.sh: Pester ran no tests" >&2; status=1; fi
    passed=$((passed + pester_passed)); failed=$((failed + pester_failed))
  else
    echo "build.sh: the Pester runner reported no results" >&2; status=1
  fi
  echo
  echo "Total: $passed passed, $failed failed"
  [ "$failed" -eq 0 ] || status=1
  return $status
}

# The full parity configuration (tests/parity): every classification architecture and every method with its variants,
# float64 and float32.
run_parity() {
  local folder=artifacts/parity status=0
  rm -rf "$folder"; mkdir -p "$folder"
  dotnet build tests/KdTools.Core.Tests -c "$CONFIG" -p:KdBackend="$BACKEND" -nologo -v quiet -clp:ErrorsOnly
  KDTOOLS_PARITY=full KDTOOLS_PARITY_REPORT="$PWD/$folder/table.txt" dotnet test tests/KdTools.Core.Tests -c "$CONFIG" \
    --no-build -nologo --filter 'FullyQualifiedName~KdTools.Core.Tests.Parity' >"$folder/test.log" 2>&1 || status=1
  if [ -f "$folder/table.txt" ]; then cat "$folder/table.txt"; else tail -n 40 "$folder/test.log"; fi
  grep -E '(Passed|Failed)! +- +Failed:' "$folder/test.log" || true
  return $status
}

run_onnx_check() {
  local folder=artifacts/onnx-check
  rm -rf "$folder"; mkdir -p "$folder"
  dotnet build bench/KdTools.Bench -c Release -nologo -v quiet -clp:ErrorsOnly
  dotnet run --project bench/KdTools.Bench -c Release --no-build -- onnx-check "$folder"
}

run_bench() {
  kd_ensure_python_torch
  # PyTorch 2.6 (the reference the ratio tables compare with) lives in the Debian 13 chroot; creating it needs root.
  if [ "$(id -u)" = 0 ]; then kd_ensure_trixie_chroot; fi
  dotnet build bench/KdTools.Bench -c Release -nologo -v quiet -clp:ErrorsOnly
  dotnet run --project bench/KdTools.Bench -c Release --no-build -- "$@"
}

case "${1:-build}" in
  build) build ;;
  demo) build; pwsh_file examples/quickstart.ps1 ;;
  test) build; kd_ensure_python_torch; kd_ensure_sweep_hosts; run_tests ;;
  parity) build; kd_ensure_python_torch; run_parity ;;
  onnx-check) build; kd_ensure_trixie_chroot; run_onnx_check ;;
  bench)
    shift; build
    if [ "${1:-}" = --soak ]; then shift; pwsh_file bench/soak.ps1 "$@"; else run_bench "$@"; fi ;;
  fuzz) shift; run_fuzz "$@" ;;
  repro) shift; build; kd_ensure_trixie_chroot python3-scipy; tools/repro/repro.sh "$@" ;;
  -h|--help|help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) echo "build.sh: unknown command '$1'; use: ./build.sh [build|demo|test|parity|onnx-check|bench|fuzz|repro]" >&2; exit 2 ;;
esac
