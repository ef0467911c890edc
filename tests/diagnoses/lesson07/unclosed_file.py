# expect: unraisable
import gc


def test_it(tmp_path):
    handle = open(tmp_path / "x.txt", "w")
    del handle
    gc.collect()
