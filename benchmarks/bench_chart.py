"""The chart of benchmarks/suite.py: docs/images/benchmarks.png (matplotlib, Agg backend)."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import bench_workloads as bw  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {"tape": "#1f5fbf", "tape.compile": "#59a5e8", "numpy": "#6b6b6b", "torch": "#e07b00",
          "autograd": "#2e9e4f", "mygrad": "#8e5bb5"}
SHORT = {"tape": "tape", "tape.compile": "tape.compile", "numpy": "numpy floor",
         "torch": "torch", "autograd": "autograd", "mygrad": "MyGrad"}
# target line per workload: (reference backend, factor)
TARGETS = {"W1": ("torch", 0.5), "W2": ("numpy", 1.1), "W3": ("numpy", 1.1), "W4": ("torch", 0.5)}


def _fmt(v: float) -> str:
    return f"{v:.3g}" if v < 100 else f"{v:.0f}"


def _short(text: str) -> str:
    return (text.replace(" (torch never imported)", ", no torch").replace(" (torch imported)", ", torch imp.")
            .replace("RSS flat, step", "RSS flat,"))


def _bars(ax, key, wl, notorch):
    rows = []  # (label, value, colour, hatched)
    res = wl["results"]
    for b in bw.BACKENDS:
        if b in res:
            rows.append((SHORT[b], res[b]["value"], COLORS[b], False, res[b]["cpu"] / res["numpy"]["cpu"]
                         if "numpy" in res else None))
    if notorch and notorch.get("results"):
        nres = notorch["results"]
        for b in bw.BACKENDS:
            if b in nres:
                rows.append((SHORT[b] + ", no torch", nres[b]["value"], COLORS[b], True,
                             nres[b]["cpu"] / nres["numpy"]["cpu"] if "numpy" in nres else None))
    rows.reverse()  # first backend on top
    ys = range(len(rows))
    ax.barh(list(ys), [r[1] for r in rows], color=[r[2] for r in rows],
            hatch=None, edgecolor="white")
    for y, r in zip(ys, rows):
        if r[3]:
            ax.barh([y], [r[1]], color="none", edgecolor="white", hatch="//", linewidth=0)
        txt = f" {_fmt(r[1])}" + (f"  ({r[4]:.1f}× numpy)" if r[4] is not None and r[0] != "numpy floor"
                                and not r[0].startswith("numpy floor") else "")
        ax.text(r[1], y, txt, va="center", ha="left", fontsize=8)
    ax.set_yticks(list(ys))
    ax.set_yticklabels([r[0] for r in rows], fontsize=8.5)
    ax.set_xscale("log")
    lo = min(r[1] for r in rows)
    hi = max(r[1] for r in rows)
    ax.set_xlim(lo / 2, hi * 12)  # room for the labels on a log axis
    ref, factor = TARGETS[key]
    if ref in res:
        x = res[ref]["value"] * factor
        ax.axvline(x, color="#d62728", linestyle=":", linewidth=1.5)
        ax.text(x, len(rows) - 0.45, f" target: {factor:g}× {ref}", color="#d62728", fontsize=8,
                va="bottom")
    ax.set_ylim(-0.6, len(rows) - 0.1)
    ax.set_title(f"{key}: {wl['title']}", fontsize=10, loc="left")
    ax.set_xlabel(f"{wl['unit']} (process CPU time, median; log scale, lower is better)", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", which="major", alpha=0.3)


def _rss(ax, rep):
    rows = [r for r in rep["w5"] if "rss" in r]
    if not rows:
        ax.axis("off")
        return
    s0, s1 = (str(s) for s in rep["w5_steps"])
    labels = [f"{SHORT[r['backend']]}\n{'torch imported' if r['torch_imported'] else 'no torch'}"
              for r in rows]
    xs = range(len(rows))
    mb = 1 / 2**20
    a = [r["rss"][s0] * mb for r in rows]
    b = [r["rss"][s1] * mb for r in rows]
    ax.bar([x - 0.2 for x in xs], a, width=0.4, color="#9ecae1", label=f"after step {s0}")
    ax.bar([x + 0.2 for x in xs], b, width=0.4, color=[COLORS[r["backend"]] for r in rows],
           label=f"after step {s1}")
    for x, r, v in zip(xs, rows, b):
        flat = r["growth"] < 0.05
        ax.text(x + 0.2, v, f"{r['growth'] * 100:+.1f}%", ha="center", va="bottom", fontsize=8,
                color="#2ca02c" if flat else "#d62728")
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, fontsize=7.5)
    ax.set_ylabel("RSS, MB", fontsize=8)
    ax.set_ylim(0, max(a + b) * 1.18)
    ax.tick_params(axis="y", labelsize=8)
    ax.legend(fontsize=7.5, loc="upper left", frameon=False, ncol=2)
    ax.set_title(f"W5: RSS of a W2 + SGD loop (growth {s0}→{s1}; flat < 5%)", fontsize=10, loc="left")


def _targets(ax, rep):
    ax.axis("off")
    ax.set_title("Targets (issue 6), this run", fontsize=10, loc="left")
    rows = rep["targets"]
    n = max(len(rows), 1)
    for i, (text, measured, ok, _spread) in enumerate(rows):
        y = 1 - (i + 0.5) / n
        mark, col = ("–", "#6b6b6b") if ok is None else (("pass", "#2ca02c") if ok else ("FAIL", "#d62728"))
        ax.text(0.0, y, _short(text), fontsize=8, va="center", transform=ax.transAxes)
        ax.text(0.9, y, measured, fontsize=8, va="center", ha="right", transform=ax.transAxes)
        ax.text(0.93, y, mark, fontsize=8, va="center", color=col, weight="bold",
                transform=ax.transAxes)


def draw(rep: dict, path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig, axes = plt.subplots(2, 3, figsize=(17, 9.5))
    nt = rep["notorch"].get("workloads", {})
    for ax, key in zip(axes.flat, ("W1", "W2", "W3", "W4")):
        wl = rep["workloads"].get(key)
        if wl and wl["results"]:
            _bars(ax, key, wl, nt.get(key))
        else:
            ax.axis("off")
    _rss(axes.flat[4], rep)
    _targets(axes.flat[5], rep)
    la = rep["load_before"]
    fig.suptitle(f"tape benchmarks — {rep['date']}, {rep['machine']['cpu']} ({rep['machine']['cpus']} CPUs, "
                 f"load {la[0]:.1f}), one BLAS/torch thread; `{rep['command']}`: median of "
                 f"{rep['rounds']} interleaved rounds", fontsize=10.5)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=100)
    plt.close(fig)
