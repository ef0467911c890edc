"""The grading engine: a lesson's tests run against the real app and each bug, and the verdict, diagnoses and report."""
