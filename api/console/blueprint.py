"""The console's Flask blueprint, on its own so that the views can add their routes to it
while `api.console` imports the views (no module imports the other back)."""
from flask import Blueprint

blueprint = Blueprint("console", "api.console", url_prefix="/console", template_folder="templates",
                      static_folder="static", static_url_path="/static")
