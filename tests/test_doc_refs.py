#!/usr/bin/env python3
"""Every reference to a page of docs/ in the sources, tests, configs, benchmarks and documents names a page that
exists, so that a renamed or never-written page cannot leave comments and help texts pointing nowhere.

    test_doc_refs.py [ROOT]      (ROOT: the source tree, default: this file's parent's parent)

A reference is "docs/PATH.md" (a section title may follow it). --self-test runs the checker on a small tree with
one good and one dangling reference and fails unless it reports exactly the dangling one, so this test cannot pass
by finding nothing; the real tree must also hold at least 100 references. Prints "test_doc_refs: N passed,
N failed" and exits non-zero on failure.
"""
import os
import re
import sys
import tempfile

from checks import Checks

REF_RE = re.compile(r"docs/[A-Za-z0-9_/.-]+?\.md")
FOLDERS = ("src", "include", "tests", "bench", "python", "configs", "docs", "tools", ".ci")
SUFFIXES = (".c", ".h", ".py", ".sh", ".md", ".json", ".txt", ".cmake")
TOP_FILES = ("README.md", "CMakeLists.txt")


def files_of(root):
    """the text files the check reads: the top files and every file with a known suffix under FOLDERS, except this
    test (its examples name pages that do not exist)"""
    me = os.path.abspath(__file__)
    for name in TOP_FILES:
        if os.path.isfile(os.path.join(root, name)):
            yield os.path.join(root, name)
    for folder in FOLDERS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
            dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != "__pycache__"]
            for f in sorted(filenames):
                if (f.endswith(SUFFIXES) or f == "run") and os.path.abspath(os.path.join(dirpath, f)) != me:
                    yield os.path.join(dirpath, f)


def dangling(root):
    """(number of references, [(file, line, reference)] of those whose page does not exist)"""
    count, bad = 0, []
    for path in files_of(root):
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except (UnicodeDecodeError, OSError):
            continue
        for k, line in enumerate(lines, 1):
            for ref in REF_RE.findall(line):
                count += 1
                if not os.path.isfile(os.path.join(root, ref)):
                    bad.append((os.path.relpath(path, root), k, ref))
    return count, bad


def self_test():
    """a tree with one page, a reference to it and one to a missing page: exactly the missing one is reported"""
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "docs"))
        os.makedirs(os.path.join(root, "src", "core"))
        with open(os.path.join(root, "docs", "GOOD.md"), "w") as f:
            f.write("# Good\n")
        with open(os.path.join(root, "src", "core", "a.c"), "w") as f:
            f.write("/* see docs/GOOD.md, \"Section\" */\n/* and docs/GONE.md */\n")
        count, bad = dangling(root)
        return count == 2 and bad == [(os.path.join("src", "core", "a.c"), 2, "docs/GONE.md")]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    check = Checks()
    check(self_test(), "the self-test: a dangling reference in a small tree is found, the good one is not")
    count, bad = dangling(root)
    check(count >= 100, "at least 100 references to docs/ in %s (found %d)" % (root, count))
    for path, line, ref in bad:
        check(False, "%s:%d refers to %s, which does not exist" % (path, line, ref))
    check(not bad, "every reference to docs/ names an existing page (%d references)" % count)
    return check.finish("test_doc_refs")


if __name__ == "__main__":
    sys.exit(main())
