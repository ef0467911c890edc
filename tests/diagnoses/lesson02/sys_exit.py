# expect: sys-exit
import sys


def test_it():
    sys.exit(1)
