"""One route class for every AWS-shaped router: request validation errors in AWS's form.

Every problem of a request is reported at once, as `{"__type": code, "message"}`
with 400. Each service names its own codes (CloudWatch says InvalidParameterValue,
CloudWatch Logs InvalidParameterException, CloudTrail InvalidParameter...).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from watchkeeper.config._validate import key_path
from watchkeeper.errors import ApiError

COMBINATION = "InvalidParameterCombination"


def describe(problem: Any) -> str:
    """What was wrong, with the value found when it is short enough to read."""
    if problem["type"] == "missing":
        return "required parameter is missing"
    message = str(problem["msg"]).removeprefix("Value error, ")
    found = problem.get("input")
    if isinstance(found, (dict, list)) or len(repr(found)) > 80:
        return message
    return f"found {found!r}; {message[0].lower()}{message[1:]}"


def aws_route(missing: str = "MissingParameter", invalid: str = "InvalidParameterValue") -> type[APIRoute]:
    """A route class whose validation failures carry the given service's error codes."""

    def error_code(error_type: str) -> str:
        if error_type == "missing":
            return missing
        return COMBINATION if error_type == COMBINATION else invalid

    class AwsRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def with_aws_errors(request: Request) -> Response:
                try:
                    return await handler(request)
                except RequestValidationError as error:
                    problems = list(error.errors())
                    messages = [f"{key_path(tuple(p['loc'][1:])) or 'request'}: {describe(p)}" for p in problems]
                    raise ApiError(error_code(problems[0]["type"]), "; ".join(messages)) from None

            return with_aws_errors

    return AwsRoute
