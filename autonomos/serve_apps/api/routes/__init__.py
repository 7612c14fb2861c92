"""Route modules, one per resource; each is an APIRouter included by ``app.create_app``."""
