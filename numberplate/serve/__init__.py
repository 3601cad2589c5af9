"""The REST service behind ``numberplate serve`` (needs the ``[web]`` extra: FastAPI, uvicorn, Pillow).

``numberplate.serve.app.create_app(ServeConfig(...))`` builds the ASGI app; nothing is imported or
loaded until then.
"""
