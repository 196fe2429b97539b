"""WSGI entry point for gunicorn: ``gunicorn dashapp.wsgi:server``."""

from dashapp.app import create_app

app = create_app()
server = app.server
