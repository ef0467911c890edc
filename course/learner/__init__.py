"""What the learner runs or imports: progress, the quiz, hints, and the notebooks' helpers."""
