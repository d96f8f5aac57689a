#!/usr/bin/env python3
"""Generate sipbeat's field artefacts from fields/fields.yml, and check events against it.

fields.yml (Elastic Beats format) is the single source of every field name. From it this
script writes, into --out-dir:

  field_names.h        C++20 constants (sipbeat::fields::kSipCallId = "sip.call_id", ...)
                       and a sorted kAllFields table of {name, type}
  template-es8.json    composable index template (PUT /_index_template/<name>, data stream)
  template-es7.json    legacy index template (PUT /_template/<name>)
  index-pattern.json   Kibana index-pattern saved object
  fields.asciidoc      field reference documentation

and with --check-events it verifies that every field of an NDJSON event stream is declared
and that its JSON value fits the declared type.

The template, index-pattern and docs rules follow libbeat (libbeat/template/processor.go,
libbeat/kibana/fields_transformer.go, libbeat/scripts/generate_fields_docs.py); see
reference/beats.md sections 5 and 6.

Only the Python standard library and PyYAML are used.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import json
import math
import os
import re
import sys
from dataclasses import dataclass
from typing import Any, Iterable

import yaml

PROG = "generate_fields.py"

# --- fields.yml vocabulary ------------------------------------------------------------------

# Types libbeat's mapping package accepts (libbeat/mapping/field.go); anything else is an error.
ALLOWED_TYPES = frozenset(
    """text keyword wildcard constant_keyword match_only_text long integer short byte double
    float half_float scaled_float histogram date date_nanos geo_point date_range boolean binary
    ip alias array ip_range object group nested flattened""".split()
)

STRING_TYPES = frozenset({"keyword", "text", "wildcard", "constant_keyword", "match_only_text"})
INTEGER_TYPES = frozenset({"long", "integer", "short", "byte"})
FLOAT_TYPES = frozenset({"double", "float", "half_float", "scaled_float"})
DATE_TYPES = frozenset({"date", "date_nanos"})
GROUP_TYPES = frozenset({"group", "nested"})

# `format` values libbeat allows per type family.
FORMATS_BY_FAMILY = {
    "string": frozenset({"string", "url"}),
    "number": frozenset({"string", "url", "bytes", "duration", "number", "percent", "color"}),
    "date": frozenset({"string", "url", "date"}),
}
ALLOWED_UNITS = frozenset({"percent", "byte", "nanos", "micros", "ms", "s", "m", "h", "d"})
ALLOWED_METRIC_TYPES = frozenset({"gauge", "counter"})

# object_type values for which libbeat emits a dynamic template, with the default
# match_mapping_type of each (processor.go `object`). libbeat silently skips other values;
# here they are an error so a typo cannot disable the mapping.
OBJECT_TYPE_MATCH = {
    "keyword": "string",
    "text": "string",
    "scaled_float": "*",
    "histogram": "*",
    "byte": "byte",
    "double": "double",
    "float": "float",
    "long": "long",
    "short": "short",
    "boolean": "boolean",
}

# sipbeat extension: the JSON type the beat writes when it differs from the mapping type.
JSON_TYPES = frozenset({"string", "integer", "number", "boolean"})

SECTION_KEYS = frozenset(
    {"key", "title", "description", "fields", "anchor", "prefix", "short_config", "release",
     "skipdocs"}
)

# Attributes every non-group field may carry.
LEAF_KEYS = frozenset(
    {
        "name", "type", "description", "example", "required", "level", "deprecated",
        "default_field", "index", "doc_values", "copy_to", "unit", "metric_type", "format",
        "pattern", "input_format", "output_format", "output_precision", "label_template",
        "count", "analyzed", "searchable", "aggregatable", "json_type",
    }
)
# Extra attributes that only make sense for some types.
TYPE_KEYS = {
    "keyword": {"ignore_above", "multi_fields"},
    "wildcard": {"ignore_above", "multi_fields"},
    "text": {"norms", "analyzer", "search_analyzer", "multi_fields"},
    "match_only_text": {"multi_fields"},
    "scaled_float": {"scaling_factor"},
    "object": {"object_type", "object_type_mapping_type", "scaling_factor", "enabled", "dynamic"},
    "array": {"object_type"},
    "alias": {"path"},
}
GROUP_KEYS = frozenset({"name", "type", "description", "fields", "default_field", "dynamic"})
MULTI_FIELD_KEYS = frozenset(
    {"name", "type", "description", "norms", "analyzer", "search_analyzer", "ignore_above",
     "index", "doc_values"}
)
# Attributes libbeat knows but this generator does not implement: rejected rather than
# silently producing a template that differs from what the author asked for.
UNSUPPORTED_KEYS = frozenset(
    {"migration", "dimension", "dynamic_template", "object_type_params", "script",
     "url_template", "overwrite", "open_link_in_current_tab", "possible_values"}
)

# One dotted-name component. ASCII only, so Python's sort order equals std::string_view's.
NAME_COMPONENT_RE = re.compile(r"^[A-Za-z0-9_@-]+$")

# Paths whose content is user-defined (the `fields` setting, add_fields): not type-checked.
FREE_FORM_ROOTS = ("fields",)

# Template defaults of libbeat (template.go, processor.go).
DEFAULT_IGNORE_ABOVE = 1024
DEFAULT_SCALING_FACTOR = 1000
TOTAL_FIELDS_LIMIT = 10000
MAX_DOCVALUE_FIELDS_SEARCH = 200
ES8_PRIORITY = 150
ES7_ORDER = 1

OUTPUT_NAMES = (
    "field_names.h",
    "template-es8.json",
    "template-es7.json",
    "index-pattern.json",
    "fields.asciidoc",
)


class FieldsError(Exception):
    """A problem in fields.yml or on the command line; reported as one line, exit 1."""


# --- loading and validation -----------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys (PyYAML silently keeps the last one)."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
    loader.flatten_mapping(node)  # resolve `<<` merge keys first
    mapping: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise FieldsError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


@dataclass
class Leaf:
    """A declared field that holds values (everything but group/nested)."""

    path: str
    type: str
    attrs: dict
    section: str
    default_field: bool

    @property
    def check_type(self) -> str:
        """Type used for event checks: json_type when given, else the mapping type."""
        return self.attrs.get("json_type", self.type)


@dataclass
class Group:
    """An object path: declared with type group/nested, or implied by a dotted name."""

    path: str
    type: str
    dynamic: Any
    explicit: bool
    section: str


class Schema:
    """fields.yml after validation: the raw sections (for docs) plus flat lookup tables."""

    def __init__(self, sections: list[dict]):
        self.sections = sections
        self.leaves: dict[str, Leaf] = {}  # declaration order
        self.groups: dict[str, Group] = {}
        for section in sections:
            self._walk(section["fields"], "", False, section["key"])
        self._check_aliases()

    # Building ---------------------------------------------------------------------------

    def _walk(self, fields: list, parent: str, inherited_default: bool, section: str) -> None:
        for index, raw in enumerate(fields):
            where = f"section {section!r}, {'group ' + repr(parent) if parent else 'top level'}"
            if not isinstance(raw, dict):
                raise FieldsError(f"{where}: entry #{index + 1} is not a mapping")
            name = raw.get("name")
            if not isinstance(name, str) or not name:
                raise FieldsError(f"{where}: entry #{index + 1} has no name")
            path = f"{parent}.{name}" if parent else name
            _validate_field(raw, path)
            default_field = raw.get("default_field", inherited_default)

            # A dotted name such as `uri.original` implies the object `uri` in between.
            parts = path.split(".")
            for depth in range(len(parent.split(".")) if parent else 0, len(parts) - 1):
                self._add_group(".".join(parts[: depth + 1]), "group", None, False, section)

            if raw["type"] in GROUP_TYPES:
                self._add_group(path, raw["type"], raw.get("dynamic"), True, section)
                self._walk(raw["fields"], path, default_field, section)
            else:
                self._add_leaf(Leaf(path, raw["type"], raw, section, default_field))

    def _add_group(self, path: str, type_: str, dynamic: Any, explicit: bool, section: str) -> None:
        if path in self.leaves:
            raise FieldsError(
                f"field {path!r}: declared as a {self.leaves[path].type} field "
                f"(section {self.leaves[path].section!r}) and as an object holding other "
                f"fields (section {section!r})"
            )
        known = self.groups.get(path)
        if known is None:
            self.groups[path] = Group(path, type_, dynamic, explicit, section)
            return
        # Same-named groups merge (libbeat does so); their mapping attributes must agree.
        if explicit and known.explicit and known.type != type_:
            raise FieldsError(f"field {path!r}: declared as {known.type} and as {type_}")
        if explicit and not known.explicit:
            known.type, known.explicit = type_, True
        if dynamic is not None:
            if known.dynamic is not None and known.dynamic != dynamic:
                raise FieldsError(f"field {path!r}: conflicting `dynamic` settings")
            known.dynamic = dynamic

    def _add_leaf(self, leaf: Leaf) -> None:
        if leaf.path in self.leaves:
            raise FieldsError(
                f"field {leaf.path!r}: declared twice (sections "
                f"{self.leaves[leaf.path].section!r} and {leaf.section!r})"
            )
        if leaf.path in self.groups:
            raise FieldsError(
                f"field {leaf.path!r}: declared as a {leaf.type} field (section "
                f"{leaf.section!r}) but other fields are declared below it"
            )
        self.leaves[leaf.path] = leaf

    def _check_aliases(self) -> None:
        for leaf in self.leaves.values():
            if leaf.type != "alias":
                continue
            target = self.leaves.get(leaf.attrs["path"])
            if target is None or target.type == "alias":
                raise FieldsError(
                    f"field {leaf.path!r}: alias path {leaf.attrs['path']!r} is not a "
                    "declared field"
                )

    # Lookups ----------------------------------------------------------------------------

    def object_ancestor(self, path: str) -> Leaf | None:
        """The `object` field a path lies below, if any (its content is dynamic)."""
        parts = path.split(".")
        for depth in range(1, len(parts)):
            leaf = self.leaves.get(".".join(parts[:depth]))
            if leaf is not None and leaf.type == "object":
                return leaf
        return None


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _validate_field(raw: dict, path: str) -> None:
    """Checks one field entry (not its children); raises FieldsError naming the field."""

    def fail(problem: str) -> None:
        raise FieldsError(f"field {path!r}: {problem}")

    for component in raw["name"].split("."):
        if not NAME_COMPONENT_RE.match(component):
            fail(f"invalid name {raw['name']!r} (components are [A-Za-z0-9_@-]+, joined by '.')")

    type_ = raw.get("type")
    if type_ is None:
        fail("missing `type`")
    if not isinstance(type_, str) or type_ not in ALLOWED_TYPES:
        fail(f"unknown type {type_!r} (allowed: {', '.join(sorted(ALLOWED_TYPES))})")
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip():
        fail("missing `description`")

    if type_ in GROUP_TYPES:
        allowed = GROUP_KEYS
    else:
        allowed = LEAF_KEYS | TYPE_KEYS.get(type_, set())
    for key in raw:
        if key in UNSUPPORTED_KEYS:
            fail(f"attribute {key!r} is not supported by {PROG}")
        if key not in allowed:
            fail(f"attribute {key!r} is not valid for type {type_}")

    for key in ("required", "default_field", "index", "doc_values", "norms", "enabled",
                "analyzed", "searchable", "aggregatable"):
        if key in raw and not _is_bool(raw[key]):
            fail(f"`{key}` must be true or false")
    if "dynamic" in raw and raw["dynamic"] not in (True, False, "strict"):
        fail("`dynamic` must be true, false or strict")
    for key in ("ignore_above", "scaling_factor", "count", "output_precision"):
        if key in raw and (not isinstance(raw[key], int) or _is_bool(raw[key])):
            fail(f"`{key}` must be an integer")
    for key in ("copy_to", "path", "analyzer", "search_analyzer", "pattern", "input_format",
                "output_format", "label_template", "object_type_mapping_type"):
        if key in raw and not isinstance(raw[key], str):
            fail(f"`{key}` must be a string")

    if type_ in GROUP_TYPES:
        if not isinstance(raw.get("fields"), list) or not raw["fields"]:
            fail(f"a {type_} needs a non-empty `fields` list")
        return

    if "unit" in raw and raw["unit"] not in ALLOWED_UNITS:
        fail(f"unknown unit {raw['unit']!r} (allowed: {', '.join(sorted(ALLOWED_UNITS))})")
    if "metric_type" in raw and raw["metric_type"] not in ALLOWED_METRIC_TYPES:
        fail(f"unknown metric_type {raw['metric_type']!r}")
    if "format" in raw:
        family = _type_family(type_)
        if family is None or raw["format"] not in FORMATS_BY_FAMILY[family]:
            fail(f"format {raw['format']!r} is not allowed for type {type_}")
    if "json_type" in raw:
        if raw["json_type"] not in JSON_TYPES:
            fail(f"unknown json_type {raw['json_type']!r} "
                 f"(allowed: {', '.join(sorted(JSON_TYPES))})")
        if type_ in ("object", "alias", "array", "flattened"):
            fail(f"`json_type` is not valid for type {type_}")
    if type_ == "alias" and "path" not in raw:
        fail("an alias needs `path`")
    if type_ in ("object", "array") and "object_type" in raw:
        if raw["object_type"] not in OBJECT_TYPE_MATCH:
            fail(f"unsupported object_type {raw['object_type']!r} "
                 f"(allowed: {', '.join(sorted(OBJECT_TYPE_MATCH))})")
    if "object_type_mapping_type" in raw and "object_type" not in raw:
        fail("`object_type_mapping_type` needs `object_type`")

    if "multi_fields" in raw:
        multi = raw["multi_fields"]
        if not isinstance(multi, list) or not multi:
            fail("`multi_fields` must be a non-empty list")
        seen: set[str] = set()
        for sub in multi:
            if not isinstance(sub, dict) or not isinstance(sub.get("name"), str):
                fail("every multi-field needs a name")
            sub_path = f"{path}.{sub['name']}"
            if not NAME_COMPONENT_RE.match(sub["name"]):
                fail(f"invalid multi-field name {sub['name']!r}")
            if sub["name"] in seen:
                fail(f"multi-field {sub_path!r} declared twice")
            seen.add(sub["name"])
            if sub.get("type") not in ("keyword", "text", "match_only_text", "wildcard"):
                fail(f"multi-field {sub_path!r}: type must be keyword, text, match_only_text "
                     "or wildcard")
            for key in sub:
                if key not in MULTI_FIELD_KEYS:
                    fail(f"multi-field {sub_path!r}: attribute {key!r} is not supported")


def _type_family(type_: str) -> str | None:
    if type_ in STRING_TYPES:
        return "string"
    if type_ in INTEGER_TYPES or type_ in FLOAT_TYPES:
        return "number"
    if type_ in DATE_TYPES:
        return "date"
    return None


def load_fields(path: str) -> Schema:
    """Loads and validates fields.yml; raises FieldsError on any problem."""
    try:
        with open(path, encoding="utf-8") as stream:
            doc = yaml.load(stream, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except OSError as err:
        raise FieldsError(f"cannot read {path}: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise FieldsError(f"{path}: invalid YAML: {err}") from err
    if not isinstance(doc, list) or not doc:
        raise FieldsError(f"{path}: expected a non-empty list of sections")

    keys: set[str] = set()
    for index, section in enumerate(doc):
        if not isinstance(section, dict):
            raise FieldsError(f"{path}: section #{index + 1} is not a mapping")
        key = section.get("key")
        if not isinstance(key, str) or not key:
            raise FieldsError(f"{path}: section #{index + 1} has no key")
        if key in keys:
            raise FieldsError(f"{path}: section {key!r} declared twice")
        keys.add(key)
        for attr in section:
            if attr not in SECTION_KEYS:
                raise FieldsError(f"section {key!r}: unknown attribute {attr!r}")
        for attr in ("title", "description"):
            if not isinstance(section.get(attr), str) or not section[attr].strip():
                raise FieldsError(f"section {key!r}: missing `{attr}`")
        if not isinstance(section.get("fields"), list) or not section["fields"]:
            raise FieldsError(f"section {key!r}: needs a non-empty `fields` list")
    try:
        return Schema(doc)
    except FieldsError as err:
        raise FieldsError(f"{path}: {err}") from err


# --- C++ header -----------------------------------------------------------------------------


def constant_name(path: str) -> str:
    """`sip.call_id` -> `kSipCallId`: PascalCase of the alphanumeric runs of the path."""
    words = re.findall(r"[A-Za-z0-9]+", path)
    if not words:
        raise FieldsError(f"field {path!r}: no letters or digits to build a C++ name from")
    return "k" + "".join(word[0].upper() + word[1:] for word in words)


# Names the header defines besides the field constants.
_RESERVED_HEADER_NAMES = frozenset({"kAllFields", "FieldInfo", "findField"})


def constant_names(paths: Iterable[str]) -> dict[str, str]:
    """Maps each path to a unique constant name.

    Paths that reduce to the same name (`a.b_c`, `a_b.c`) or to a reserved one keep the
    plain name for the first in byte order and get `_2`, `_3`, ... after it. Plain names never
    contain `_`, so a suffixed name cannot collide with another plain name.
    """
    by_name: dict[str, list[str]] = {}
    for path in sorted(paths):
        by_name.setdefault(constant_name(path), []).append(path)
    result: dict[str, str] = {}
    for name, colliding in by_name.items():
        first = 1 if name in _RESERVED_HEADER_NAMES else 0
        for index, path in enumerate(colliding):
            position = index + first
            result[path] = name if position == 0 else f"{name}_{position + 1}"
    return result


def _cpp_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _comment_text(text: str) -> str:
    """One line of description, safe inside a `///` comment."""
    line = " ".join(text.split())
    # A trailing backslash would splice the next line into the comment (-Wcomment).
    return line.rstrip("\\").rstrip()


def render_header(schema: Schema, beat: str, version: str, ecs_version: str) -> str:
    paths = sorted(schema.leaves)
    names = constant_names(paths)
    out = [
        "// Generated by fields/generate_fields.py from fields/fields.yml. Do not edit.",
        "#pragma once",
        "",
        "#include <array>",
        "#include <cstddef>",
        "#include <string_view>",
        "",
        "namespace sipbeat::fields {",
        "",
        "/// Name and fields.yml type of one declared field.",
        "struct FieldInfo {",
        "    std::string_view name;",
        "    std::string_view type;",
        "};",
        "",
    ]
    for path in paths:
        leaf = schema.leaves[path]
        out.append(f"/// `{path}` ({leaf.type}): {_comment_text(leaf.attrs['description'])}")
        out.append(f"inline constexpr std::string_view {names[path]} = {_cpp_string(path)};")
    out += [
        "",
        "/// Every declared field, sorted by name (byte order).",
        f"inline constexpr std::array<FieldInfo, {len(paths)}> kAllFields{{{{",
    ]
    for path in paths:
        out.append(f"    {{{_cpp_string(path)}, {_cpp_string(schema.leaves[path].type)}}},")
    out += [
        "}};",
        "",
        "/// Returns the declaration of `name`, or nullptr when fields.yml does not declare it.",
        "constexpr const FieldInfo* findField(std::string_view name) noexcept {",
        "    std::size_t lo = 0;",
        "    std::size_t hi = kAllFields.size();",
        "    while (lo < hi) {",
        "        const std::size_t mid = lo + (hi - lo) / 2;",
        "        if (kAllFields[mid].name < name) {",
        "            lo = mid + 1;",
        "        } else {",
        "            hi = mid;",
        "        }",
        "    }",
        "    const bool found = lo < kAllFields.size() && kAllFields[lo].name == name;",
        "    return found ? &kAllFields[lo] : nullptr;",
        "}",
        "",
        "/// Values the generator was run with.",
        "namespace meta {",
        f"inline constexpr std::string_view kBeatName = {_cpp_string(beat)};",
        f"inline constexpr std::string_view kBeatVersion = {_cpp_string(version)};",
        "/// Value of the `ecs.version` field in events.",
        f"inline constexpr std::string_view kEcsSchemaVersion = {_cpp_string(ecs_version)};",
        "}  // namespace meta",
        "",
        "}  // namespace sipbeat::fields",
        "",
    ]
    return "\n".join(out)


# --- Elasticsearch templates ----------------------------------------------------------------


def _common_properties(attrs: dict) -> dict:
    """Attributes libbeat copies onto any leaf mapping (getDefaultProperties + meta)."""
    props: dict = {}
    for key in ("index", "doc_values", "copy_to"):
        if key in attrs:
            props[key] = attrs[key]
    meta = {key: attrs[key] for key in ("unit", "metric_type") if key in attrs}
    if meta:
        props["meta"] = meta
    return props


def _ignore_above(props: dict, attrs: dict) -> None:
    value = attrs.get("ignore_above", 0)
    if value == 0:
        props["ignore_above"] = DEFAULT_IGNORE_ABOVE
    elif value != -1:  # -1 means "use the Elasticsearch default", i.e. omit
        props["ignore_above"] = value


def _leaf_mapping(attrs: dict, es_major: int) -> dict | None:
    """Mapping of one field entry, per libbeat's template processor."""
    type_ = attrs["type"]
    props = _common_properties(attrs)
    # The legacy (7.x) template must load on every 7.x build, including ones without the
    # Elastic-licensed wildcard (7.9+) and match_only_text (7.14+) types; libbeat falls
    # back the same way when the cluster lacks them.
    if es_major < 8 and type_ == "wildcard":
        type_ = "keyword"
    if es_major < 8 and type_ == "match_only_text":
        type_ = "text"

    if type_ in ("keyword", "wildcard"):
        props["type"] = type_
        _ignore_above(props, attrs)
    elif type_ == "text":
        props["type"] = "text"
        if not attrs.get("norms", False):
            props["norms"] = False
        for key in ("analyzer", "search_analyzer"):
            if key in attrs:
                props[key] = attrs[key]
    elif type_ == "integer":
        props["type"] = "long"  # libbeat maps integer to long
    elif type_ == "scaled_float":
        props["type"] = "scaled_float"
        props["scaling_factor"] = attrs.get("scaling_factor", DEFAULT_SCALING_FACTOR)
    elif type_ == "object":
        props["type"] = "object"
        for key in ("enabled", "dynamic"):
            if key in attrs:
                props[key] = attrs[key]
    elif type_ == "array":
        if "object_type" not in attrs:
            return None  # libbeat emits nothing for an untyped array
        props["type"] = attrs["object_type"]
    elif type_ == "alias":
        props["type"] = "alias"
        props["path"] = attrs["path"]
    else:
        props["type"] = type_

    if "multi_fields" in attrs and type_ in ("keyword", "wildcard", "text", "match_only_text"):
        props["fields"] = {
            sub["name"]: _leaf_mapping(sub, es_major) for sub in attrs["multi_fields"]
        }
    return props


def _object_dynamic_template(leaf: Leaf) -> dict | None:
    """Dynamic template giving every value below an `object` field its object_type."""
    object_type = leaf.attrs.get("object_type")
    if object_type is None:
        return None
    if object_type == "scaled_float":
        mapping = {"type": "scaled_float",
                   "scaling_factor": leaf.attrs.get("scaling_factor", DEFAULT_SCALING_FACTOR)}
    else:
        mapping = {"type": object_type}
    for key in ("index", "doc_values", "copy_to"):
        if key in leaf.attrs:
            mapping[key] = leaf.attrs[key]
    return {
        leaf.path: {
            "mapping": mapping,
            "match_mapping_type": leaf.attrs.get(
                "object_type_mapping_type", OBJECT_TYPE_MATCH[object_type]
            ),
            "path_match": leaf.path + ".*",
        }
    }


def _properties_node(root: dict, path: str) -> dict:
    """The mapping object at `path` (created on demand) inside nested `properties`."""
    node = {"properties": root}
    for part in path.split("."):
        node = node["properties"].setdefault(part, {})
        node.setdefault("properties", {})
    return node


def build_mappings(schema: Schema, beat: str, version: str, es_major: int) -> dict:
    properties: dict = {}
    for group in schema.groups.values():
        node = _properties_node(properties, group.path)
        if group.type == "nested":
            node["type"] = "nested"
        if group.dynamic is not None:
            node["dynamic"] = group.dynamic
    dynamic_templates = []
    for leaf in schema.leaves.values():
        mapping = _leaf_mapping(leaf.attrs, es_major)
        if mapping is None:
            continue
        parent, _, name = leaf.path.rpartition(".")
        siblings = _properties_node(properties, parent)["properties"] if parent else properties
        siblings[name] = mapping
        if leaf.type == "object":
            template = _object_dynamic_template(leaf)
            if template is not None:
                dynamic_templates.append(template)
    # libbeat always ends with this catch-all so unknown strings are keywords, not text.
    dynamic_templates.append(
        {"strings_as_keyword": {
            "mapping": {"ignore_above": DEFAULT_IGNORE_ABOVE, "type": "keyword"},
            "match_mapping_type": "string",
        }}
    )
    _prune_empty_properties(properties)
    return {
        "_meta": {"beat": beat, "version": version},
        "date_detection": False,
        "dynamic_templates": dynamic_templates,
        "properties": properties,
    }


def _prune_empty_properties(properties: dict) -> None:
    for node in properties.values():
        if "properties" in node:
            _prune_empty_properties(node["properties"])
            if not node["properties"]:
                del node["properties"]


def default_fields(schema: Schema) -> list[str]:
    """query.default_field: indexed keyword/text fields marked default_field, then fields.*.

    Beats 8 defaults default_field to false, so only explicitly marked fields (or fields in
    marked groups) are searched by unqualified queries.
    """
    names = [
        leaf.path
        for leaf in schema.leaves.values()
        if leaf.default_field and leaf.type in ("keyword", "text") and leaf.attrs.get("index", True)
    ]
    return names + ["fields.*"]


def build_index_settings(schema: Schema) -> dict:
    return {
        "number_of_shards": 1,
        "refresh_interval": "5s",
        "mapping": {"total_fields": {"limit": TOTAL_FIELDS_LIMIT}},
        "query": {"default_field": default_fields(schema)},
        "max_docvalue_fields_search": MAX_DOCVALUE_FIELDS_SEARCH,
    }


def build_template_es8(schema: Schema, beat: str, version: str) -> dict:
    """Composable template for the data stream `<beat>-<version>` (Beats 8.x)."""
    return {
        "index_patterns": [f"{beat}-{version}"],
        "data_stream": {},
        "priority": ES8_PRIORITY,
        "template": {
            "settings": {"index": build_index_settings(schema)},
            "mappings": build_mappings(schema, beat, version, 8),
        },
    }


def build_template_es7(schema: Schema, beat: str, version: str) -> dict:
    """Legacy template for the indices `<beat>-<version>-*` (Beats 7.x)."""
    return {
        "index_patterns": [f"{beat}-{version}-*"],
        "order": ES7_ORDER,
        "settings": {"index": build_index_settings(schema)},
        "mappings": build_mappings(schema, beat, version, 7),
    }


# --- Kibana index pattern -------------------------------------------------------------------

KIBANA_TYPES = {
    **{t: "string" for t in STRING_TYPES | {"flattened"}},
    **{t: "number" for t in INTEGER_TYPES | FLOAT_TYPES},
    **{t: "date" for t in DATE_TYPES},
    "ip": "ip",
    "boolean": "boolean",
    "geo_point": "geo_point",
    "binary": "binary",
    "ip_range": "ip_range",
    "date_range": "date_range",
    "histogram": "histogram",
}

_FORMAT_PARAMS = (
    ("pattern", "pattern"),
    ("input_format", "inputFormat"),
    ("output_format", "outputFormat"),
    ("output_precision", "outputPrecision"),
    ("label_template", "labelTemplate"),
)


def _kibana_field(path: str, type_: str, attrs: dict) -> dict:
    indexed = attrs.get("index", True)
    doc_values = attrs.get("doc_values", True) and type_ not in ("text", "match_only_text")
    aggregatable = doc_values and type_ not in ("text", "match_only_text", "binary")
    return {
        "name": path,
        "type": KIBANA_TYPES[type_],
        "count": attrs.get("count", 0),
        "scripted": False,
        "indexed": indexed,
        "analyzed": attrs.get("analyzed", False),
        "doc_values": doc_values,
        "searchable": attrs.get("searchable", indexed),
        "aggregatable": attrs.get("aggregatable", aggregatable),
    }


def build_index_pattern(schema: Schema, beat: str, version: str) -> dict:
    """Kibana index-pattern saved object (libbeat/kibana/index_pattern_generator.go)."""
    fields: list[dict] = []
    formats: dict = {}
    for leaf in schema.leaves.values():
        type_ = leaf.type
        if type_ == "alias":
            type_ = schema.leaves[leaf.attrs["path"]].type
        elif type_ == "array":
            type_ = leaf.attrs.get("object_type", "keyword")
        # `object` fields have no Kibana type; Kibana discovers their dynamic sub-fields.
        if type_ not in KIBANA_TYPES:
            continue
        fields.append(_kibana_field(leaf.path, type_, leaf.attrs))
        for sub in leaf.attrs.get("multi_fields", ()):
            fields.append(_kibana_field(f"{leaf.path}.{sub['name']}", sub["type"], sub))
        if "format" in leaf.attrs or "pattern" in leaf.attrs:
            fmt: dict = {}
            if "format" in leaf.attrs:
                fmt["id"] = leaf.attrs["format"]
            params = {out: leaf.attrs[key] for key, out in _FORMAT_PARAMS if key in leaf.attrs}
            if params:
                fmt["params"] = params
            formats[leaf.path] = fmt
    for meta_name, meta_type, searchable in (("_id", "keyword", False), ("_type", "keyword", True),
                                             ("_index", "keyword", False),
                                             ("_score", "integer", False)):
        fields.append({"name": meta_name, "type": KIBANA_TYPES[meta_type], "count": 0,
                       "scripted": False, "indexed": False, "analyzed": False,
                       "doc_values": False, "searchable": searchable,
                       "aggregatable": searchable})
    title = f"{beat}-*"
    return {
        "type": "index-pattern",
        "id": title,
        "version": version,
        "attributes": {
            "title": title,
            "timeFieldName": "@timestamp",
            "fields": json.dumps(fields, separators=(",", ":")),
            "fieldFormatMap": json.dumps(formats, separators=(",", ":"), sort_keys=True),
        },
    }


# --- docs -----------------------------------------------------------------------------------


def render_asciidoc(schema: Schema, beat: str) -> str:
    """docs/fields.asciidoc in the layout of libbeat's generate_fields_docs.py."""
    out = [
        "",
        "////",
        "This file is generated! See fields/fields.yml and fields/generate_fields.py",
        "////",
        "",
        "[[exported-fields]]",
        "= Exported fields",
        "",
        "[partintro]",
        "",
        "--",
        f"This document describes the fields that are exported by {beat.title()}. They are",
        "grouped in the following categories:",
        "",
    ]
    sections = sorted(
        (s for s in schema.sections if not s.get("skipdocs")), key=lambda s: s["key"]
    )
    for section in sections:
        out.append(f"* <<exported-fields-{section.get('anchor', section['key'])}>>")
    out += ["", "--"]
    for section in sections:
        out.append(f"[[exported-fields-{section.get('anchor', section['key'])}]]")
        if "prefix" in section:
            out.append(section["prefix"])
        out += [f"== {section['title']} fields", "", section["description"].strip(), "", ""]
        _document_fields(out, section["fields"], "")
    return "\n".join(out) + "\n"


def _document_fields(out: list[str], fields: list, parent: str) -> None:
    for field in fields:
        path = f"{parent}.{field['name']}" if parent else field["name"]
        if field["type"] in GROUP_TYPES:
            out += ["[float]", f"=== {field['name']}", "", field["description"].strip(), "", ""]
            _document_fields(out, field["fields"], path)
        else:
            _document_field(out, field, path)


def _document_field(out: list[str], field: dict, path: str) -> None:
    out += [f"*`{path}`*::", "+", "--"]
    if "deprecated" in field:
        out += ["", f"deprecated:[{field['deprecated']}]", ""]
    if field.get("description"):
        out += [" ".join(field["description"].split()), ""]
    out += [f"type: {field['type']}", ""]
    if "json_type" in field:
        out += [f"JSON value: {field['json_type']}", ""]
    if "example" in field:
        out += [f"example: {field['example']}", ""]
    if "format" in field:
        out += [f"format: {field['format']}", ""]
    if "required" in field:
        out += [f"required: {field['required']}", ""]
    if "path" in field:
        out += [f"alias to: {field['path']}", ""]
    if field.get("index") is False:
        out += ["Field is not indexed.", ""]
    if field.get("enabled") is False:
        out += ["Object is not enabled.", ""]
    out += ["--", ""]
    for sub in field.get("multi_fields", ()):
        sub_doc = {"name": sub["name"], "type": sub["type"]}
        if "description" in sub:
            sub_doc["description"] = sub["description"]
        _document_field(out, sub_doc, f"{path}.{sub['name']}")


# --- event checks ---------------------------------------------------------------------------

_RFC3339_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)

_INTEGER_RANGES = {
    # `integer` is mapped to long by the template, so it gets the long range.
    "long": (-(2**63), 2**63 - 1),
    "integer": (-(2**63), 2**63 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-(2**7), 2**7 - 1),
}


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return _is_integer(value) or (isinstance(value, float) and math.isfinite(value))


def _is_rfc3339(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    match = _RFC3339_RE.match(value)
    if not match:
        return False
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        datetime.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return False
    return True


def _is_ip(value: Any) -> bool:
    # Elasticsearch rejects IPv6 zone ids, which Python's ipaddress accepts.
    if not isinstance(value, str) or "%" in value:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def scalar_problem(type_: str, value: Any) -> str | None:
    """Why a non-null scalar JSON value does not fit `type_` (a mapping or json_type)."""
    if type_ in STRING_TYPES or type_ in ("string", "binary"):
        ok = isinstance(value, str)
    elif type_ in INTEGER_TYPES:
        if not _is_integer(value):
            ok = False
        else:
            low, high = _INTEGER_RANGES[type_]
            if not low <= value <= high:
                return f"{value} is out of range for {type_}"
            ok = True
    elif type_ == "number" or type_ in FLOAT_TYPES:
        ok = _is_number(value)
    elif type_ == "boolean":
        ok = isinstance(value, bool)
    elif type_ in DATE_TYPES:
        if _is_rfc3339(value):
            return None
        return f"{json.dumps(value)} is not an RFC 3339 date for {type_}"
    elif type_ == "ip":
        if _is_ip(value):
            return None
        return f"{json.dumps(value)} is not an IPv4/IPv6 address"
    elif type_ in ("flattened", "geo_point", "histogram", "date_range", "ip_range"):
        # Structured types: Elasticsearch validates their inner shape; accept here.
        return None
    else:
        return f"values of type {type_} cannot be checked"
    if ok:
        return None
    return f"{_json_kind(value)} {json.dumps(value)} does not fit type {type_}"


class EventChecker:
    """Walks JSON events alongside the declarations and collects problems."""

    def __init__(self, schema: Schema):
        self.schema = schema

    def check(self, event: Any) -> list[tuple[str, str]]:
        """Returns (field path, problem) pairs; empty when the event fits fields.yml."""
        if not isinstance(event, dict):
            return [("", f"event is a JSON {_json_kind(event)}, not an object")]
        problems: list[tuple[str, str]] = []
        for key, value in event.items():
            if key.split(".")[0] == "@metadata":  # not indexed; the outputs strip it
                continue
            self._walk(key, value, problems)
        return problems

    def _walk(self, path: str, value: Any, problems: list[tuple[str, str]]) -> None:
        if path.split(".")[0] in FREE_FORM_ROOTS:
            return
        if value is None:
            # null means "no value" to Elasticsearch, but the field must still be declared.
            declared = path in self.schema.leaves or path in self.schema.groups
            if not declared and self.schema.object_ancestor(path) is None:
                self._undeclared(path, problems)
            return
        if isinstance(value, list):
            # Arrays are multi-valued fields of the element type (arrays of objects flatten).
            for element in value:
                self._walk(path, element, problems)
            return

        leaf = self.schema.leaves.get(path)
        if leaf is not None:
            self._check_leaf(leaf, value, problems)
            return
        owner = self.schema.object_ancestor(path)
        if owner is not None:
            self._check_object_content(owner, path, value, problems)
            return
        if isinstance(value, dict):
            if path not in self.schema.groups and not value:
                self._undeclared(path, problems)
            # Keys may themselves be dotted; Elasticsearch expands them, so joining is exact.
            for key, sub in value.items():
                self._walk(f"{path}.{key}", sub, problems)
            return
        if path in self.schema.groups:
            problems.append((path, f"{_json_kind(value)} {json.dumps(value)} given for an object "
                                   "(fields are declared below this path)"))
            return
        self._undeclared(path, problems)

    @staticmethod
    def _undeclared(path: str, problems: list[tuple[str, str]]) -> None:
        problems.append((path, "field is not declared in fields.yml"))

    def _check_leaf(self, leaf: Leaf, value: Any, problems: list[tuple[str, str]]) -> None:
        if leaf.type == "alias":
            problems.append((leaf.path, f"alias of {leaf.attrs['path']} cannot be set in events"))
            return
        if leaf.type == "object":
            if not isinstance(value, dict):
                problems.append((leaf.path, f"{_json_kind(value)} {json.dumps(value)} given for "
                                            "an object field"))
                return
            for key, sub in value.items():
                self._walk(f"{leaf.path}.{key}", sub, problems)
            return
        if leaf.type == "array":
            element_type = leaf.attrs.get("object_type")
            if element_type is not None:
                problem = scalar_problem(element_type, value)
                if problem:
                    problems.append((leaf.path, problem))
            return
        if isinstance(value, dict) and leaf.type not in (
            "flattened", "geo_point", "histogram", "date_range", "ip_range"
        ):
            problems.append((leaf.path, f"object given for a {leaf.type} field"))
            return
        problem = scalar_problem(leaf.check_type, value)
        if problem:
            problems.append((leaf.path, problem))

    def _check_object_content(self, owner: Leaf, path: str, value: Any,
                              problems: list[tuple[str, str]]) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                self._walk(f"{path}.{key}", sub, problems)
            return
        object_type = owner.attrs.get("object_type")
        if object_type is None:
            return  # untyped object: dynamic content
        problem = scalar_problem(object_type, value)
        if problem:
            problems.append((path, f"{problem} (object_type of {owner.path})"))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def check_events(schema: Schema, paths: list[str]) -> tuple[int, list[str]]:
    """Checks NDJSON files; returns (events checked, problem messages)."""
    checker = EventChecker(schema)
    count = 0
    messages: list[str] = []
    for path in paths:
        try:
            stream = open(path, encoding="utf-8")
        except OSError as err:
            raise FieldsError(f"cannot read {path}: {err.strerror}") from err
        with stream:
            for line_no, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                try:
                    event = json.loads(line, parse_constant=_reject_constant)
                except ValueError as err:
                    messages.append(f"{path}:{line_no}: invalid JSON: {err}")
                    continue
                count += 1
                for field_path, problem in checker.check(event):
                    messages.append(f"{path}:{line_no}: {field_path}: {problem}")
    return count, messages


# --- command line ---------------------------------------------------------------------------

_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$")
_BEAT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _write(path: str, text: str) -> None:
    # Write-then-rename so a build never sees a half-written artefact.
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8", newline="\n") as stream:
        stream.write(text)
    os.replace(tmp, path)


def _json_text(doc: dict) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def generate(schema: Schema, out_dir: str, beat: str, version: str, ecs_version: str,
             only: Iterable[str]) -> list[str]:
    renderers = {
        "field_names.h": lambda: render_header(schema, beat, version, ecs_version),
        "template-es8.json": lambda: _json_text(build_template_es8(schema, beat, version)),
        "template-es7.json": lambda: _json_text(build_template_es7(schema, beat, version)),
        "index-pattern.json": lambda: _json_text(build_index_pattern(schema, beat, version)),
        "fields.asciidoc": lambda: render_asciidoc(schema, beat),
    }
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for name in only:
        target = os.path.join(out_dir, name)
        _write(target, renderers[name]())
        written.append(target)
    return written


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Generate sipbeat's field header, index templates, Kibana index pattern "
                    "and docs from fields.yml, or check NDJSON events against it.",
    )
    parser.add_argument("--fields", required=True, help="path to fields.yml")
    parser.add_argument("--out-dir", help="directory to write the generated files into")
    parser.add_argument("--beat", help="beat name (index prefix), e.g. sipbeat")
    parser.add_argument("--version", help="beat version, e.g. 0.1.0")
    parser.add_argument("--ecs-version", default="8.0.0",
                        help="ECS version written to ecs.version (default %(default)s)")
    parser.add_argument("--only", action="append", choices=OUTPUT_NAMES, metavar="FILE",
                        help="write only this output (repeatable; default: all of "
                             + ", ".join(OUTPUT_NAMES) + ")")
    parser.add_argument("--check-events", nargs="+", metavar="FILE.ndjson",
                        help="check that every field of these NDJSON events is declared "
                             "and fits its type")
    args = parser.parse_args(argv)
    if args.out_dir is None and args.check_events is None:
        parser.error("nothing to do: give --out-dir and/or --check-events")
    if args.out_dir is not None:
        if not args.beat or not _BEAT_RE.match(args.beat):
            parser.error("--out-dir needs --beat NAME (lower case letters, digits, '-', '_')")
        if not args.version or not _VERSION_RE.match(args.version):
            parser.error("--out-dir needs --version X.Y.Z")
        if not _VERSION_RE.match(args.ecs_version):
            parser.error("--ecs-version must look like X.Y.Z")
    elif args.only:
        parser.error("--only needs --out-dir")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        schema = load_fields(args.fields)
        if args.out_dir is not None:
            generate(schema, args.out_dir, args.beat, args.version, args.ecs_version,
                     args.only or OUTPUT_NAMES)
        if args.check_events is not None:
            count, messages = check_events(schema, args.check_events)
            for message in messages:
                print(message, file=sys.stderr)
            if messages:
                print(f"{PROG}: {len(messages)} problem(s) in {count} events", file=sys.stderr)
                return 1
            print(f"{count} events checked")
    except FieldsError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
