"""The README's benchmark figures, rendered from the committed bench/out/*.json.

Every figure passage of README.md sits between markers, `<!-- figures:NAME -->` and
`<!-- /figures:NAME -->`; NAME is one of RENDERERS below, which turns the JSON the benches wrote
into that passage. Nothing between the markers is typed by hand.

    python bench/readme_figures.py           # check: exit 1 if a block differs or a JSON is missing
    python bench/readme_figures.py --write   # rewrite the blocks in README.md from bench/out
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
OUT = REPO / "bench" / "out"

CITED = re.compile(r"bench/out/(?P<name>[a-z0-9_]+)\.json")
BLOCK = re.compile(
    r"<!-- figures:(?P<name>[\w-]+) -->\n(?P<body>.*?)<!-- /figures:(?P=name) -->\n", re.S
)

Data = dict[str, dict[str, Any]]
X, DASH = "\u00d7", "\u2013"  # the README's multiplication sign and en dash


class MissingResultError(Exception):
    """A bench/out JSON that a README block is rendered from does not exist."""


def n(value: float) -> str:
    """A count with thousands separators (1,000,000)."""
    return f"{value:,.0f}"


def day(data: dict[str, Any]) -> str:
    """The date part of a result's ISO timestamp."""
    return str(data["date"])[:10]


def flag(data: dict[str, Any]) -> str:
    """` --quick` when the result came from a bench's quick mode."""
    return " --quick" if data.get("quick") else ""


def pct(value: float) -> str:
    """A recall fraction as the README shows it (95%)."""
    return f"{value:.0%}"


def ms(seconds: float) -> str:
    """Seconds as whole milliseconds."""
    return f"{seconds * 1000:.0f} ms"


def render_benchmarks(data: Data) -> str:
    """Photo hashing, video hashing and hub throughput: one table."""
    photos, video, hub = data["hash_throughput"], data["video_throughput"], data["hub_throughput"]
    clips = video["clips"]
    per_clip = [clip["redress_x_realtime"] for clip in clips]
    mode = " (`--quick`)" if hub.get("quick") else ""
    return (
        f"Measured on {day(photos)} on {photos['machine']}, one run of each: "
        f"`bench/hash_throughput.py{flag(photos)}` (median of {photos['rounds']} rounds), "
        f"`bench/video_throughput.py{flag(video)}` (median of {video['rounds']} rounds per clip), "
        f"`bench/hub_throughput.py{flag(hub)}`; outputs in `bench/out/`:\n\n"
        "| benchmark | naive | Redress |\n"
        "|---|---|---|\n"
        f"| 12 MP JPEG photos per second, one core, {photos['photos']} photos | "
        f"{photos['naive_photos_per_s']} | {photos['redress_photos_per_s']} "
        f"({photos['speedup']}{X}), drift ≤ {photos['drift_vs_naive_bits_max']} bits vs naive, "
        f"≤ {photos['drift_vs_full_decode_bits_max']} vs full decode |\n"
        f"| video, {X} real time at 1 fps, one core, all {len(clips)} clips | "
        f"{video['overall']['naive_x_realtime']}{X} | {video['overall']['redress_x_realtime']}{X} "
        f"(per clip {min(per_clip)}{DASH}{max(per_clip)}{X}) |\n"
        f"| hub feed export, {n(hub['bank_signals'])}-signal bank{mode}, SQLite, pages of 10,000 "
        f"over HTTP | | {n(hub['feed_signals_per_s'])} signals/s to one platform |\n"
        f"| hub case creation, sequential over HTTP, {hub['cases_created']} cases | | "
        f"{hub['cases_per_s']} cases/s (the argon2id PIN hash alone takes "
        f"{hub['pin_hash_median_ms']} ms, by design) |\n"
    )


def render_pdq_index(data: Data) -> str:
    """PdqIndex against FAISS, one column group per bank size measured."""
    result = data["pdq_index"]
    rows = result["results"]
    sizes = ", ".join(f"{n(row['size'])}" for row in rows)
    lines = [
        f"PDQ index, one thread, radius {result['radius']}, {day(result)} "
        f"(`bench/pdq_index.py {' '.join(str(row['size']) for row in rows)}`; "
        f'"{rows[0].get("shape", "bank")}" shape; {result["machine"]}; FAISS measured in the '
        "same run; recall is against FAISS brute force on a sample of the queries):",
        "",
        f"| | FAISS `IndexBinaryFlat` | FAISS `IndexBinaryMultiHash` 16{X}16, nflip 1 (HMA) "
        "| Redress `PdqIndex` |",
        "|---|---|---|---|",
    ]
    for row in rows:
        size = n(row["size"])
        lines += [
            f"| {size} hashes: queries/s | {n(row['faiss_flat_qps'])} | "
            f"{n(row['faiss_multihash_qps'])} | {n(row['redress_qps_batch1'])} one at a time, "
            f"{n(row['redress_qps_batch64'])} in batches of 64 |",
            f"| {size}: build | | {row['faiss_multihash_build_s']} s | "
            f"{row['redress_build_s']} s |",
            f"| {size}: memory | | | {row['redress_index_bytes_per_hash']} bytes/hash in the "
            f"index's arrays; RSS grew {row['redress_rss_bytes_per_hash']} bytes/hash |",
            f"| {size}: recall against brute force | | | {row['recall_percent']:g} % "
            f"({n(row['true_matches_in_sample'])} true matches in the sample), "
            f"{row['false_matches']} false matches |",
        ]
    ten_million = [row for row in rows if row["size"] == 10_000_000]
    if ten_million:
        row = ten_million[0]
        met = "reached" if row["redress_qps_batch1"] >= 10_000 else "**not reached**"
        target = (
            f"The target of 10,000 queries/s per core at 10 M is {met} in this run: "
            f"{n(row['redress_qps_batch1'])} one at a time, {n(row['redress_qps_batch64'])} in "
            "batches of 64."
        )
    else:
        target = (
            "The 10 M bank was not measured for this table (`python bench/pdq_index.py "
            "10000000`), so the target of 10,000 queries/s per core at 10 M is not shown as met."
        )
    lines += [
        "",
        f"Sizes measured: {sizes} hashes. {target} The `dense` stress bank "
        "(`--shape dense`) is not in this table.",
    ]
    return "\n".join(lines) + "\n"


def render_agent(data: Data) -> str:
    """Feed ingest, update latency and check throughput of the agent."""
    agent = data["agent"]
    signals = n(agent["bank_signals"])
    return (
        f"Agent, {day(agent)} (`bench/agent.py{flag(agent)}`; one run; hub on SQLite with "
        f"{signals} random PDQ signals, everything on loopback on {agent['machine']}):\n\n"
        "| | |\n"
        "|---|---|\n"
        "| feed ingest into a fresh agent's index over HTTP, blocks already encoded by the hub "
        f"(every platform after the first) | {n(agent['ingest_warm_signals_per_s'])} signals/s "
        f"({agent['ingest_warm_s']} s for {signals}) |\n"
        "| the same, first reader (the hub encodes every block from its database) | "
        f"{n(agent['ingest_cold_signals_per_s'])} signals/s ({agent['ingest_cold_s']} s) |\n"
        f"| hub write → changed `check` answer, {agent['trials']} trials | add: median "
        f"{ms(agent['add_median_s'])}, worst {ms(agent['add_worst_s'])}; withdrawal: median "
        f"{ms(agent['withdraw_median_s'])}, worst {ms(agent['withdraw_worst_s'])} |\n"
        f"| `check` over HTTP with a hash, {agent['check_connections']} keep-alive connections, "
        f"{agent['check_seconds']:g} s | {n(agent['check_requests_per_s'])} requests/s, p50 "
        f"{agent['check_p50_ms']:.1f} ms, p99 {agent['check_p99_ms']:.1f} ms |\n"
    )


def recall_rows(plain: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    """One table row per edit: plain PDQ's recall, then Redress's."""
    return [
        f"| {edit} | {pct(plain['recall'][edit])} | {pct(ours['recall'][edit])} |"
        for edit in plain["recall"]
    ]


def render_robustness(data: Data) -> str:
    """The robustness harness: recall per edit, false matches, the edits not designed on."""
    result = data["robustness"]
    plain, ours = result["methods"]
    unseen_plain, unseen_ours = result["unseen_methods"]
    reference = sum(source.startswith("reference/") for source in result["corpus"])
    skimage = sum(source.startswith("skimage.") for source in result["corpus"])
    margin = (
        " / ".join(f"{plain['margin'][k]:.0f}" for k in ("min", "p1", "median")),
        " / ".join(f"{ours['margin'][k]:.0f}" for k in ("min", "p1", "median")),
    )
    lines = [
        f"Robustness harness, {day(result)} (`bench/robustness.py{flag(result)}`), corpus: "
        f"{len(result['corpus'])} photos ({reference} reference photos with PDQ quality ≥ 50 and "
        f"{skimage} scikit-image sample photos), {len(result['edits'])} edits, PDQ distance ≤ 31. "
        '"redress" = bank built with `redress hash --variants` from the originals, queries '
        "through `redress match`:",
        "",
        "| edit | plain PDQ | redress |",
        "|---|---|---|",
        *recall_rows(plain, ours),
        f"| **overall** | **{plain['overall_recall']:.1%}** | **{ours['overall_recall']:.1%}** |",
        f"| false matches ({n(ours['distinct_pairs'])} distinct-image pairs) | "
        f"{plain['false_matches']} | {ours['false_matches']} |",
        f"| false matches against the {n(ours['haystack_size'])} haystack hashes | "
        f"{plain['haystack_false_matches']} | {ours['haystack_false_matches']} |",
        f"| closest distinct-image distance (min / p1 / median) | {margin[0]} | {margin[1]} |",
        f"| PDQ hashes per bank image / per query | {plain['bank_hashes_per_image']:g} / "
        f"{plain['query_hashes_per_copy']:.3g} | {ours['bank_hashes_per_image']:g} / "
        f"{ours['query_hashes_per_copy']:.3g} |",
        f"| time per query (decode + hashes) | {plain['query_ms']:.0f} ms | "
        f"{ours['query_ms']:.0f} ms |",
        "",
        "Edits the variant set was *not* designed on (how far it generalises; same corpus, "
        f"{unseen_plain['false_matches']} / {unseen_ours['false_matches']} false matches):",
        "",
        "| edit | plain PDQ | redress |",
        "|---|---|---|",
        *recall_rows(unseen_plain, unseen_ours),
    ]
    return "\n".join(lines) + "\n"


def render_browser_hashing(data: Data) -> str:
    """The in-browser hashing sentence of the portal section."""
    result = data["browser_hashing"]
    return (
        f"`.venv/bin/python bench/browser_hashing.py{flag(result)}` times a 12 MP photo in the "
        f"browser ({result['browser_pdq_median_ms']} ms median over "
        f"{result['rounds']} rounds of {result['photos']} photos, "
        f"{result['browser_with_variants_median_ms']} ms with the variants, on "
        f"{result['machine']}, {day(result)}).\n"
    )


def render_attacks_agent(data: Data) -> str:
    """The agent under attack, before the hardening (attacks_agent_before) and after."""
    before, after = data["attacks_agent_before"], data["attacks_agent"]
    old, new = before["memory"], after["memory"]
    loop_old, loop_new = before["event_loop"], after["event_loop"]

    def peak(one: dict[str, Any], seconds: bool) -> str:
        text = f"{n(one['peak_rss_mb'])} MB (+{n(one['grew_mb'])} MB)"
        return text + (f", {one['seconds']:g} s" if seconds else "")

    def at_once(block: dict[str, Any], budget: str) -> str:
        answered = sorted(set(block["answers"]))
        if block["ran"] < block["asked"]:
            # "... 8 at once could take 21377 MB of the 21351 MB available"
            need = int(block["capped_because"].split("could take ")[1].split(" MB")[0])
            return (
                f"{n(block['peak_rss_mb'])} MB with {block['ran']} (the bench caps it: "
                f"{block['asked']} would need {n(need)} MB)"
            )
        return (
            f"{n(block['peak_rss_mb'])} MB with {block['ran']}, all answered "
            f"{'/'.join(answered)}{budget}"
        )

    def heavy(check: dict[str, Any], where: str) -> str:
        status = "413 `json_too_large`" if check["status"] == 413 else str(check["status"])
        took = (
            f"{check['seconds'] * 1000:.0f} ms"
            if check["seconds"] < 0.1
            else (f"{check['seconds']:.2f} s")
        )
        return (
            f"{status} in {took}{where}"
            if check["status"] == 413
            else (f"{status} after {took}{where}")
        )

    def checks(run: dict[str, Any]) -> str:
        return f"{n(run['checks_per_second'])}/s, p99 {run['p99_ms']:.2g} ms"

    def checks1(run: dict[str, Any]) -> str:
        p99 = run["p99_ms"]
        return (
            f"{n(run['checks_per_second'])}/s, p99 {p99:.1f} ms"
            if p99 < 10
            else (f"{n(run['checks_per_second'])}/s, p99 {p99:.0f} ms")
        )

    images = after["image_kb"]
    return (
        f"Attacks on the agent, {day(after)} (`bench/attacks_agent.py{flag(after)}`"
        f"{'' if 'quick' in after else ' (its mode was not recorded)'}, then the same "
        f"with `--src` on a checkout of {before['agent_source'].split('(')[-1].rstrip(')')}, the "
        "code before this hardening; outputs in `bench/out/attacks_agent.json` and "
        f"`bench/out/attacks_agent_before.json`; agent idle at {old['idle_rss_mb']} MB for the "
        f"old code, {new['idle_rss_mb']} MB now; {after['machine']}):\n\n"
        "| | before | after |\n"
        "|---|---|---|\n"
        f"| one upload, 10000² 16-bit PNG ({images['grey16']} KB): agent peak | "
        f"{peak(old['one_grey16'], True)} | {peak(new['one_grey16'], True)} |\n"
        f"| one upload, 10000² RGBA PNG ({images['rgba']} KB): agent peak | "
        f"{peak(old['one_rgba'], False)} | {peak(new['one_rgba'], False)} |\n"
        "| the 16-bit PNG, N uploads at once: agent peak | "
        f"{at_once(old['at_once'], '')} | "
        f"{at_once(new['at_once'], ' within the 2,048 MB budget')} |\n"
        f"| agent resident memory after the uploads | {n(before['agent_rss_after_uploads_mb'])} "
        f"MB | {n(after['agent_rss_after_uploads_mb'])} MB |\n"
        f"| one JSON check of 64 vPDQ signals {X} 2,400 frames "
        f"({loop_new['one_heavy_check']['64x2400']['body_mb']:.0f} MB) | "
        f"{heavy(loop_old['one_heavy_check']['64x2400'], ', on the event loop')} | "
        f"{heavy(loop_new['one_heavy_check']['64x2400'], '')} |\n"
        f"| ordinary one-hash checks, alone | {checks1(loop_old['normal_alone'])} | "
        f"{checks1(loop_new['normal_alone'])} |\n"
        f"| the same while a 64 {X} 2,400 check arrives every second | "
        f"{checks1(loop_old['with_64x2400_each_second'])} | "
        f"{checks1(loop_new['with_64x2400_each_second'])} |\n"
        f"| the same while a 4 {X} 2,400 check (within the limits) arrives every second | "
        f"{checks1(loop_old['with_4x2400_each_second'])} | "
        f"{checks1(loop_new['with_4x2400_each_second'])} |\n"
    )


def render_attacks_hub_cases(data: Data) -> str:
    """Case-creation floods: the longest write-lock hold, before and now."""
    result = data["attacks_hub_cases"]
    old, new = result["runs"]
    refused = new["attack_with_default_settings_status"]
    verdict = (
        f"With the default settings that flood is now refused ({refused} `too_many_signals`)."
        if refused == 422
        else f"With the default settings that flood is answered {refused}."
    )
    return (
        f"Case-creation floods on the hub, {day(result)} (`bench/attacks_hub_cases.py"
        f"{flag(result)} --src` on a checkout of the code before this hardening; "
        f"{result['machine']}; output in `bench/out/attacks_hub_cases.json`): "
        f"{new['attack']} held the database write lock for up to "
        f"{old['attack_longest_lock_hold_s']:g} s before and {new['attack_longest_lock_hold_s']:g}"
        f" s now (small creations beside them: slowest {old['attack_small_slowest_s']:.1f} s "
        f"before, {new['attack_small_slowest_s']:g} s now); {new['realistic']} held it "
        f"{old['realistic_longest_lock_hold_s']:g} s before and "
        f"{new['realistic_longest_lock_hold_s']:g} s now. {verdict}\n"
    )


def render_attacks_hub_pins(data: Data) -> str:
    """PIN bursts, spoofed client addresses and status checks, before and now."""
    result = data["attacks_hub_pins"]
    limits, now, old = result["limits"], result["runs"]["this"], result["runs"]["other"]
    lines = [
        f"Attacks on the hub's lock-out and rate limits, {day(result)} "
        f"(`bench/attacks_hub_pins.py{flag(result)} --src` on a checkout of the code before this "
        "hardening; `redress serve` on SQLite over loopback, one proxy trusted; "
        f"{result['machine']}; output in `bench/out/attacks_hub_pins.json`; the previous "
        "version's counts vary from run to run with the race):",
        "",
        "| attack | limit now | before | now |",
        "|---|---|---|---|",
    ]
    for workers in (1, 2):
        key = f"burst_{workers}_workers"
        for number, (was, this) in enumerate(zip(old[key], now[key], strict=True)):
            what = (
                f"{this['guesses']} wrong PINs at once on one case, {workers} worker"
                f"{'s' if workers > 1 else ''}: checked"
            )
            first = workers == 1 and number == 0
            limit = f"{limits['pin_burst_budget_one_address']} per address" if first else ""
            lines.append(f"| {what} | {limit} | {was['checked']} | {this['checked']} |")
    spoofed, spoofed_old = now["spoofed_creations"], old["spoofed_creations"]
    spray, spray_old = now["spoofed_pin_spray"], old["spoofed_pin_spray"]
    status, status_old = now["status_2_workers"], old["status_2_workers"]
    lines += [
        "| case creations with a spoofed first `X-Forwarded-For` entry: accepted of "
        f"{spoofed['sent']} | {limits['case_creation_rate']} | {spoofed_old['accepted']} | "
        f"{spoofed['accepted']} |",
        f"| wrong PINs on {spray['sent']} case numbers, spoofed entries: checked | "
        f"{limits['client_pin_failures_per_hour']}/hour | {spray_old['checked']} | "
        f"{spray['checked']} |",
        f"| status checks over 2 workers: passed of {status['sent']} | {limits['status_rate']} | "
        f"{status_old['passed_rate_limit']} | {status['passed_rate_limit']} |",
    ]
    locked = {
        run["right_pin_then"]
        for key in ("burst_1_workers", "burst_2_workers")
        for run in now[key] + old[key]
    }
    if locked == {"locked"}:
        lines += ["", "In every burst the right PIN sent just after was refused (`locked`)."]
    return "\n".join(lines) + "\n"


def render_limit_costs(data: Data) -> str:
    """The costs the limits are checked against, and a hash worker's own memory."""
    limits, before = data["limit_costs"], data["attacks_agent_before"]["memory"]
    images, video = limits["image_cost_mb"], limits["video"]
    grew = sorted(before[key]["grew_mb"] for key in ("one_grey16", "one_rgba"))
    side = f"{n(limits['image_side'])} {X} {n(limits['image_side'])}"
    over = [name for name in ("1080p", "4k", "8k") if video[f"{name}_mb"] > limits["max_decode_mb"]]
    raise_it = (
        f" ({', '.join(name.upper() if name != '1080p' else name for name in over)} video needs "
        "`REDRESS_MAX_DECODE_MB` raised)"
        if over
        else ""
    )
    worker = (
        f" A `redress hash --jobs N` worker process takes {limits['worker_peak_rss_mb']} MB of its "
        "own (peak resident memory of a fresh interpreter that hashes one small picture)."
        if "worker_peak_rss_mb" in limits
        else ""
    )
    return (
        f"What the header-based estimate charges, {day(limits)} "
        f"(`bench/limit_costs.py{flag(limits)}`; "
        f"{limits['machine']}; output in `bench/out/limit_costs.json`): a {side} RGBA PNG "
        f"{images['rgba']} MB, a 16-bit greyscale one {images['grey16']} MB, an RGB one "
        f"{images['rgb']} MB, against the default `REDRESS_MAX_DECODE_MB` of "
        f"{n(limits['max_decode_mb'])} MB (before this hardening, the agent grew by "
        f"{n(grew[0])}{DASH}{n(grew[-1])} MB decoding such a PNG of a few hundred KB; "
        "`bench/out/attacks_agent_before.json`). A video's decoder with this machine's "
        f"{video['decoding_threads']} decoding threads: {video['1080p_mb']} MB at 1080p, "
        f"{video['4k_mb']} MB at 4K, {n(video['8k_mb'])} MB at 8K{raise_it}.{worker}\n"
    )


# Block name -> (the bench/out JSON files it is rendered from, the renderer).
RENDERERS: dict[str, tuple[tuple[str, ...], Callable[[Data], str]]] = {
    "benchmarks": (("hash_throughput", "video_throughput", "hub_throughput"), render_benchmarks),
    "pdq_index": (("pdq_index",), render_pdq_index),
    "agent": (("agent",), render_agent),
    "robustness": (("robustness",), render_robustness),
    "browser_hashing": (("browser_hashing",), render_browser_hashing),
    "attacks_agent": (("attacks_agent", "attacks_agent_before"), render_attacks_agent),
    "attacks_hub_cases": (("attacks_hub_cases",), render_attacks_hub_cases),
    "attacks_hub_pins": (("attacks_hub_pins",), render_attacks_hub_pins),
    "limit_costs": (("limit_costs", "attacks_agent_before"), render_limit_costs),
}


def render(name: str, out: Path = OUT) -> str:
    """Block NAME's text from the JSON in `out`; MissingResultError if a file is absent."""
    sources, renderer = RENDERERS[name]
    data: Data = {}
    for source in sources:
        path = out / f"{source}.json"
        if not path.is_file():
            raise MissingResultError(
                f"{path.relative_to(path.parents[2])} is missing; run bench/{source}.py"
            )
        data[source] = json.loads(path.read_text())
    return wrap(renderer(data))


def wrap(text: str) -> str:
    """Prose lines folded at 100 characters like the rest of the README; tables left whole."""
    return "".join(
        line + "\n"
        if line.startswith("|") or not line
        else textwrap.fill(line, 100, break_long_words=False, break_on_hyphens=False) + "\n"
        for line in text.rstrip("\n").split("\n")
    )


def problems(readme: str, out: Path = OUT) -> list[str]:
    """Why the README's figure blocks do not match `out`, one line each (empty when they do)."""
    found: list[str] = []
    for cited in sorted({match["name"] for match in CITED.finditer(readme)}):
        if not (out / f"{cited}.json").is_file():
            found.append(f"README.md cites bench/out/{cited}.json, which is missing")
    names = [match["name"] for match in BLOCK.finditer(readme)]
    for name in sorted(set(RENDERERS) - set(names)):
        found.append(f"README.md has no <!-- figures:{name} --> block")
    for match in BLOCK.finditer(readme):
        name = match["name"]
        if name not in RENDERERS:
            found.append(
                f"README.md block figures:{name} has no renderer in bench/readme_figures.py"
            )
            continue
        try:
            expected = render(name, out)
        except MissingResultError as error:
            found.append(f"figures:{name}: {error}")
            continue
        if match["body"] != expected:
            found.append(
                f"figures:{name} differs from what bench/out renders; "
                "run python bench/readme_figures.py --write"
            )
    return found


def rewritten(readme: str, out: Path = OUT) -> str:
    """The README with every known block re-rendered from `out`."""

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in RENDERERS:
            return match[0]
        return f"<!-- figures:{name} -->\n{render(name, out)}<!-- /figures:{name} -->\n"

    return BLOCK.sub(replace, readme)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="update README.md from bench/out")
    args = parser.parse_args()
    text = README.read_text()
    if args.write:
        try:
            README.write_text(rewritten(text))
        except MissingResultError as error:
            sys.exit(str(error))
    found = problems(README.read_text())
    for line in found:
        print(line, file=sys.stderr)
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
