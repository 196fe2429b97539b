"""Entry points: ``gunicorn dashapp.wsgi:server``; with REDIS_URL set, background jobs run in
``celery -A dashapp.wsgi:celery_app worker`` (same environment, same C2C_CACHE_DIR host)."""

from dashapp.app import background_manager, create_app
from dashapp.config import Settings

settings = Settings.from_env()
manager = background_manager(settings)
app = create_app(settings, manager)
server = app.server
celery_app = manager.handle if settings.redis_url else None
