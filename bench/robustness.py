"""The robustness harness: recall per edit and false matches, plain PDQ against `redress match`,
over the reference photos and scikit-image's sample photos. Prints a table, writes JSON."""

from __future__ import annotations

import argparse

from _common import reference_dir, write_result
from redress.robustness import EDITS, METHODS, UNSEEN_EDITS, load_corpus
from redress.robustness.harness import run_harness


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="the reference photos only (no scikit-image ones)"
    )
    args = parser.parse_args()
    reference = reference_dir()
    corpus = load_corpus(reference, include_skimage=not args.quick)
    haystack_file = reference / "pdq" / "reg-test-input" / "haystack.txt"
    haystack = [line.strip() for line in haystack_file.read_text().splitlines() if line.strip()]
    plain, ours = run_harness(corpus, [METHODS["plain"], METHODS["redress"]], haystack=haystack)
    print(f"Robustness harness: {len(corpus)} photos x {len(EDITS)} edits, PDQ distance <= 31")
    print(f"  {'edit':12} {'plain PDQ':>10} {'redress':>10}")
    for name in EDITS:
        print(f"  {name:12} {plain.recall[name]:>10.0%} {ours.recall[name]:>10.0%}")
    print(f"  {'overall':12} {plain.overall_recall:>10.1%} {ours.overall_recall:>10.1%}")
    for label, key in [
        ("false matches", "false_matches"),
        ("haystack FM", "haystack_false_matches"),
    ]:
        print(f"  {label:12} {getattr(plain, key):>10} {getattr(ours, key):>10}")
    print(
        f"  {'margin':12} {plain.margin['min']:>10.0f} {ours.margin['min']:>10.0f}"
        "   (closest distinct-image distance; p1/p5/median in the JSON)"
    )
    for label, key in [
        ("bank/image", "bank_hashes_per_image"),
        ("query hashes", "query_hashes_per_copy"),
        ("ms/query", "query_ms"),
    ]:
        print(f"  {label:12} {getattr(plain, key):>10.1f} {getattr(ours, key):>10.1f}")
    pairs, hay = ours.distinct_pairs, ours.haystack_size
    print(f"  distinct-image pairs checked: {pairs}; haystack: {hay} hashes")
    unseen_plain, unseen_ours = run_harness(
        corpus, [METHODS["plain"], METHODS["redress"]], edits=list(UNSEEN_EDITS.values())
    )
    print("  Edits the variant set was not designed on (generalisation):")
    for name in UNSEEN_EDITS:
        print(f"  {name:14} {unseen_plain.recall[name]:>8.0%} {unseen_ours.recall[name]:>10.0%}")
    print(f"  false matches  {unseen_plain.false_matches:>8} {unseen_ours.false_matches:>10}")
    target = write_result(
        "robustness",
        {
            "quick": args.quick,
            "corpus": [item.source for item in corpus],
            "edits": {edit.name: edit.description for edit in EDITS.values()},
            "methods": [plain.as_dict(), ours.as_dict()],
            "unseen_edits": {edit.name: edit.description for edit in UNSEEN_EDITS.values()},
            "unseen_methods": [unseen_plain.as_dict(), unseen_ours.as_dict()],
        },
    )
    print(f"  written to {target}")


if __name__ == "__main__":
    main()
