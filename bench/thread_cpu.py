#!/usr/bin/python3
"""Runs a command and samples the CPU time (user + system) of each of its threads from /proc/PID/task/TID/stat every
50 ms; prints the tail of the command's output, then each thread's total (a thread that exits keeps its last sample).
CPU time per thread says which thread does the work (the step, OpenMP's workers, .NET's background JIT, the batch
preparation) even on a loaded machine, where wall time says nothing. Linux only.

Example: bench/thread_cpu.py bench/KdTools.Bench/bin/Release/net10.0/KdTools.Bench e2e-child 2
"""
import os
import subprocess
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")


def sample(pid):
    """{tid: (name, CPU seconds)} of the process's live threads."""
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as stat:
                data = stat.read()
        except FileNotFoundError:
            continue
        name = data[data.index("(") + 1:data.rindex(")")]
        fields = data[data.rindex(")") + 2:].split()
        threads[tid] = (name, (int(fields[11]) + int(fields[12])) / TICKS)  # utime + stime
    return threads


def main():
    process = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True)
    last, most = {}, 0
    while process.poll() is None:
        try:
            threads = sample(process.pid)
        except FileNotFoundError:
            break
        most = max(most, len(threads))
        last.update(threads)
        time.sleep(0.05)
    print(process.stdout.read().strip()[-600:])
    print(f"threads seen {len(last)}, at most {most} at once, CPU {sum(c for _, c in last.values()):.2f} s")
    for tid, (name, cpu) in sorted(last.items(), key=lambda kv: -kv[1][1]):
        if cpu >= 0.05:
            print(f"  {tid:>8} {name:<20} {cpu:7.2f} s")
    return process.returncode


if __name__ == "__main__":
    sys.exit(main())
