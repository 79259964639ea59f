#!/usr/bin/env bash
# Every GPU benchmark of RESULTS.md, one after another, each under its own time limit, results and logs in
# one folder. A job cut by its limit keeps what it wrote (every script writes its JSON after each case) and
# `teng` resumes from its checkpoints when the suite is run again with the same folder.
#
#   benchmarks/gpu_suite.sh OUT_DIR [JOB ...]  # jobs: linear assembled teng_fit teng pinn cylinder operators hc learned (default: all)
#
# Needs the reference data (PDESOLVE_DATA, default ../shared/data) and, for the neural-operator peer,
# `pip install -e .[bench]`.
set -u
out=${1:?usage: gpu_suite.sh OUT_DIR [JOB ...]}
shift
jobs=${*:-linear assembled teng_fit teng pinn cylinder operators hc learned}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
here=$(cd "$(dirname "$0")" && pwd)

job() {  # job NAME SECONDS COMMAND...: run COMMAND under a time limit, its output in OUT_DIR/NAME.log
  local name=$1 limit=$2
  shift 2
  echo "=== $name start $(date +%T) (limit ${limit} s)" | tee -a "$out/progress"
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  echo "=== $name exit $? end $(date +%T)" | tee -a "$out/progress"
}

for name in $jobs; do
  case $name in
  linear) job linear 300 python3 "$here/linear.py" --device cuda --sizes 1M,16M --out "$out/linear.json" ;;
  assembled)  # fd and fem solving through the torch CG on the GPU (--device cuda) beside the same solve on the CPU
    for solver in fd fem; do
      for device in cpu cuda; do
        job "assembled_${solver}_$device" 300 pdesolve solve poisson2d --solver "$solver" --set linsolve=cg \
          --set n=1025 --device "$device" --out "$out/assembled_${solver}_$device"
      done
    done ;;
  teng_fit)  # the initial fit of u0 at 65,536 points (init_seconds, init_residual, rel. L2 at T = 0) and one step
    job teng_fit 300 python3 "$here/teng.py" --device cuda --problems heat2d --schemes heun --steps 1 \
      --eval-every 1 --out "$out/teng_fit.json" ;;
  teng)
    for problem in heat2d allen_cahn2d burgers2d; do
      job "teng_$problem" 600 python3 "$here/teng.py" --device cuda --problems "$problem" --schemes heun \
        --final-time 4 --eval-every 100 --checkpoint "$out/teng" --out "$out/teng_$problem.json"
    done ;;
  pinn) job pinn 900 python3 "$here/pinn_vs_deepxde.py" --device cuda --budget full --out "$out/pinn_vs_deepxde.json" ;;
  cylinder)  # the cylinder's PINN at its defaults (4 × 24, 3,600 points, 130 Gauss–Newton steps): C_D, C_L, Δp in metrics.json
    job cylinder_pinn 600 pdesolve solve cylinder --solver pinn --device cuda --out "$out/cylinder_pinn" ;;
  operators) job operators 1200 python3 "$here/operators.py" --device cuda --data "$out/data" --out "$out/operators.json" ;;
  hc) job hc 600 python3 "$here/hard_constraints.py" --device cuda --out "$out/hard_constraints.json" ;;
  learned) job learned 600 python3 "$here/learned_precond.py" --device cuda --out "$out/learned_precond.json" ;;
  *) echo "unknown job $name" >&2; exit 2 ;;
  esac
done
