"""``/docs``: the API reference as one self-contained HTML page, built from the OpenAPI description.

Swagger UI loads its scripts and styles from a CDN, so it shows a blank page offline or behind a strict proxy.
This page needs nothing but the service: every route with its auth, parameters, body and reply, then every
schema with its fields, written from ``/openapi.json`` when the page is asked for (no assets, no script).
"""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em; color: #222 }
code, .path { font-family: ui-monospace, monospace }
.op { border: 1px solid #ddd; border-radius: 6px; margin: 1em 0; padding: .5em 1em }
.verb { font-weight: bold; display: inline-block; min-width: 4.5em }
table { border-collapse: collapse } td, th { border-bottom: 1px solid #eee; padding: .2em .8em; text-align: left }
.muted { color: #666 }
"""


def docs_html(openapi: dict[str, Any]) -> str:
    """The page for this OpenAPI description."""
    info = openapi.get("info", {})
    title = f"{info.get('title', 'API')} {info.get('version', '')}".strip()
    parts = [
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>",
        f"<p>{escape(str(info.get('description', '')))}</p>",
        '<p class=muted>The machine-readable description: <a href="openapi.json">openapi.json</a>.</p>',
        "<h2>Routes</h2>",
        *(
            _operation(path, verb, op)
            for path, ops in openapi.get("paths", {}).items()
            for verb, op in ops.items()
        ),
        "<h2>Schemas</h2>",
        *(_schema(name, schema) for name, schema in openapi.get("components", {}).get("schemas", {}).items()),
        "</body></html>",
    ]
    return "\n".join(parts)


def _operation(path: str, verb: str, op: dict[str, Any]) -> str:
    rows = [
        f"<tr><td><code>{escape(p.get('name', ''))}</code></td><td>{escape(p.get('in', ''))}</td>"
        f"<td>{'required' if p.get('required') else 'optional'}</td><td>{escape(_type(p.get('schema', {})))}</td>"
        f"<td>{escape(str(p.get('description') or p.get('schema', {}).get('description') or ''))}</td></tr>"
        for p in op.get("parameters", [])
    ]
    body = op.get("requestBody", {}).get("content", {})
    replies = [
        f"<li>{escape(str(code))}: {escape(_type(media.get('schema', {})))} "
        f"<span class=muted>{escape(str(reply.get('description', '')))}</span></li>"
        for code, reply in op.get("responses", {}).items()
        for media in (reply.get("content", {}).get("application/json", {}),)
    ]
    return "".join(
        [
            f"<div class=op id={escape(op.get('operationId', ''), quote=True)}>",
            f"<div><span class=verb>{escape(verb.upper())}</span><span class=path>{escape(path)}</span>",
            f" &mdash; {escape(str(op.get('summary', '')))}</div>",
            f"<p>{escape(str(op.get('description', ''))).replace(chr(10) * 2, '<br>')}</p>",
            f"<table>{''.join(rows)}</table>" if rows else "",
            "".join(
                f"<p>Body ({escape(kind)}): {escape(_type(media.get('schema', {})))}</p>"
                for kind, media in body.items()
            ),
            f"<ul>{''.join(replies)}</ul></div>",
        ]
    )


def _schema(name: str, schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    rows = [
        f"<tr><td><code>{escape(field)}</code></td><td>{escape(_type(spec))}</td>"
        f"<td>{'required' if field in required else ''}</td><td>{escape(str(spec.get('description', '')))}</td></tr>"
        for field, spec in schema.get("properties", {}).items()
    ]
    return f"<h3 id={escape(name, quote=True)}>{escape(name)}</h3><table>{''.join(rows)}</table>"


def _type(schema: dict[str, Any]) -> str:
    """A schema in a few words: ``string``, ``array of CanisterReply``, ``integer or null``."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(_type(s) for s in schema[key])
    if schema.get("type") == "array":
        return f"array of {_type(schema.get('items', {}))}"
    return str(schema.get("type", "any"))
