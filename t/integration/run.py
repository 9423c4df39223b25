"""Runs every t/integration/test_*.py and ends with one summary line:
`integration: N passed, N failed`."""
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
pattern = sys.argv[1] if len(sys.argv) > 1 else "test_*.py"
suite = unittest.defaultTestLoader.discover(here, pattern=pattern)
result = unittest.TextTestRunner(verbosity=2).run(suite)
failed = len(result.failures) + len(result.errors)
passed = result.testsRun - failed - len(result.skipped)
print(f"integration: {passed} passed, {failed} failed"
      + (f", {len(result.skipped)} skipped" if result.skipped else ""))
sys.exit(1 if failed or result.testsRun == 0 else 0)
