"""The HTTP JSON API: AWS-shaped actions at POST /v1/<service>/<Action>; OpenAPI at /openapi.json.

Each routes_<service>.py module contributes a `router`. Request and response
bodies use the AWS field names, so users' JSON and knowledge carry over.
"""
