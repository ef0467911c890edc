# expect: process-exit
import os


def test_it():
    os._exit(3)
