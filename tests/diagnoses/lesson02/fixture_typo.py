# expect: fixture-not-found
def test_it(setings):
    assert setings
