"""The dataset workbench behind ``numberplate annotate`` (needs the ``[web]`` extra: FastAPI, uvicorn).

``app.create_app`` builds the web app; ``store`` holds the dataset logic (no web framework); ``static/``
holds the pages (plain HTML, JS and CSS, no build step).
"""
