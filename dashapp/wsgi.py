"""Entry points: ``gunicorn dashapp.wsgi:server``; with REDIS_URL set, background jobs run in
``celery -A dashapp.wsgi:celery_app worker`` (same environment, same C2C_CACHE_DIR host)."""

from flask import Flask

from dashapp.app import background_manager, create_app
from dashapp.config import Settings

settings = Settings.from_env()
settings.check_production()  # SECRET_KEY shared by the workers, and sign-in
manager = background_manager(settings)
app = create_app(settings, manager)
server = app.server
celery_app = manager.handle if settings.redis_url else None


def warm_up(flask_server: Flask) -> None:
    """Serve the first requests of this process before gunicorn hands it traffic.

    Dash registers its callbacks on a process's first request; until then, concurrent first
    requests can fail with ``KeyError: Callback function not found``.
    """
    with flask_server.test_client() as client:
        for path in ("/_dash-dependencies", "/"):
            status = client.get(path).status_code
            if status >= 500:
                raise RuntimeError(f"warm-up request {path} answered HTTP {status}")


warm_up(server)
