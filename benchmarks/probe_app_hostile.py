"""Hostile inputs to the app's pages (issue 18, the app's half): links, CSV uploads, JSON configurations and
the operator's ``WIL_POLICY``, each tried as a careless or hostile visitor (or operator) would.

    python benchmarks/probe_app_hostile.py            # every group (~3 minutes on two shared cores)
    python benchmarks/probe_app_hostile.py --quick    # a sample of each group

A case fails if it raises, if the page shows an exception, if it gives neither a configuration nor a
visible message, or if it takes longer than ``SECONDS_PER_CASE``. Links and a sample of the other inputs go
through the page (Streamlit's ``AppTest``); the rest through the app's readers, which the page calls
(``wil_app/inputs.py`` is their one gate). Prints one line per group and the totals:
``app cases: N, failures: F``.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PAGE = str(ROOT / "wil_app" / "page.py")
SECONDS_PER_CASE = 30.0
CHARTLESS_TABS = ("Learn", "Share & export", "Take it home")

import wil  # noqa: E402
from wil_app import policy as policy_module  # noqa: E402
from wil_app import upload  # noqa: E402
from wil_app.tabs.share import read_config_json  # noqa: E402

SMALL = wil.Config(dataset="moons", n_samples=100, noise=0.2, depth=2, width=8, epochs=5,
                   compare=("zeros", "he_normal"))

# ---------------------------------------------------------------- the hostile values

NUMBERS = ["9" * 4301, "1" * 5000, "-" + "9" * 4400, "1e400", "-1e400", "nan", "inf", "-0", "0x10", "1_0",
           "²", "١٢", "\u00a0 7", "3.0", "1e-300", "2**31", str(2**63), "+5"]
WORDS = ["", " ", "<script>alert(1)</script>", "![x](https://example.invalid/p.png)", ":material/home:",
         "\u202e", "\x00", "a" * 10_000, "Share", "Learn", "he_normal;zeros;" * 200, "full", "None",
         "random_normal(std=١)", "he_normal(scale=1_0)", "{\"a\": [[[[1]]]]}"]
LINK_KEYS = [f.name for f in dataclasses.fields(wil.Config)] + ["epoch", "layers", "quantity", "hist",
                                                                "presenter", "slide", "quiz", "tour", "tab",
                                                                "data", "embed"]


def link_cases(quick: bool) -> list[dict]:
    """Every link key with each hostile value, repeated keys, and the issue's own links."""
    values = NUMBERS + WORDS
    cases = [{key: value} for key, value in itertools.product(LINK_KEYS, values)]
    cases += [{key: ["1", "2", "9" * 5000]} for key in LINK_KEYS]
    cases += [{"tab": title} for title in ("Share & export", "Share ", "Take it home", "Learn", "learn", "nope")]
    cases += [{"quiz": "2", "tour": "3"}, {"quiz": "1" * 4301, "tour": "9" * 5000},
              {**SMALL.to_query_params(), "tab": "Share", " export": ""}]
    return cases[::9] if quick else cases[::3]  # every third: each key meets a spread of the values


def csv_cases() -> list[bytes]:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40
    rows = "\n".join(f"{i},{i % 3},{'ab'[i % 2]}" for i in range(60))
    cases = [png, png[16:], b"", b"\n\n\n", b"a,b,c\n", b"a,b,c\n\n \n", b"a\n1\n2\n", b"\xff\xfe" * 500,
             b"a,b\n" + (b",".join([b"1"] * 100_000) + b"\n") * 3, (b",".join([b"1"] * 100_000) + b"\n") * 3,
             b'a,b\n"' + b"1," * 100_000 + b'",1\n', b"a,b\n1,2,3\n4,5,6\n", b'a,b\n1,"2\n',
             b"a,b\n" + b"1,2\n" * 6000, b"a,b,y\n" + b"1e308,-1e308,0\n" * 30, b"a,b\x00,y\n1,2,0\n",
             ("a,b,y\n" + rows).encode(), ("\ufeffa,b,y\n" + rows).encode("utf-8"), ("a;b;y\n" + rows).encode(),
             ("a,b,y\r\n" + rows.replace("\n", "\r\n")).encode(), b"=cmd|' /C calc'!A0,b\n1,2\n"]
    cases += [b"a,b\n" + b"1," * width + b"\n" for width in (1, 2, 50, 99, 100, 101, 1000)]
    cases += [("c" * length + ",y\n1,0\n").encode() for length in (1, 1000, 131_072, 200_000)]
    cases += [bytes([byte]) * 2048 for byte in range(0, 256, 4)]
    return cases


def json_cases() -> list[bytes]:
    good = {**dataclasses.asdict(SMALL), "view": {"tab": "Training", "epoch": "5", "layers": "1,2"}}
    cases = [b"[" * 50_000 + b"]" * 50_000, b'{"view": ' + b"[" * 40_000 + b"]" * 40_000 + b"}",
             b'{"a": ' * 30 + b"1" + b"}" * 30, b"\xef\xbb\xbf" + json.dumps(good).encode(), b"", b"null", b"[]",
             b"1e999", b'"text"', b"\xff\xfe{}", b'{"depth": ' + b"9" * 5000 + b"}", b"{" * 10, b"x" * 200_000,
             json.dumps({"depth": 1e308 * 10}).encode(), b'{"depth": NaN, "noise": Infinity}']
    for field, value in itertools.product([f.name for f in dataclasses.fields(wil.Config)] + ["view"],
                                          [None, True, [], [[1]], {"a": 1}, -1, 10**29, 1e300, "\u202e", "x" * 5000,
                                           ["he_normal", {"x": 1}]]):
        cases.append(json.dumps({**dataclasses.asdict(SMALL), field: value}).encode())
    for key, value in itertools.product(("tab", "epoch", "layers", "presenter", "slide"),
                                        ("Nope", "9" * 5000, [1, 2], {"a": 1}, None)):
        cases.append(json.dumps({**good, "view": {key: value}}).encode())
    return cases


def environment_cases() -> list[str]:
    cases = ['{"a":' * 5000 + "1" + "}" * 5000, "[" * 5000 + "]" * 5000, "{not json", "[1]", "null", "",
             '{"max_seconds": ' + "9" * 5000 + "}", "\ufeff{\"max_seconds\": 20}", '{"max_seconds": 0.01, '
             '"max_memory_mb": 1}', '{"max_upload_mb": 1e300}', '{"live_every": 1e-300}', '{"live_every": NaN}']
    for name, value in itertools.product(policy_module.TUNABLE, ["0", "-1", "1e-300", "1e300", "2.5", "true",
                                                                 '"5"', "[5]", '{"a": 1}', "null", "1"]):
        cases.append(f'{{"{name}": {value}}}')
    return cases


# ---------------------------------------------------------------- running them

def page_ok(at) -> str | None:
    """None if the page kept its promise, else what went wrong."""
    if at.exception:
        return "exception: " + str(at.exception[0].value)[:200]
    tab = at.session_state["tab"] if "tab" in at.session_state else None
    if not (at.get("vega_lite_chart") or tab in CHARTLESS_TABS or at.warning or at.error or at.info):
        return "no chart and no message"
    return None


def run_page(query: dict | None = None, upload_to: tuple | None = None, policy=None):
    from streamlit.testing.v1 import AppTest

    saved = {}
    if policy is not None:  # every module of the app that holds the policy (they import it by name)
        for name, module in list(sys.modules.items()):
            if name.startswith("wil_app") and hasattr(module, "POLICY"):
                saved[module] = module.POLICY
                module.POLICY = policy
    try:
        at = AppTest.from_file(PAGE, default_timeout=SECONDS_PER_CASE * 4)
        for key, value in (query or {}).items():
            at.query_params[key] = value
        at.run()
        if upload_to is not None:
            key, name, content = upload_to
            at.file_uploader(key=key).set_value((name, content, "text/plain"))
            at.run()
        return at
    finally:
        for module, value in saved.items():
            module.POLICY = value


def attempt(check) -> str | None:
    start = time.perf_counter()
    try:
        problem = check()
    except Exception as error:  # a failure of the probe's subject, counted
        problem = f"raised {type(error).__name__}: {str(error)[:200]}"
    seconds = time.perf_counter() - start
    if problem is None and seconds > SECONDS_PER_CASE:
        problem = f"took {seconds:.0f} s"
    return problem


def reader_ok(value, problems_or_error) -> str | None:
    return None if value is not None or problems_or_error else "neither a value nor a message"


def groups(quick: bool) -> dict[str, list]:
    csvs, jsons, settings = csv_cases(), json_cases(), environment_cases()
    sample = (lambda items: items[::6]) if quick else (lambda items: items[::2])
    return {
        "links (page)": [lambda q=q: page_ok(run_page(q)) for q in link_cases(quick)],
        "CSV uploads (reader)": [lambda c=c: reader_ok(*upload.read_csv(c)) for c in csvs],
        "CSV uploads (page)": [lambda c=c: page_ok(run_page(SMALL.to_query_params(), ("upload_file", "x.csv", c)))
                               for c in sample(csvs)],
        "JSON imports (reader)": [lambda c=c: reader_ok(*read_config_json(c)[::2]) for c in jsons],
        "JSON imports (page)": [lambda c=c: page_ok(run_page({**SMALL.to_query_params(), "tab": "Share & export"},
                                                             ("upload_config", "c.json", c))) for c in sample(jsons)],
        "WIL_POLICY (reader)": [lambda s=s: reader_ok(*policy_module.from_environment({"WIL_POLICY": s}))
                                for s in settings],
        "WIL_POLICY (page)": [lambda s=s: page_ok(run_page(policy=policy_module.from_environment(
            {"WIL_POLICY": s})[0])) for s in sample(settings)],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a sample of each group")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # Streamlit's "no runtime" notices, once per cached function
    total = failed = 0
    for group, checks in groups(args.quick).items():
        start, failures = time.perf_counter(), []
        for index, check in enumerate(checks):
            problem = attempt(check)
            if problem:
                failures.append(f"  case {index}: {problem}")
        total, failed = total + len(checks), failed + len(failures)
        print(f"{group}: {len(checks)} cases, {len(failures)} failures ({time.perf_counter() - start:.0f} s)",
              flush=True)
        print("\n".join(failures[:10]), end="\n" if failures else "", flush=True)
    print(f"app cases: {total}, failures: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
