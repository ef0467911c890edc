# expect: cannot-import-name
from app.main import create_application


def test_it():
    assert create_application
