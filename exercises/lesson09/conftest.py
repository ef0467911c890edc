# Your fixtures for lesson 09 go here (see the note at the top of test_job_control.py).
