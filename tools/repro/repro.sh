#!/usr/bin/env bash
# ./build.sh repro: KdTools against the official code on real CIFAR-10 (docs/reproduction.md), run in parts that append.
#   --methods a,b      methods to run (default: every method of the part)
#   --seeds 1,2        seeds per cell (default 1,2)
#   --part official|defaults   official: KdTools vs the official code (RepDistiller's train_student.py; mdistiller's
#                      distillers for DKD, ReviewKD, OFD; the authors' DIST_KD for DIST; the DIH authors' code for
#                      DIH; TOFD's step and loss on the DIH repository's TOFD CIFAR ResNets), same teacher, data, recipe;
#                      defaults: KdTools at its defaults (-Student -Method -Epochs only) into resnet8 and ShuffleV2
#   --official PATH    folder holding the official checkouts, outside this repository: PATH/RepDistiller,
#                      PATH/mdistiller, PATH/DIST_KD (with its classification submodule), PATH/DIH
#                      (aryanasadianuoit/Distilling-Knowledge-via-Intermediate-Classifiers), PATH/TOFD
#                      (ArchipLab-LinfengZhang/Task-Oriented-Feature-Distillation); a method needs only its own
#   --data PATH        CIFAR-10 folder (cifar-10-batches-bin or its parent)
#   --per-class N      training images per class (default 500), --epochs N (8), --init-epochs N (1), --teacher-epochs N (30)
#   --students a,b     students of the defaults part (default resnet8,ShuffleV2; the official part is resnet8)
#   --threads N        threads per run (default 2); on a machine already loaded past its cores, 1 per run wastes less
#   --force            run cells whose JSON already exists again
#   --results PATH     where the JSONs and the table go (default docs/reproduction and docs/reproduction.md; any other
#                      folder inside the repository, such as artifacts/repro/trial, gets PATH/<part>/*.json and
#                      PATH/reproduction.md: trial runs that are not committed)
# Each cell writes docs/reproduction/<part>/<method>.<student>.<framework>.seed<N>.json (committed), logs under
# artifacts/repro/logs; the table docs/reproduction.md is regenerated from every JSON after each cell. A cell being
# run holds a lock (artifacts/repro/locks/<cell>, a folder; remove it after a killed run), so several invocations at
# once (for example --seeds 1 and --seeds 2) share the cells instead of running them twice.
set -euo pipefail

methods='' seeds=1,2 part=official force=0 threads=2 results_root=docs/reproduction
official=${KDTOOLS_OFFICIAL:-$HOME/kdtools-official}
data=${KDTOOLS_CIFAR10:-$HOME/data/cifar10}
per_class=500 epochs=8 init_epochs=1 teacher_epochs=30 teacher_arch=resnet20 default_students=resnet8,ShuffleV2
while [ $# -gt 0 ]; do
  case "$1" in
    --methods) methods=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --part) part=$2; shift 2 ;;
    --official) official=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --per-class) per_class=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --init-epochs) init_epochs=$2; shift 2 ;;
    --teacher-epochs) teacher_epochs=$2; shift 2 ;;
    --students) default_students=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --force) force=1; shift ;;
    --results) results_root=${2%/}; shift 2 ;;
    *) echo "repro: unknown argument '$1' (see ./build.sh help)" >&2; exit 2 ;;
  esac
done
case "$part" in official|defaults) ;; *) echo "repro: --part is official or defaults, not '$part'" >&2; exit 2 ;; esac

batches=$data
[ -d "$data/cifar-10-batches-bin" ] && batches=$data/cifar-10-batches-bin
if [ ! -f "$batches/test_batch.bin" ]; then
  cat >&2 <<MSG
repro: no CIFAR-10 at '$data'. Get it with KdTools (then pass --data or set KDTOOLS_CIFAR10):
  pwsh -c "Import-Module ./module/KdTools.psd1; Save-KdDataset -Name CIFAR10 -Path '$data'"
  (from a mirror or a local archive: add -Source <base URI or cifar-10-binary.tar.gz>)
MSG
  exit 2
fi
data=$(cd "$batches" && pwd)

repo=$(pwd)
# The commit the module in module/bin was built from (its informational version, 0.1.0+<sha>): the code measured,
# whatever HEAD is now.
commit=$(grep -aoE '[0-9]+\.[0-9]+\.[0-9]+\+[0-9a-f]{40}' module/bin/KdTools.Core.dll | head -n1 | sed -E 's/.*\+(.{7}).*/\1/')
commit=${commit:-unknown}
case "$results_root" in "$repo"/*) results_root=${results_root#"$repo"/} ;; esac
case "$results_root" in /*|..*) echo "repro: --results is a folder inside the repository (the official side sees only it), not '$results_root'" >&2; exit 2 ;; esac
results=$results_root/$part
table=docs/reproduction.md
[ "$results_root" = docs/reproduction ] || table=$results_root/reproduction.md
logs=artifacts/repro/logs
teacher_file=$repo/artifacts/repro/teacher/$teacher_arch-${per_class}pc-${teacher_epochs}ep.safetensors
locks=artifacts/repro/locks
mkdir -p "$results" "$logs" "$locks" "$(dirname "$teacher_file")"

# Each method's official code: RepDistiller (tools/repro/official_train.py), mdistiller or DIST_KD
# (tools/repro/official_mdistiller.py), the DIH authors' repository (tools/repro/official_dih.py), TOFD's with DIH's
# (tools/repro/official_tofd.py).
repdistiller_methods=CE,KD,FitNet,AT,SP,CC,VID,RKD,PKT,AB,FT,FSP,NST,CRD,KDSVD,TAKD
mdistiller_methods=KDSVD-mdistiller,DKD,ReviewKD,OFD
dih_methods=DIH
official_methods=$repdistiller_methods,$mdistiller_methods,DIST,$dih_methods,TOFD
official_code() {
  case ",$repdistiller_methods," in *",$1,"*) echo RepDistiller; return ;; esac
  case ",$mdistiller_methods," in *",$1,"*) echo mdistiller; return ;; esac
  case ",$dih_methods," in *",$1,"*) echo DIH; return ;; esac
  if [ "$1" = DIST ]; then echo DIST_KD; fi
  if [ "$1" = TOFD ]; then echo TOFD; fi
}
if [ "$part" = official ]; then
  methods=${methods:-$official_methods}
  official=$(cd "$official" 2>/dev/null && pwd || true)
  IFS=, read -ra wanted <<<"$methods"
  for method in "${wanted[@]}"; do
    # TOFD needs two checkouts: the authors' (its loss) and the DIH repository's CIFAR ResNets with TOFD's heads.
    codes=$(official_code "$method")
    [ "$codes" = TOFD ] && codes='TOFD DIH'
    for code in ${codes:-none}; do
      case "$code" in
        RepDistiller) probe=RepDistiller/train_student.py url=https://github.com/HobbitLong/RepDistiller clone='' ;;
        mdistiller) probe=mdistiller/mdistiller/distillers/DKD.py url=https://github.com/megvii-research/mdistiller clone='' ;;
        DIST_KD) probe=DIST_KD/classification/lib/models/losses/dist_kd.py url=https://github.com/hunto/DIST_KD clone=' --recurse-submodules' ;;
        DIH) probe=DIH/train_dih.py url=https://github.com/aryanasadianuoit/Distilling-Knowledge-via-Intermediate-Classifiers clone='' ;;
        TOFD) probe=TOFD/utils.py url=https://github.com/ArchipLab-LinfengZhang/Task-Oriented-Feature-Distillation clone='' ;;
        *) echo "repro: no official code for method '$method' (the official part runs: $official_methods)" >&2; exit 2 ;;
      esac
      if [ -z "$official" ] || [ ! -f "$official/$probe" ]; then
        cat >&2 <<MSG
repro: $method needs a $code checkout at '${official:-the --official folder}/$code'. Put the official code outside this repository:
  mkdir -p ~/kdtools-official && git clone$clone $url ~/kdtools-official/$code
then pass --official ~/kdtools-official (or set KDTOOLS_OFFICIAL).
MSG
        exit 2
      fi
    done
  done
  students=resnet8
else
  methods=${methods:-$(dotnet tool run pwsh -NoProfile -Command "Import-Module ./module/KdTools.psd1; (Get-KdMethod | Where-Object { \$_.Tasks -match 'Classification' -or -not \$_.Tasks }).Name -join ','")}
  students=$default_students
fi

pwsh_run() { nice -n 10 dotnet tool run pwsh -NoLogo -NoProfile -NonInteractive -File "$@"; }

# Python in the Debian 13 chroot (PyTorch 2.6), in a private mount namespace: /proc, the repository, the official
# checkout and the data are bind-mounted at their own paths, gone when the process ends (needs root, like the bench).
chroot_python() {
  local root=/opt/kdtools-trixie binds="/proc $repo $official $data" path script=''
  for path in $binds; do mkdir -p "$root$path"; script+="mount --bind '$path' '$root$path' && "; done
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=$threads nice -n 10 unshare -m sh -c "${script}exec chroot $root /usr/bin/python3 \"\$@\"" sh "$@"
}

teacher_json=$results_root/teacher.json
if [ ! -f "$teacher_file" ]; then
  echo "repro: training the teacher $teacher_arch on $((10 * per_class)) images for $teacher_epochs epochs (once)"
  pwsh_run tools/repro/kdtools_run.ps1 -Teacher -DataPath "$data" -PerClass "$per_class" -TeacherFile "$teacher_file" \
    -TeacherArchitecture "$teacher_arch" -TeacherEpochs "$teacher_epochs" -Commit "$commit" -Out "$teacher_json" \
    >"$logs/teacher.log" 2>&1
fi

render() { pwsh_run tools/repro/Write-ReproTable.ps1 -Path "$results_root" -OutFile "$table" >/dev/null; }

IFS=, read -ra method_list <<<"$methods"
IFS=, read -ra seed_list <<<"$seeds"
IFS=, read -ra student_list <<<"$students"
for method in "${method_list[@]}"; do
  for student in "${student_list[@]}"; do
    for seed in "${seed_list[@]}"; do
      cell=$method.$student
      kd_out=$results/$cell.KdTools.seed$seed.json
      of_out=$results/$cell.official.seed$seed.json
      pids=() held=()
      # A cell runs when its JSON is missing (or --force) and no other invocation holds its lock.
      claim() { { [ "$force" = 1 ] || [ ! -f "$1" ]; } && mkdir "$locks/$part.$(basename "$1" .json)" 2>/dev/null && held+=("$locks/$part.$(basename "$1" .json)"); }
      if claim "$kd_out"; then
        echo "repro: $part $method -> $student seed $seed (KdTools)"
        pwsh_run tools/repro/kdtools_run.ps1 -DataPath "$data" -PerClass "$per_class" -TeacherFile "$teacher_file" \
          -Student "$student" -Method "$method" -Seed "$seed" -Epochs "$epochs" -InitEpochs "$init_epochs" -Part "$part" \
          -Commit "$commit" -Threads "$threads" -Out "$kd_out" >"$logs/$part.$cell.KdTools.seed$seed.log" 2>&1 &
        pids+=($!)
      fi
      if [ "$part" = official ] && claim "$of_out"; then
        echo "repro: $part $method -> $student seed $seed (official)"
        if [ "$(official_code "$method")" = RepDistiller ]; then
          driver=(official_train.py --repdistiller "$official/RepDistiller")
        elif [ "$(official_code "$method")" = DIH ]; then
          driver=(official_dih.py --dih "$official/DIH")
        elif [ "$(official_code "$method")" = TOFD ]; then
          driver=(official_tofd.py --tofd "$official/TOFD" --dih "$official/DIH")
        else
          driver=(official_mdistiller.py --mdistiller "$official/mdistiller" --dist-kd "$official/DIST_KD")
        fi
        chroot_python "$repo/tools/repro/${driver[0]}" "${driver[@]:1}" --data "$data" \
          --per-class "$per_class" --teacher "$teacher_file" --teacher-arch "$teacher_arch" --student "$student" \
          --method "$method" --seed "$seed" --epochs "$epochs" --init-epochs "$init_epochs" --commit "$commit" --threads "$threads" \
          --out "$repo/$of_out" >"$logs/$part.$cell.official.seed$seed.log" 2>&1 &
        pids+=($!)
      fi
      status=0
      for pid in "${pids[@]}"; do wait "$pid" || status=1; done
      for lock in "${held[@]}"; do rmdir "$lock"; done
      [ "$status" = 0 ] || echo "repro: a run of $part $cell seed $seed failed; see $logs" >&2
      [ ${#pids[@]} -eq 0 ] || render
    done
  done
done
render
echo "repro: table in $table"
