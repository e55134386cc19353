"""The action image: size, layers, and start-up inside a container (podman)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import GOAL_IMAGE_MB, GOAL_ROUTES, HERE, Proc, fmt_ms, median, met
from gateway import FakeGateway
from startup import parse_importtime, print_importtime, print_phases
from wall import first_after


def podman_cmd() -> tuple[list[str], dict[str, str]] | None:
    podman = shutil.which("podman")
    if not podman:
        return None
    cache = os.environ.get("ROUTING_GUARD_CONTAINER_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "routing-guard-container"
    )
    env = dict(os.environ)
    conf = Path(cache) / "containers.conf"
    if conf.is_file():
        env["CONTAINERS_CONF"] = str(conf)
    return [podman, "--runtime", "runc", "--storage-driver=vfs"], env


def image_facts(image: str, base: str) -> bool:
    """Print the image's size and layers; False when podman or the image is missing."""
    found = podman_cmd()
    if found is None:
        print("podman is not installed: image size not measured.")
        return False
    cmd, env = found

    def podman(*args: str) -> Proc:
        return subprocess.run(
            [*cmd, *args], env=env, capture_output=True, text=True, timeout=300, check=False
        )

    def inspect(name: str) -> dict[str, Any] | None:
        proc = podman("image", "inspect", name)
        return dict(json.loads(proc.stdout)[0]) if proc.returncode == 0 else None

    def history(name: str) -> list[dict[str, Any]]:
        proc = podman("image", "history", "--format", "json", name)
        return list(json.loads(proc.stdout)) if proc.returncode == 0 and proc.stdout.strip() else []

    info = inspect(image)
    if info is None:
        listed = podman("images", "--format", "{{.Repository}}:{{.Tag}}")
        others = [t for t in listed.stdout.split() if "routing-guard" in t]
        print(
            f"image {image} does not exist (the container tests build it after "
            f"scripts/container-setup.sh); routing-guard images present: {', '.join(others) or 'none'}"
        )
        return False
    size = int(info["Size"])
    layers = len(info["RootFS"]["Layers"])
    print(f"- image {image}: {size / 1e6:.1f} MB, {layers} layers")
    base_info = inspect(base)
    if base_info is None:
        print(f"- base image {base} not found: size above base unknown")
        return True
    base_size = int(base_info["Size"])
    base_layers = len(base_info["RootFS"]["Layers"])
    above = (size - base_size) / 1e6
    print(f"- base image {base}: {base_size / 1e6:.1f} MB, {base_layers} layers")
    print(
        f"- above base: {above:.1f} MB in {layers - base_layers} layers "
        f"(goal < {GOAL_IMAGE_MB:.0f} MB: {met(above < GOAL_IMAGE_MB)})\n"
    )
    own = history(image)
    added = len(own) - len(history(base))
    if added > 0:
        print("| size | step (image history, newest first) |")
        print("|---:|---|")
        for entry in own[:added]:
            created_by = " ".join(str(entry.get("CreatedBy") or entry.get("created_by") or "").split())
            created_by = created_by.removeprefix("/bin/sh -c ").replace("|", "\\|")
            print(
                f"| {int(entry.get('Size') or entry.get('size') or 0) / 1e6:.1f} MB | `{created_by[:96]}` |"
            )
        print()
    return True


def image_startup(image: str, work: Path, gateway: FakeGateway, times: int) -> dict[str, Any] | None:
    """bench/in_image.py inside the image, on the host's network namespace (loopback gateway)."""
    found = podman_cmd()
    assert found is not None
    cmd, env = found
    gateway.reset()
    argv = [
        *cmd,
        "run",
        "--rm",
        "--network=host",
        "-v",
        f"{HERE}:/bench:ro",
        "-v",
        f"{work}:/work",
        "--entrypoint",
        "/opt/routing-guard/bin/python",
        image,
        "/bench/in_image.py",
        str(GOAL_ROUTES),
        str(times),
    ]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        print(f"in-image run failed (podman exited {proc.returncode}): {proc.stderr.strip()[-600:]}")
        return None
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    arrivals, _ = gateway.snapshot()
    rounds = out["rounds"].values()
    spawns = sorted(
        s
        for r in rounds
        for s in [*r["check_spawns"], *r["action_spawns"], r["phases_spawn"], r["spawns_end"]]
    )

    def firsts(own: list[float]) -> list[float]:
        result = []
        for spawn in own:
            later = [s for s in spawns if s > spawn]
            result.append(first_after(spawn, arrivals, min(later) if later else float("inf")))
        return result

    for r in rounds:
        r["check_first"] = firsts(r["check_spawns"])
        r["action_first"] = firsts(r["action_spawns"])
        r["phases_first"] = firsts([r["phases_spawn"]])[0]
    return out


def print_image_startup(out: dict[str, Any]) -> None:
    print(
        f"Inside the image: its Python {out['python']}, "
        f"PYTHONDONTWRITEBYTECODE={out['dontwritebytecode']!r}; "
        f"`python -m routing_guard ...`, and the action's entrypoint with INPUT_* as the runner sets them; "
        f"{GOAL_ROUTES} routes. Round 2 deletes the stdlib's .pyc files in the throwaway container first, "
        "as the official python:*-slim base ships it (all of them: "
        f"{out['stdlib_pyc_bytes'] / 1e6:.1f} MB; those the action imports: "
        f"{out['stdlib_pyc_needed_bytes'] / 1e6:.1f} MB).\n"
    )
    names = list(out["rounds"])
    print("| measurement | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    rows = (
        ("`python -c pass`", "pass"),
        ("`--version`", "version"),
        ("`validate`", "validate"),
        ("`check`: spawn -> first request", "check_first"),
        ("`check`: wall", "check"),
        ("action entrypoint: spawn -> first request", "action_first"),
        ("action entrypoint: wall", "action"),
    )
    for label, key in rows:
        cells = [
            f"{fmt_ms(median(out['rounds'][n][key]))} (min {fmt_ms(min(out['rounds'][n][key]))})"
            for n in names
        ]
        print(f"| {label} | " + " | ".join(cells) + " |")
    exits = {n: sorted({*out["rounds"][n]["check_exit"], *out["rounds"][n]["action_exit"]}) for n in names}
    print(f"\nexit codes: {exits}\n")
    for name in names:
        r = out["rounds"][name]
        if r.get("phases"):
            print(f"Where the time to the first request goes inside the image, {name} (one cold run):\n")
            print_phases(r["phases"], r["phases_first"])
        else:
            print(f"phase breakdown failed ({name}): {r.get('phases_error')}\n")
        print_importtime(f"check, inside the image, {name}", parse_importtime(r["importtime_check"]))
    print_importtime(
        "--version, inside the image, as built",
        parse_importtime(out["rounds"][names[0]]["importtime_version"]),
    )
    sizes = sorted(out["site_packages_bytes"].items(), key=lambda item: -item[1])
    print("Installed size in the image's venv, per package (files on disk, incl. .pyc):\n")
    print("| package | size |")
    print("|---|---:|")
    for name, size in sizes[:14]:
        print(f"| {name} | {size / 1e6:.2f} MB |")
    print(f"| total | {sum(size for _, size in sizes) / 1e6:.2f} MB |\n")
