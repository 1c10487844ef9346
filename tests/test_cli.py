"""The command line, run as a real process: output formats, streaming, errors and exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import pytest

from redress.hashing.signal_types import hamming_distance
from tests.conftest import textured_image


def redress(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redress", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def jsonl(text: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder of generated photos, a nested one, a hidden file and one bad file."""
    root = tmp_path / "photos"
    (root / "nested").mkdir(parents=True)
    for seed in range(3):
        textured_image(320, 240, seed=seed).save(root / f"p{seed}.jpg", quality=92)
    textured_image(200, 200, seed=9).save(root / "nested" / "deep.png")
    (root / ".hidden.jpg").write_bytes(b"ignored")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return root


def test_hash_folder_streams_jsonl_and_reports_the_bad_file(folder: Path) -> None:
    run = redress("hash", str(folder), "--jobs", "2")
    assert run.returncode == 1, run.stderr
    records = jsonl(run.stdout)
    paths = [Path(r["path"]).name for r in records]
    assert paths == ["broken.jpg", "p0.jpg", "p1.jpg", "p2.jpg", "deep.png"]
    good = [r for r in records if "error" not in r]
    assert all(set(r) >= {"path", "type", "value", "quality", "variant"} for r in good)
    assert all(r["type"] == "pdq" and len(r["value"]) == 64 and r["variant"] is None for r in good)
    bad = records[0]
    assert set(bad) == {"path", "error"}
    assert bad["error"]["code"] in {"corrupt", "truncated"}
    assert "Hashed 4 of 5 file(s)" in run.stderr
    assert "Traceback" not in run.stderr


def test_hash_is_the_same_with_one_job_and_many(folder: Path) -> None:
    one = jsonl(redress("hash", str(folder), "-j", "1").stdout)
    two = jsonl(redress("hash", str(folder), "-j", "2").stdout)
    assert one == two


def test_hash_dihedral_prints_the_original_first_then_seven_variants(folder: Path) -> None:
    run = redress("hash", "--dihedral", str(folder / "p0.jpg"))
    assert run.returncode == 0, run.stderr
    records = jsonl(run.stdout)
    assert [r["variant"] for r in records] == [
        None,
        "rotate90",
        "rotate180",
        "rotate270",
        "flip_top_bottom",
        "flip_left_right",
        "transpose",
        "transverse",
    ]


def test_hash_csv_and_text_formats(folder: Path) -> None:
    run = redress("hash", "--format", "csv", "--types", "pdq,md5,sha256", str(folder / "p1.jpg"))
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert [r["type"] for r in rows] == ["pdq", "md5", "sha256"]
    assert run.returncode == 0
    text = redress("hash", "-f", "text", str(folder / "p1.jpg"), str(folder / "missing.jpg"))
    assert text.returncode == 1
    kind, value, path = text.stdout.strip().split("\t")
    assert (kind, path) == ("pdq", str(folder / "p1.jpg"))
    assert value == rows[0]["value"]
    assert "missing.jpg: error (not_found)" in text.stderr


def test_md5_only_hashes_any_file_without_decoding(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    run = redress("hash", "--types", "md5", str(tmp_path / "notes.txt"))
    assert run.returncode == 0
    assert jsonl(run.stdout)[0]["value"] == "b1946ac92492d2347c6235b4d2611184"


def test_usage_errors_exit_2(folder: Path) -> None:
    run = redress("hash", "--types", "phash", str(folder))
    assert run.returncode == 2
    assert "Unknown signal type(s): phash" in run.stderr
    bare = redress("hash")  # no paths: the usage, and the usage-error status
    assert bare.returncode == 2
    assert "redress hash [OPTIONS] {paths}..." in bare.stdout
    assert bare.stdout.lstrip().startswith("Usage:")


def test_help_explains_with_an_example() -> None:
    for args in (["--help"], ["hash", "--help"], ["match", "--help"]):
        run = redress(*args)
        assert run.returncode == 0
        assert "Example" in run.stdout


def test_match_against_hash_output_returns_the_listed_record(folder: Path, tmp_path: Path) -> None:
    bank = tmp_path / "bank.jsonl"
    bank.write_text(redress("hash", str(folder / "p0.jpg"), str(folder / "p1.jpg")).stdout)
    # The query: p0 flipped and re-encoded.
    from PIL import Image

    with Image.open(folder / "p0.jpg") as image:
        image.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(tmp_path / "q.jpg", quality=70)
    run = redress("match", "--against", str(bank), str(tmp_path / "q.jpg"))
    assert run.returncode == 0, run.stderr
    matches = jsonl(run.stdout)
    assert len(matches) == 1
    assert matches[0]["matched"]["path"] == str(folder / "p0.jpg")
    assert matches[0]["query_variant"] == "flip_left_right"
    assert matches[0]["distance"] <= 31
    plain = redress("match", "--plain", "--against", str(bank), str(tmp_path / "q.jpg"))
    assert jsonl(plain.stdout) == []


def test_match_needles_in_haystack_agrees_with_brute_force(reference: Path) -> None:
    folder = reference / "pdq" / "reg-test-input"
    haystack = [line.strip() for line in (folder / "haystack.txt").read_text().splitlines()]
    needles = [line.strip() for line in (folder / "needles.txt").read_text().splitlines()]
    run = redress("match", "--against", str(folder / "haystack.txt"), *needles)
    assert run.returncode == 0, run.stderr
    got = sorted((m["query"], m["matched"]["value"], m["distance"]) for m in jsonl(run.stdout))
    expected = sorted(
        (n, h, hamming_distance(n, h))
        for n in needles
        for h in haystack
        if hamming_distance(n, h) <= 31
    )
    assert got == expected
    assert len(expected) > 0


def test_match_threshold_and_literal_forms(tmp_path: Path) -> None:
    a = "f" * 64
    b = "f" * 56 + "0" * 8  # 32 bits away
    listing = tmp_path / "list.txt"
    listing.write_text(f"# a comment\npdq {a} the-label\nmd5 {'a' * 32}\nbogus line here\n")
    run = redress("match", "-a", str(listing), b, f"md5:{'A' * 32}", "nonsense")
    assert run.returncode == 1
    results = jsonl(run.stdout)
    assert [r.get("type") for r in results if "error" not in r] == ["md5"]
    assert results[-1]["error"]["code"] == "not_found"
    assert "list.txt:4: skipped: Unknown signal type 'bogus'" in run.stderr
    wide = redress("match", "-a", str(listing), "--threshold", "32", b)
    assert jsonl(wide.stdout)[0]["matched"]["label"] == "the-label"
    assert jsonl(wide.stdout)[0]["distance"] == 32


def _transcode_half_size(source: Path, target: Path) -> None:
    """Re-encode a clip at half its size with another codec (a realistic re-upload)."""
    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        video = inp.streams.video[0]
        stream = out.add_stream("mpeg4", rate=30)
        stream.width, stream.height = video.width // 2, video.height // 2
        stream.pix_fmt = "yuv420p"
        for index, frame in enumerate(inp.decode(video)):
            small = frame.reformat(width=stream.width, height=stream.height, format="yuv420p")
            small.pts = index
            small.time_base = Fraction(1, 30)
            for packet in stream.encode(small):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def test_match_videos_by_vpdq(reference: Path, tmp_path: Path) -> None:
    videos = reference / "vpdq" / "videos"
    clips = [videos / "pattern-sd-grey-bar.mp4", videos / "doorknob-hd-no-bar.mp4"]
    bank = tmp_path / "bank.jsonl"
    bank.write_text(redress("hash", *map(str, clips)).stdout)
    _transcode_half_size(clips[0], tmp_path / "reupload.mp4")
    run = redress("match", "-a", str(bank), str(tmp_path / "reupload.mp4"))
    assert run.returncode == 0, run.stderr
    vpdq = [m for m in jsonl(run.stdout) if m["type"] == "vpdq"]
    assert [Path(m["matched"]["path"]).name for m in vpdq] == ["pattern-sd-grey-bar.mp4"]
    assert vpdq[0]["query_match_percent"] >= 80
    assert vpdq[0]["matched_match_percent"] >= 80
    # Re-encoding changed the bytes: no MD5 match.
    assert not [m for m in jsonl(run.stdout) if m["type"] == "md5"]


def test_empty_or_unreadable_hash_list_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("# nothing\n")
    run = redress("match", "-a", str(tmp_path / "empty.txt"), "f" * 64)
    assert run.returncode == 2
    assert "no valid entry" in run.stderr
    missing = redress("match", "-a", str(tmp_path / "nope.txt"), "f" * 64)
    assert missing.returncode == 2
    assert "cannot read the hash list" in missing.stderr
