from rest_framework import renderers


class JSONRenderer(renderers.JSONRenderer):
    """`application/json; charset=utf-8`: some clients decode Chinese wrongly without it."""

    charset = "utf-8"
