"""make mutate: plants one bug at a time in a scratch copy of the tree and
runs the tests that cover the code it touches. A mutant the tests do not
catch (a survivor) shows a missing test.

Each line of t/mutants.txt is three tab-separated fields:

    FILE    SED-EXPRESSION    TESTS

TESTS is a space-separated list of `unit:NAME` (build/t/test_NAME) and
`it:MODULE[.Class[.test]]` (an integration test, run with unittest in
t/integration). A mutant that does not change its file, or does not
compile, is an error of the list, not a kill: the script says so and
exits 1, so the list keeps up with the code.

Prints one line per mutant, then the kill ratio and the survivors; exits 0
when the ratio is at least MUTATE_MIN (default 0.9)."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIST = os.path.join(TOP, "t", "mutants.txt")
TIMEOUT = int(os.environ.get("MUTATE_TIMEOUT", "300"))


def read_mutants(path):
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) != 3 or not all(x.strip() for x in fields):
                sys.exit(f"{path}:{n}: want FILE<TAB>SED<TAB>TESTS, got {line!r}")
            out.append((n, fields[0].strip(), fields[1], fields[2].split()))
    return out


def scratch_copy():
    """A copy of the tracked files (and the work tree's edits) to mutate."""
    d = tempfile.mkdtemp(prefix="ds-mutate-")
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], cwd=TOP, check=True,
                           capture_output=True).stdout.split(b"\0")
    for f in files:
        if not f:
            continue
        src = os.path.join(TOP, f.decode())
        if not os.path.isfile(src):
            continue
        dst = os.path.join(d, f.decode())
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)
    return d


def build(tree):
    p = subprocess.run(["make", "-j2", "--no-print-directory", "all", "unit-bins"],
                       cwd=tree, capture_output=True, text=True)
    return p.returncode == 0, p.stdout + p.stderr


def run_tests(tree, tests):
    """0 when every test passed, else the first failing test's name."""
    deadline = time.monotonic() + TIMEOUT
    for t in tests:
        kind, _, name = t.partition(":")
        if kind == "unit":
            cmd, cwd = [os.path.join(tree, "build", "t", f"test_{name}")], tree
        elif kind == "it":
            cmd = [sys.executable, "-m", "unittest", name]
            cwd = os.path.join(tree, "t", "integration")
        else:
            sys.exit(f"mutate: unknown test kind {t!r}")
        left = deadline - time.monotonic()
        try:
            p = subprocess.run(cmd, cwd=cwd, capture_output=True,
                               timeout=max(left, 1))
        except subprocess.TimeoutExpired:
            return f"{t} (timed out)"
        if p.returncode != 0:
            return t
    return 0


def apply(tree, path, expr):
    f = os.path.join(tree, path)
    with open(f, "rb") as fh:
        before = fh.read()
    subprocess.run(["sed", "-E", "-i", expr, f], check=True)
    with open(f, "rb") as fh:
        after = fh.read()
    return before, after != before


def restore(tree, path, text):
    f = os.path.join(tree, path)
    with open(f, "wb") as fh:
        fh.write(text)
    os.utime(f)  # newer than the mutant's objects: make rebuilds it


def main():
    mutants = read_mutants(LIST)
    only = sys.argv[1:]
    if only:
        mutants = [m for m in mutants if str(m[0]) in only or m[1] in only]
    tree = scratch_copy()
    try:
        ok, log = build(tree)
        if not ok:
            print(log)
            sys.exit("mutate: the unmutated tree does not build")
        bad = run_tests(tree, sorted({t for m in mutants for t in m[3]}))
        if bad:
            sys.exit(f"mutate: {bad} fails on the unmutated tree")
        killed, survivors, broken = 0, [], []
        for n, path, expr, tests in mutants:
            before, changed = apply(tree, path, expr)
            if not changed:
                broken.append((n, path, expr, "does not apply"))
                print(f"  line {n}: {path}: {expr}: DOES NOT APPLY", flush=True)
                continue
            ok, log = build(tree)
            if not ok:
                restore(tree, path, before)
                broken.append((n, path, expr, "does not compile"))
                print(f"  line {n}: {path}: {expr}: DOES NOT COMPILE", flush=True)
                continue
            by = run_tests(tree, tests)
            restore(tree, path, before)
            if by:
                killed += 1
                print(f"  line {n}: {path}: {expr}: killed by {by}", flush=True)
            else:
                survivors.append((n, path, expr))
                print(f"  line {n}: {path}: {expr}: SURVIVED", flush=True)
        build(tree)
        valid = killed + len(survivors)
        ratio = killed / valid if valid else 0.0
        print(f"mutate: {killed} of {valid} mutants killed ({ratio:.0%})")
        for n, path, expr in survivors:
            print(f"survivor: line {n}: {path}: {expr}")
        for n, path, expr, why in broken:
            print(f"broken: line {n}: {path}: {expr}: {why}")
        minimum = float(os.environ.get("MUTATE_MIN", "0.9"))
        sys.exit(0 if ratio >= minimum and not broken else 1)
    finally:
        shutil.rmtree(tree, ignore_errors=True)


if __name__ == "__main__":
    main()
