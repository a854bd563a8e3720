# The fuzzing campaigns of `./build.sh fuzz [--target NAME[,NAME...]] [--minutes N]` (docs/fuzzing.md), sourced by build.sh.
# Publishes tests/KdTools.Fuzz, instruments the assemblies under test with SharpFuzz (KdTools.Core's readers, and the
# CsvHelper and StbImageSharp parsers they drive), then runs AFL++ on each target in turn, N minutes each (default 5),
# from the committed seeds (tests/fuzz/corpus/<target>) plus every input that ever broke a reader
# (tests/fuzz/regressions/<target>). AFL++'s output accumulates in artifacts/fuzz/findings/<target> (a later campaign
# resumes it); new crashes and hangs are copied into tests/fuzz/regressions/<target>/ to be fixed and committed, and each
# target's executions, coverage and findings are printed and written to artifacts/fuzz/summary.tsv.

FUZZ_DIR=${KDTOOLS_FUZZ_DIR:-artifacts/fuzz}

run_fuzz() {
  local targets="" minutes=5 goal=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --target) targets="$2"; shift 2 ;;
      --minutes) minutes="$2"; shift 2 ;;
      --goal) goal="$2"; shift 2 ;;
      *) echo "build.sh fuzz: unknown argument '$1'; use: ./build.sh fuzz [--target NAME] [--minutes N] [--goal EXECUTIONS]" >&2; return 2 ;;
    esac
  done
  kd_ensure_dotnet
  kd_ensure_libstdcxx
  kd_ensure_afl
  local log; log=$(dotnet tool restore 2>&1) || { echo "$log" >&2; return 1; }

  local bin=$FUZZ_DIR/bin
  echo "build.sh: publishing and instrumenting the fuzz targets ($bin)"
  rm -rf "$bin"
  dotnet publish tests/KdTools.Fuzz -c Release -r "$(rid)" --self-contained false -o "$bin" -nologo -v quiet -clp:ErrorsOnly
  # Coverage where the readers are: KdTools.Core's data and checkpoint code, the plan rows and -MethodOption text (Methods) (and the architectures a checkpoint builds),
  # the ONNX import (KdTools.Core.Export and its generated protobuf messages, Onnx.*), and the whole of the third-party
  # parsers they call.
  dotnet tool run sharpfuzz "$bin/KdTools.Core.dll" KdTools.Core.Data KdTools.Core.Checkpoints KdTools.Core.Models.ExitHeads \
    KdTools.Core.Models.LinearStageHeads KdTools.Core.Models.ByotBranches KdTools.Core.ExactValue KdTools.Core.Export Onnx \
    KdTools.Core.Methods KdTools.Core.Sweeps.PlanRow >/dev/null
  dotnet tool run sharpfuzz "$bin/Google.Protobuf.dll" >/dev/null
  dotnet tool run sharpfuzz "$bin/CsvHelper.dll" >/dev/null
  dotnet tool run sharpfuzz "$bin/StbImageSharp.dll" >/dev/null

  local all; all=$(dotnet "$bin/KdTools.Fuzz.dll" list | cut -f1)
  if [ -n "$targets" ]; then
    targets=${targets//,/ }
    for target in $targets; do
      grep -qx "$target" <<<"$all" || { echo "build.sh fuzz: no target '$target'; targets: $(echo $all)" >&2; return 2; }
    done
  else
    targets=$all
  fi
  mkdir -p "$FUZZ_DIR/findings"
  local summary=$FUZZ_DIR/summary.tsv status=0
  [ -f "$summary" ] || printf 'date\ttarget\tminutes\texecs\texecs_cumulative\texecs_per_sec\tcorpus\tedges_found\ttotal_edges\tbitmap_cvg\tcrashes\thangs\tfirst_rss_mb\tpeak_rss_mb\tlargest_input\n' >"$summary"
  for target in $targets; do
    fuzz_target "$bin" "$target" "$minutes" "$summary" "$goal" || status=1
  done
  echo "build.sh: campaign summary in $summary"
  return $status
}

# One AFL++ campaign; returns 1 when it found crashes or hangs (copied into tests/fuzz/regressions/<target>).
fuzz_target() {
  local bin=$1 target=$2 minutes=$3 summary=$4 goal=${5:-0}
  local out=$FUZZ_DIR/findings/$target inputs=$FUZZ_DIR/inputs/$target
  # AFL++ takes one input folder: the seeds and every regression input.
  rm -rf "$inputs"; mkdir -p "$inputs"
  cp tests/fuzz/corpus/"$target"/* "$inputs"/
  [ -d tests/fuzz/regressions/"$target" ] && cp tests/fuzz/regressions/"$target"/* "$inputs"/ 2>/dev/null
  # AFL++ resumes execs_done from a previous campaign's fuzzer_stats; the cumulative count is also kept beside the
  # findings (so a campaign whose AFL++ restarted its count still adds up), and this run's executions are the difference.
  local stats=$out/default/fuzzer_stats before=0 cumulative=0 limit=()
  [ -f "$stats" ] && before=$(sed -nE 's/^execs_done +: (.*)$/\1/p' "$stats")
  [ -f "$out.execs" ] && cumulative=$(cat "$out.execs")
  # --goal: stop once the target's executions over all campaigns reach it (AFL++'s -E counts its resumed total).
  if [ "$goal" -gt 0 ]; then
    if [ "$cumulative" -ge "$goal" ]; then
      echo "build.sh: $target already ran $cumulative executions (goal $goal): skipped"; return 0
    fi
    limit=(-E $((before + goal - cumulative)))
  fi
  echo "build.sh: fuzzing $target for $minutes min${limit:+ or until $goal executions in all} (AFL++ output: $out)"
  # Each fuzzing process writes its resident memory (VmRSS after its first input, peak VmHWM) here (MemoryLog.cs).
  local memory=$FUZZ_DIR/memory/$target
  rm -rf "$memory"; mkdir -p "$memory"
  local started=$SECONDS
  # The .NET runtime reserves more address space than AFL's -m allows, so managed memory is capped by the GC instead
  # (a reader that allocates past 2 GiB dies with OutOfMemoryException, a crash); TorchSharp loading takes seconds, hence
  # the long fork-server start-up; each input may take 5 s on a loaded machine before it counts as a hang.
  AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_AUTORESUME=1 \
  AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_FORKSRV_INIT_TMOUT=120000 \
  DOTNET_GCHeapHardLimit=0x80000000 DOTNET_TieredPGO=0 KDTOOLS_FUZZ_MEMLOG="$PWD/$memory/rss" \
    timeout $((minutes * 60 + 300)) afl-fuzz -i "$inputs" -o "$out" -t 5000 -m none -V $((minutes * 60)) "${limit[@]}" \
      -x tests/fuzz/kdtools.dict -- dotnet "$bin/KdTools.Fuzz.dll" run "$target" >"$FUZZ_DIR/$target.log" 2>&1
  if [ ! -f "$stats" ]; then
    echo "build.sh fuzz: AFL++ did not run $target; see $FUZZ_DIR/$target.log" >&2
    tail -n 20 "$FUZZ_DIR/$target.log" >&2
    return 1
  fi
  stat() { sed -nE "s/^$1 +: (.*)$/\1/p" "$stats"; }
  local found=0
  for kind in crashes hangs; do
    mkdir -p tests/fuzz/regressions/"$target"
    for file in "$out"/default/$kind/id:*; do
      [ -f "$file" ] || continue
      local prefix=hang; [ "$kind" = crashes ] && prefix=crash
      local copy=tests/fuzz/regressions/"$target"/"$prefix-$(sha1sum "$file" | cut -c1-16)"
      cp "$file" "$copy" && chmod 644 "$copy"
      found=$((found + 1))
    done
    rmdir tests/fuzz/regressions/"$target" 2>/dev/null || true
  done
  local after run seconds=$((SECONDS - started)); after=$(stat execs_done)
  if [ "$after" -ge "$before" ]; then run=$((after - before)); else run=$after; fi
  cumulative=$((cumulative + run)); echo "$cumulative" >"$out.execs"
  # Peak resident memory over every process of this run (AFL++ restarts the process after a hang), and the least
  # resident memory any of them had after its first input (the runtime, TorchSharp and the reader's fixed costs).
  local peak first largest
  peak=$(cat "$memory"/rss.* 2>/dev/null | sed -nE 's/.*hwm_kb=([0-9]+).*/\1/p' | sort -n | tail -1)
  first=$(cat "$memory"/rss.* 2>/dev/null | sed -nE 's/.*first_rss_kb=([0-9]+).*/\1/p' | sort -n | head -1)
  largest=$(cat "$memory"/rss.* 2>/dev/null | sed -nE 's/.*largest_input=([0-9]+).*/\1/p' | sort -n | tail -1)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%H:%MZ)" "$target" "$(awk "BEGIN { printf \"%.1f\", $seconds / 60 }")" "$run" "$cumulative" \
    "$((run / (seconds > 0 ? seconds : 1)))" "$(stat corpus_count)" "$(stat edges_found)" "$(stat total_edges)" "$(stat bitmap_cvg)" \
    "$(stat saved_crashes)" "$(stat saved_hangs)" "$(( ${first:-0} / 1024 ))" "$(( ${peak:-0} / 1024 ))" "${largest:-0}" | tee -a "$summary"
  [ "$found" -eq 0 ] || { echo "build.sh fuzz: $target: $found crash/hang input(s) copied to tests/fuzz/regressions/$target" >&2; return 1; }
}
