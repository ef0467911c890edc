"""The chat app the course tests: see `app.main.create_app`."""
