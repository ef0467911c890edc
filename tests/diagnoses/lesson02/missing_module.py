# expect: module-not-found
import requests_mock


def test_it():
    assert requests_mock
