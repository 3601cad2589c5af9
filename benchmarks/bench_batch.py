"""Speed and memory of ``numberplate read DIR --out results.jsonl`` over a very large folder.

One generated 1280x720 photo (bench_read's street scene) is hard-linked N times into a temp folder.
Prints the pipeline's own speed on those files (a bare ``Reader(path)`` loop: decode + all stages) and
the batch command's photos/s with the resident memory of its process tree sampled as it goes, so a
leak shows as RSS growing with the photo count:

    python benchmarks/bench_batch.py                    # 10,000 photos, --jobs 1 and 2
    python benchmarks/bench_batch.py --photos 2000 --jobs 2
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        total += int(match.group(1)) if match else 0
    return total / 1024


def _folder(root: Path, count: int) -> Path:
    import cv2

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_read import photos

    source = root / "source.jpg"
    cv2.imwrite(str(source), cv2.cvtColor(photos(1)[0], cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    folder = root / "photos"
    for shard in range(0, count, 1000):  # 1,000 per sub-folder, as large collections usually are
        sub = folder / f"{shard // 1000:03d}"
        sub.mkdir(parents=True)
        for index in range(shard, min(count, shard + 1000)):
            os.link(source, sub / f"{index:06d}.jpg")
    return folder


def pipeline_speed(folder: Path, count: int) -> float:
    """Photos/s of a bare Reader loop over the first ``count`` files (after a short warm-up)."""
    from numberplate.reader import Reader

    files = sorted(folder.rglob("*.jpg"))[:count]
    reader = Reader(region="ua")
    for path in files[:5]:
        reader(path)
    started = time.perf_counter()
    for path in files:
        reader(path)
    return len(files) / (time.perf_counter() - started)


def batch_run(folder: Path, out: Path, jobs: int, total: int) -> tuple[float, list[tuple[int, float]]]:
    """Photos/s from the command's summary, and (photos written, tree RSS MB) samples."""
    command = [sys.executable, "-m", "numberplate.cli.main", "read", str(folder), "--out", str(out), "--overwrite",
               "--jobs", str(jobs), "--region", "ua", "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    samples, next_mark, done, offset = [], total // 10, 0, 0
    while process.poll() is None:
        time.sleep(1.0)
        if out.exists():  # count only the lines added since the last look: the sampler must stay cheap
            with out.open("rb") as handle:
                handle.seek(offset)
                chunk = handle.read()
            done += chunk.count(b"\n")
            offset += len(chunk)
        rss = _tree_rss_mb(process.pid)
        if done >= next_mark and rss > 0:  # rss is 0 once the process has exited
            samples.append((done, rss))
            next_mark = (done // max(1, total // 10) + 1) * max(1, total // 10)
    stderr = process.stderr.read()
    match = re.search(r"summary: (\d+) read.*?([\d.]+) photos/s", stderr)
    if process.returncode != 0 or not match:
        raise SystemExit(f"batch run failed: {stderr[-2000:]}")
    return float(match.group(2)), samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Speed and memory of numberplate read --out over many photos.")
    parser.add_argument("--photos", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=500, help="photos for the bare pipeline loop")
    parser.add_argument("--jobs", type=int, nargs="+", default=[2, 1])
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        folder = _folder(Path(tmp), args.photos)
        load_before = os.getloadavg()[0]
        baseline = pipeline_speed(folder, min(args.baseline, args.photos))
        print(f"{args.photos} x 1280x720 JPEG (hard links of one photo), {os.cpu_count()} cores, "
              f"load average {load_before:.1f} at start")
        print(f"pipeline alone (Reader(path) loop, {min(args.baseline, args.photos)} photos): {baseline:.1f} photos/s")
        print("| jobs | photos/s | vs pipeline | tree RSS (MB) at 10%, 50%, 100% of the photos | load avg |")
        print("|---|---|---|---|---|")
        for jobs in args.jobs:
            speed, samples = batch_run(folder, Path(tmp) / f"results-{jobs}.jsonl", jobs, args.photos)
            picks = [samples[0], samples[len(samples) // 2], samples[-1]] if samples else []
            rss = ", ".join(f"{mb:.0f} ({done})" for done, mb in picks)
            print(f"| {jobs} | {speed:.1f} | {100 * speed / baseline:.0f}% | {rss} | {os.getloadavg()[0]:.1f} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
