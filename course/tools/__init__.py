"""The instructor's and maintainer's tools: setup, locks, doctor, bench, stress, loadtest, classroom files, handout."""
