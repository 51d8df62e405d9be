"""The counting check of the standalone Python test scripts in tests/ (test_layers.py, test_doc_refs.py,
test_dump.py, test_numpy_interop.py): each check passes or prints "FAIL: what"; the script ends with
checks.finish(name), which prints "name: N passed, N failed" and gives the exit status (non-zero on a failure)."""


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL:", what)

    def finish(self, name):
        print("%s: %d passed, %d failed" % (name, self.passed, self.failed))
        return 1 if self.failed else 0
