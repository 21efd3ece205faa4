"""Run Morgue's benchmarks: `make bench` or `python -m bench [name ...]`.

Each benchmark measures its subject and a floor (the cheapest thing that does
comparable work) in the same run, on the same machine, and prints the ratio.
Ratios travel between machines; absolute timings do not.
"""

import argparse
import importlib
import os
import pkgutil
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "morgue.settings")


def main() -> int:
    import django

    django.setup()
    from bench.harness import Result, Skipped

    names = sorted(
        module.name
        for module in pkgutil.iter_modules([str(Path(__file__).parent)])
        if module.name.startswith("bench_")
    )
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("only", nargs="*", help="benchmark names (without bench_)", default=[])
    args = parser.parse_args()
    selected = [n for n in names if not args.only or n.removeprefix("bench_") in args.only]

    failed = False
    for name in selected:
        module = importlib.import_module(f"bench.{name}")
        print(
            f"== {name.removeprefix('bench_')}: {(module.__doc__ or name).strip().splitlines()[0]}",
            flush=True,
        )
        try:
            results: list[Result] = module.run()
        except Skipped as reason:
            print(f"   skipped: {reason}", flush=True)
            continue
        for result in results:
            print(f"   {result}", flush=True)
            failed |= result.missed_target
    return 1 if failed and os.environ.get("BENCH_STRICT") else 0


if __name__ == "__main__":
    sys.exit(main())
