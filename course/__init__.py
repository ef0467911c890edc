"""The course engine: grading, progress, hints, quizzes and the course's own verification."""
