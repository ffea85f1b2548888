"""Load test of `recgen serve`: latency percentiles and throughput at fixed request rates, and a hot reload.

What it does
1. Trains EASE (λ = 1000 and, as the version published during the reload run, λ = 250) and Mult-VAE
   (short CPU run: serving cost does not depend on how long it trained) on ml-1m-lightgcnpp's train
   file, and publishes them into a temporary model store.
2. For each model, starts `recgen serve STORE --name M` (uvicorn, one process, one worker) on
   127.0.0.1 as a subprocess.
3. Runs a load client in a *separate process*: an asyncio HTTP/1.1 client with keep-alive
   connections, open loop at a fixed rate (request i is due at t0 + i / rate, latency is measured
   from that due time, so a slow server cannot slow the client down and hide its queueing), bounded
   by a request count (rate × duration) and a time limit. Requests alternate between `user_id`
   (a training user) and `items` (a history of 5–50 items of a random user, as for an unseen user),
   k = 20.
4. Reload runs: at each of `--reload-rates`, a new version is published to the store a third of the
   way into the run; the service notices CURRENT (polling every 0.5 s), loads it beside the old one
   and swaps. Counts 5xx, dropped requests (connection errors, or no answer within 10 s),
   unfinished ones (no answer by the end of the run's time limit) and the answers of each version.
   The server's CPU time per request (from /proc) is reported too: it does not depend on what else
   runs on the machine, unlike the latencies.

Writes bench/results/serve_load.json and prints a table.

    python bench/serve_load.py                       # EASE and Mult-VAE, 50/200/500 req/s, 15 s each
    python bench/serve_load.py --models ease --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def say(text: str) -> None:
    """Progress and the result table on stdout (a bench script, not library code)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
DATA = ROOT.parent / "shared" / "data" / "ml-1m-lightgcnpp"


# ---------------------------------------------------------------------- client (separate process)
async def _client(url: str, bodies: list[bytes], rate: float, n: int, time_limit: float, timeout: float,
                  max_conns: int) -> dict:
    host, port = url.removeprefix("http://").split(":")
    free: asyncio.Queue = asyncio.Queue()
    opened = 0
    peak = 0
    lat: list[float] = []
    statuses: dict[int, int] = {}
    versions: dict[str, int] = {}
    dropped = 0

    async def conn():
        nonlocal opened, peak
        while not free.empty():  # reuse a keep-alive connection unless the server may have timed it out
            reader, writer, last = free.get_nowait()
            if time.perf_counter() - last < 2.0 and not reader.at_eof():
                return reader, writer
            writer.close()
            opened -= 1
        if opened < max_conns:
            opened += 1
            peak = max(peak, opened)
            return await asyncio.open_connection(host, int(port))
        reader, writer, _ = await free.get()
        return reader, writer

    async def one(i: int, due: float) -> None:
        nonlocal dropped, opened
        body = bodies[i % len(bodies)]
        req = (f"POST /recommend HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        try:
            reader, writer = await asyncio.wait_for(conn(), timeout)
        except (OSError, TimeoutError):
            dropped += 1
            return
        try:
            writer.write(req)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            payload = await asyncio.wait_for(reader.readexactly(length), timeout)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
            dropped += 1
            writer.close()
            opened -= 1
            return
        lat.append(time.perf_counter() - due)
        statuses[status] = statuses.get(status, 0) + 1
        k = payload.find(b'"version":"')
        if k >= 0:
            v = payload[k + 11:payload.find(b'"', k + 11)].decode()
            versions[v] = versions.get(v, 0) + 1
        free.put_nowait((reader, writer, time.perf_counter()))

    tasks = []
    t0 = time.perf_counter() + 0.05
    for i in range(n):
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if time.perf_counter() - t0 > time_limit:
            break
        tasks.append(asyncio.ensure_future(one(i, due)))
    sent = len(tasks)
    done, pending = await asyncio.wait(tasks, timeout=max(0.0, time_limit - (time.perf_counter() - t0)) + timeout) \
        if tasks else (set(), set())
    for t in pending:
        t.cancel()
    elapsed = time.perf_counter() - t0
    lat.sort()

    def pct(p: float) -> float | None:
        return round(1000 * lat[min(len(lat) - 1, int(p / 100 * len(lat)))], 2) if lat else None

    return {"rate": rate, "planned": n, "sent": sent, "completed": len(lat), "dropped": dropped,
            "unfinished": len(pending),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "errors_5xx": sum(v for k, v in statuses.items() if k >= 500), "versions": versions,
            "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99), "max_ms": round(1000 * lat[-1], 2) if lat else None,
            "throughput_rps": round(len(lat) / elapsed, 1), "elapsed_s": round(elapsed, 2),
            "connections_peak": peak, "client_cpu_s": round(time.process_time(), 2)}


def client_main(args: argparse.Namespace) -> None:
    bodies = [line.encode() for line in Path(args.bodies).read_text().splitlines() if line]
    n = int(args.rate * args.duration)
    res = asyncio.run(_client(args.url, bodies, args.rate, n, args.duration + 5, args.timeout, args.max_conns))
    say(json.dumps(res))


def run_client(url: str, bodies: Path, rate: float, duration: float, timeout: float = 10.0) -> subprocess.Popen:
    cmd = [sys.executable, __file__, "client", "--url", url, "--bodies", str(bodies), "--rate", str(rate),
           "--duration", str(duration), "--timeout", str(timeout)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def client_result(proc: subprocess.Popen, limit: float) -> dict:
    out, _ = proc.communicate(timeout=limit)
    return json.loads(out.strip().splitlines()[-1])


# ---------------------------------------------------------------------- server
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(store: Path, name: str, threads: int) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "recgen.cli.main", "-q", "serve", str(store), "--name", name, "--port", str(port),
           "--poll", "0.5", "--threads", str(threads), "--log-level", "warning"]
    proc = subprocess.Popen(cmd)
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not become ready in 180 s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by process ``pid`` and its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(url: str, server: subprocess.Popen, bodies: Path, rate: float, duration: float,
             during=None) -> dict:
    """One client run; adds the server's CPU milliseconds per completed request (contention-independent)."""
    c0 = cpu_seconds(server.pid)
    proc = run_client(url, bodies, rate, duration)
    extra = during() if during is not None else {}
    r = client_result(proc, duration + 60)
    r["server_cpu_ms_per_req"] = round(1000 * (cpu_seconds(server.pid) - c0) / max(r["completed"], 1), 3)
    r.update(extra, load_avg=os.getloadavg()[0])
    return r


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


# ---------------------------------------------------------------------- models and requests
def train_models(models: list[str], work: Path, vae_epochs: int) -> dict[str, list[Path]]:
    """Artifacts per model name: [version 1, version 2 (published during the reload run)].

    Artifacts already in ``work`` (from an earlier run with ``--artifacts``) are reused. Mult-VAE's
    version 2 is the same weights published again: the service still loads it completely and swaps.
    """
    import numpy as np  # noqa: F401 - imported here so the client process stays light

    from recgen.data import read_given
    from recgen.models.registry import create_model

    split = read_given(DATA, format="lines")
    fp = split.train.fingerprint()
    out: dict[str, list[Path]] = {}
    for name in models:
        if name == "ease":
            variants = [{"l2": 1000.0}, {"l2": 250.0}]
        else:
            variants = [{"epochs": vae_epochs, "total_anneal_steps": 2000, "seed": 0, "device": "cpu",
                         "show_progress": False, "num_threads": 2}]
        paths = []
        for i, cfg in enumerate(variants):
            if (work / f"{name}-v{i + 1}" / "config.json").is_file():
                paths.append(work / f"{name}-v{i + 1}")
                say(f"reusing {work / f'{name}-v{i + 1}'}")
                continue
            t0 = time.perf_counter()
            model = create_model(name, **cfg).fit(split.train)
            path = model.save(work / f"{name}-v{i + 1}", data_fingerprint=fp,
                              metrics={"note": "bench artifact: trained for serving latency, not tuned"})
            say(f"trained {name} {cfg} in {time.perf_counter() - t0:.1f}s")
            paths.append(path)
        out[name] = paths if len(paths) == 2 else [paths[0], paths[0]]
    return out


def write_bodies(path: Path, n: int = 4000, seed: int = 0) -> None:
    """Half `user_id` requests (training users), half `items` histories of 5-50 items (unseen users)."""
    from recgen.data import read_given

    split = read_given(DATA, format="lines")
    users = split.train.users.ids
    items = split.train.items.ids
    m = split.train.matrix
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        u = rng.randrange(len(users))
        if i % 2 == 0:
            lines.append(json.dumps({"user_id": str(users[u]), "k": 20}))
        else:
            row = m.indices[m.indptr[u]:m.indptr[u + 1]].tolist()
            hist = rng.sample(row, min(len(row), rng.randint(5, 50)))
            lines.append(json.dumps({"items": [str(items[j]) for j in hist], "k": 20}))
    path.write_text("\n".join(lines) + "\n")


# ---------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["ease", "mult-vae"])
    ap.add_argument("--rates", nargs="+", type=float, default=[50, 200, 500])
    ap.add_argument("--duration", type=float, default=15.0, help="seconds per rate")
    ap.add_argument("--reload-rates", nargs="+", type=float, default=[50, 200])
    ap.add_argument("--reload-duration", type=float, default=20.0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads of the server's scoring worker")
    ap.add_argument("--vae-epochs", type=int, default=10)
    ap.add_argument("--artifacts", default=None, help="keep trained models here and reuse them on the next run")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "serve_load.json"))
    args = ap.parse_args()

    import httpx

    from recgen.models.registry import available_models
    from recgen.serving import ModelStore

    models = [m for m in args.models if m in available_models()]
    missing = sorted(set(args.models) - set(models))
    results: dict = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                 "python": platform.python_version(), "load_avg_start": os.getloadavg()},
                     "command": " ".join([Path(sys.executable).name, *sys.argv]), "missing_models": missing,
                     "runs": [], "reload": []}
    with tempfile.TemporaryDirectory(prefix="recgen-serve-bench-") as tmp:
        work = Path(tmp)
        arts = train_models(models, Path(args.artifacts) if args.artifacts else work, args.vae_epochs)
        bodies = work / "bodies.jsonl"
        write_bodies(bodies)
        store = ModelStore(work / "store")
        for name in models:
            store.publish(arts[name][0], name)
            server, url = start_server(store.root, name, args.threads)
            try:
                client_result(run_client(url, bodies, 50, 2), 60)  # warm-up, not recorded
                for rate in args.rates:
                    r = measured(url, server, bodies, rate, args.duration)
                    r.update(model=name)
                    results["runs"].append(r)
                    say(f"{name:9s} {rate:5.0f}/s  p50 {r['p50_ms']} p95 {r['p95_ms']} p99 {r['p99_ms']} ms  "
                        f"{r['throughput_rps']} rps  5xx {r['errors_5xx']} dropped {r['dropped']} unfinished {r['unfinished']}  "
                        f"server CPU {r['server_cpu_ms_per_req']} ms/req  load {r['load_avg']:.1f}")
                for rate in args.reload_rates:
                    version = f"{len(store.versions(name)) + 1:04d}"

                    def publish_mid_run(version: str = version, name: str = name, url: str = url) -> dict:
                        time.sleep(args.reload_duration / 3)
                        t_pub = time.perf_counter()
                        store.publish(arts[name][len(store.versions(name)) % 2], name)
                        while True:
                            try:
                                if httpx.get(f"{url}/health", timeout=30).json().get("version") == version:
                                    break
                            except httpx.HTTPError:
                                pass
                            time.sleep(0.05)
                        return {"new_version": version, "swap_after_publish_s": round(time.perf_counter() - t_pub, 2)}

                    r = measured(url, server, bodies, rate, args.reload_duration, during=publish_mid_run)
                    r.update(model=name)
                    results["reload"].append(r)
                    say(f"{name:9s} reload at {rate:.0f}/s: versions {r['versions']} 5xx {r['errors_5xx']} "
                        f"dropped {r['dropped']} unfinished {r['unfinished']} p99 {r['p99_ms']} ms (swap {r['swap_after_publish_s']}s after "
                        f"publish)  load {r['load_avg']:.1f}")
            finally:
                stop_server(server)
    results["machine"]["load_avg_end"] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    say("\n| model | rate (req/s) | p50 ms | p95 ms | p99 ms | throughput (req/s) | 5xx | dropped | unfinished | server CPU ms/req | load avg |")
    say("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results["runs"]:
        say(f"| {r['model']} | {r['rate']:.0f} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | "
            f"{r['throughput_rps']} | {r['errors_5xx']} | {r['dropped']} | {r['unfinished']} | {r['server_cpu_ms_per_req']} | "
            f"{r['load_avg']:.1f} |")
    for r in results["reload"]:
        say(f"| {r['model']} + reload | {r['rate']:.0f} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | "
            f"{r['throughput_rps']} | {r['errors_5xx']} | {r['dropped']} | {r['unfinished']} | {r['server_cpu_ms_per_req']} | "
            f"{r['load_avg']:.1f} |")
    if missing:
        say(f"models not available (skipped): {missing}")
    say(f"wrote {args.out}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        cp = argparse.ArgumentParser()
        cp.add_argument("client")
        cp.add_argument("--url", required=True)
        cp.add_argument("--bodies", required=True)
        cp.add_argument("--rate", type=float, required=True)
        cp.add_argument("--duration", type=float, required=True)
        cp.add_argument("--timeout", type=float, default=10.0)
        cp.add_argument("--max-conns", type=int, default=512)
        client_main(cp.parse_args())
    else:
        main()
