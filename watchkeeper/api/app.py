"""Build the FastAPI application from the route modules found in this package."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from watchkeeper import __version__
from watchkeeper import api as api_package
from watchkeeper.api._audit import install_read_recording
from watchkeeper.api.context import ApiContext
from watchkeeper.config._validate import key_path
from watchkeeper.errors import ApiError, ConfigError, StorageError, StorageUnavailable


def _error(status: int, code: str, message: str) -> JSONResponse:
    # AWS's JSON protocol names the error in __type; the CLI prints code and message.
    return JSONResponse({"__type": code, "message": message}, status_code=status)


def create_app(ctx: ApiContext) -> FastAPI:
    app = FastAPI(title="Watchkeeper API", version=__version__,
                  description="A self-hosted CloudWatch + CloudTrail. Actions mirror AWS's API shapes.")
    app.state.ctx = ctx

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, error: ApiError) -> JSONResponse:
        return _error(error.status, error.code, error.message)

    @app.exception_handler(ConfigError)
    async def _config_error(_: Request, error: ConfigError) -> JSONResponse:
        return _error(400, "ValidationError", "; ".join(str(p) for p in error.problems))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = [f"{key_path(tuple(e['loc'][1:]) or tuple(e['loc']))}: {e['msg']}" for e in error.errors()]
        return _error(400, "ValidationError", "; ".join(problems))

    @app.exception_handler(StorageUnavailable)
    async def _unavailable(_: Request, error: StorageUnavailable) -> JSONResponse:
        return _error(503, "ServiceUnavailable", str(error))

    @app.exception_handler(StorageError)
    async def _storage(_: Request, error: StorageError) -> JSONResponse:
        return _error(500, "InternalFailure", str(error))

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__, "engine": ctx.engine.kind}

    install_read_recording(app, ctx)
    for info in pkgutil.iter_modules(api_package.__path__):
        if info.name.startswith("routes_"):
            module = importlib.import_module(f"{api_package.__name__}.{info.name}")
            app.include_router(module.router)
    return app
