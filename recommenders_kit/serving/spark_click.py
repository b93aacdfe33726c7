"""The click service's requests answered in Spark SQL: the checks of
:mod:`recommenders_kit.serving.schema`, the encoders and the trees, with no Python per request.

:func:`answers` turns SynapseML's request rows into ``(id, status, body)`` rows with
expressions only (projections, which Spark's continuous mode runs as the requests arrive): the
body is parsed with ``from_json``, each row's fields are checked in the order pydantic checks
them, and the rows are scored by :class:`~recommenders_kit.models.lightgbm.sql.ClickSQL` inside
``transform`` over the request's rows.

The answers equal the Azure ML service's (status, and the error body as parsed JSON) but for
these, where Python's parser says more than Spark's can (each still a 4xx with ``"error"``):

* malformed JSON and bytes that are not UTF-8: 400 with ``"malformed JSON"`` but not Python's
  message (which names the position);
* JSON nested deeper than Spark's parser allows (1,000 levels): 400 ``"malformed JSON"``, not
  ``"JSON nested too deeply"``;
* ``{"rows": [...]} x`` (text after the JSON value) and ``1, "x": 2`` (text that is not one
  JSON value but reads as members of an object): 400 in Python; here the first is answered
  as the JSON before the extra text, the second as a value that is not an object (422);
* a row given as a JSON *string* holding an object: Python names that row; here the detail
  names ``rows`` when no other row is wrong;
* an integer literal over :data:`~recommenders_kit.serving.schema.MAX_NUMBER_DIGITS` digits
  inside a string that also holds a comma or colon right before it and one after: read as a
  number here (400).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from recommenders_kit.models.lightgbm.sql import ClickSQL, quoted, string
from recommenders_kit.serving.schema import (
    EMPTY_BODY,
    MAX_BODY_BYTES,
    MAX_CATEGORY_LENGTH,
    MAX_ECHO_CHARS,
    MAX_NUMBER_DIGITS,
    MAX_ROWS,
    SCHEMA_MISMATCH,
    TOO_MANY_ROWS,
    body_too_large,
)
from recommenders_kit.serving.scorers import NOT_A_POST

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

#: a client's key ``k`` cut as :func:`recommenders_kit.serving.schema.echoed` cuts it
_ECHOED = f"IF(length(k) > {MAX_ECHO_CHARS}, concat(substring(k, 1, {MAX_ECHO_CHARS}), '...'), k)"

# Spark's JSON reader as Python's json: single quotes are not JSON
_JSON = "map('allowSingleQuotes', 'false')"
#: A key of a row's compact JSON (Spark writes objects back without spaces) and the first two
#: characters of its value, read ahead (the value is followed by "," or "}": there are always two).
#: Possessive: Java's regex recurses once per repetition of a group, and a key of a few thousand
#: characters matched one character per repetition overflowed the stack of the JVM, ending it.
_KEYS = r'[{,]"((?:[^"\\]++|\\.)*+)":(?=(..))'


def answers(requests: DataFrame, sql: ClickSQL, model_version: str) -> DataFrame:
    """``(id, status, body)`` for SynapseML's request rows (``id``, ``request``): GET is the
    health check, POST scores, anything else is 405; see the module docstring."""
    numeric, categorical = list(sql.stats.numeric_cols), list(sql.stats.columns)
    features = numeric + categorical
    names = "array(" + ", ".join(map(string, features)) + ")"
    fields = ", ".join(f"{quoted(k)}: string" for k in features)
    parsed = requests.selectExpr(
        "id",
        "request.requestLine.method AS method",
        "request.entity.content AS content",
        "decode(request.entity.content, 'UTF-8') AS text",
    ).selectExpr(
        "id",
        "method",
        "coalesce(length(content), 0) AS size",
        "content IS NOT NULL AND encode(text, 'UTF-8') != content AS not_utf8",
        "text",
        f"from_json(text, 'map<string,string>', {_JSON}) AS top",
        # a JSON value, or not JSON at all (null reads as a missing value: told apart)
        f"from_json(concat('{{\"v\":', text, '}}'), 'struct<v:string>', {_JSON}).v IS NOT NULL"
        " OR trim(text) = 'null' AS is_json",
        f"from_json(text, 'struct<rows:array<string>>', {_JSON}).rows AS texts",
        f"from_json(text, 'struct<rows:array<map<string,string>>>', {_JSON}).rows AS objects",
        f"from_json(text, 'struct<rows:array<struct<{fields}>>>', {_JSON}).rows AS records",
    )
    digits = MAX_NUMBER_DIGITS + 1  # + 1: a minus sign
    rows = parsed.selectExpr(
        "*",
        f"""transform(texts, s -> named_struct('keys', regexp_extract_all(s, {string(_KEYS)}, 1),
            'heads', regexp_extract_all(s, {string(_KEYS)}, 2))) AS tokens""",
        # each row as a map, NULL for one that is not an object
        "coalesce(objects, transform(texts, t -> from_json(t, 'map<string,string>'))) AS maps",
        "regexp_extract(concat(',', concat_ws(',', map_values(top))), "
        + string(rf"[\[{{,:](-?[0-9]{{{digits},}})(?=[,}}\]]|$)")
        + ", 1) AS long_number",
    )
    checked = rows.selectExpr(
        "*",
        f"""objects IS NOT NULL AND size(texts) BETWEEN 1 AND {MAX_ROWS}
            AND size(map_keys(top)) = 1 AND NOT array_contains(zip_with(tokens, records,
            (t, r) -> {_well_formed(numeric, categorical)}), false) AS fast""",
    ).selectExpr(
        "*",
        f"""CASE WHEN fast THEN array() WHEN NOT map_contains_key(top, 'rows') THEN
                array(named_struct('field', 'rows', 'problem', 'Field required'))
            WHEN texts IS NULL THEN
                array(named_struct('field', 'rows', 'problem', 'Input should be a valid list'))
            WHEN size(texts) = 0 THEN array(named_struct('field', 'rows', 'problem',
                'List should have at least 1 item after validation, not 0'))
            ELSE flatten(transform(maps, (r, i) -> {_row_errors(numeric, categorical, names)}))
            END AS row_errors""",
        f"""IF(fast, array(), transform(filter(map_keys(top), k -> k != 'rows'),
            k -> named_struct('field', {_ECHOED}, 'problem', 'Extra inputs are not permitted')))
            AS top_errors""",
        f"""IF(fast, array(), filter(transform(maps, (r, i) -> IF(r IS NULL OR
                size(filter({names}, k -> NOT map_contains_key(r, k))) = 0, NULL,
                named_struct('field', concat('rows[', i, ']'), 'problem', concat('missing: ',
                array_join(filter({names}, k -> NOT map_contains_key(r, k)), ', '),
                ' (send null for a missing value)')))), e -> e IS NOT NULL)) AS missing""",
    )
    details = checked.selectExpr(
        "*",
        "slice(concat(row_errors, top_errors, coalesce(missing, array())), 1, 20) AS details",
    )
    valid = f"fast OR (size(details) = 0 AND objects IS NOT NULL AND size(texts) <= {MAX_ROWS})"
    scored = _scored(details, sql, categorical, valid)
    health = json.dumps({"status": "Healthy", "model_version": model_version})
    invalid_row = "Input should be a valid dictionary or instance of Row"
    # one decision, its status and body side by side: (condition, status, body SQL)
    cases = [
        ("method = 'GET'", 200, string(health)),
        ("method != 'POST'", 405, string(json.dumps(NOT_A_POST))),
        ("trim(text) = '' OR text IS NULL", 400, _error(string(EMPTY_BODY))),
        (f"size > {MAX_BODY_BYTES}", 413, _error(string(body_too_large()))),
        ("not_utf8", 400, _error(string("malformed JSON: not UTF-8 text"))),
        ("NOT is_json", 400, _error(string("malformed JSON"))),
        (
            "long_number != ''",
            400,
            _error(
                "concat('malformed JSON: an integer of ', format_number(length(long_number), 0),"
                f" ' characters (at most {MAX_NUMBER_DIGITS})')"
            ),
        ),
        (
            "top IS NULL",
            422,
            _error(
                string(SCHEMA_MISMATCH),
                "array(named_struct('field', '', 'problem', "
                "'Input should be a valid dictionary or instance of ClickRequest'))",
            ),
        ),
        (f"size(texts) > {MAX_ROWS}", 413, _error(string(TOO_MANY_ROWS))),
        ("size(details) > 0", 422, _error(string(SCHEMA_MISMATCH), "details")),
        (
            "objects IS NULL",
            422,
            _error(
                string(SCHEMA_MISMATCH),
                f"array(named_struct('field', 'rows', 'problem', {string(invalid_row)}))",
            ),
        ),
    ]
    scores = (
        "to_json(named_struct('probabilities', probabilities, "
        f"'model_version', {string(model_version)}))"
    )
    answer = (
        "CASE "
        + " ".join(
            f"WHEN {condition} THEN named_struct('status', {status}, 'body', {body})"
            for condition, status, body in cases
        )
        + f" ELSE named_struct('status', 200, 'body', {scores}) END AS answer"
    )
    return scored.selectExpr("id", answer).selectExpr("id", "answer.status", "answer.body")


def _error(message: str, details: str | None = None) -> str:
    """SQL of the JSON error body with the SQL ``message`` (and ``details``)."""
    more = f", 'details', {details}" if details else ""
    return f"to_json(named_struct('error', {message}{more}))"


def _well_formed(numeric: list[str], categorical: list[str]) -> str:
    """SQL of the quick check that a row (lambda variables ``t``: its keys and the heads of
    their values, in the row's order; ``r``: the row as a struct of raw values) is one the
    model scores: exactly the model's keys, numbers (or null) for the numeric ones, strings
    (or null) of at most :data:`MAX_CATEGORY_LENGTH` characters for the others. Keys in the
    model's order are checked as they are, others once sorted. A row that fails it is checked
    again field by field (:func:`_row_errors`), slower but naming each problem (a string whose
    text is ``"NaN"`` with its quotes fails here and passes there)."""

    def kinds(keys: list[str]) -> str:
        number, text = "(?:[-0-9].|nu)", '(?:".|nu)'
        return string("^" + "".join(number if k in numeric else text for k in keys) + "$")

    model, ordered = numeric + categorical, sorted(numeric + categorical)
    by_key = "sort_array(zip_with(t.keys, t.heads, (k, h) -> named_struct('k', k, 'h', h)))"
    values = ", ".join(f"r.{quoted(c)}" for c in categorical)
    lengths = ", ".join(f"length(r.{quoted(c)})" for c in categorical)
    keys = (
        f"((t.keys = array({', '.join(map(string, model))}) AND "
        f"concat_ws('', t.heads) rlike {kinds(model)}) OR "
        f"(transform({by_key}, e -> e.k) = array({', '.join(map(string, ordered))}) AND "
        f"concat_ws('', transform({by_key}, e -> e.h)) rlike {kinds(ordered)}))"
    )
    if not categorical:
        return keys
    return (
        f"{keys} AND coalesce(greatest({lengths}, 0), 0) <= {MAX_CATEGORY_LENGTH} AND "
        f"arrays_overlap(array({values}), "
        """array('"NaN"', '"Infinity"', '"-Infinity"')) IS NOT TRUE"""
    )


def _head(key: str) -> str:
    """SQL of the first two characters of ``key``'s value in the row's compact JSON (lambda
    variable ``i``: the row's index; NULL when the key is absent); see :data:`_KEYS`."""
    tokens = "element_at(tokens, i + 1)"
    at = f"CAST(nullif(array_position({tokens}.keys, {string(key)}), 0) AS INT)"
    return f"element_at({tokens}.heads, {at})"


def _row_errors(numeric: list[str], categorical: list[str], names: str) -> str:
    """SQL of one row's problems (lambda variables ``r``: the row's map, NULL when not an
    object; ``i``: its index), in pydantic's order: the fields, then the unknown keys.

    A value's JSON type is read from the first characters after its key in the row's compact
    JSON (``tokens``): a quote starts a string, a digit or minus a number; Spark writes NaN and
    infinities as the quoted strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``, which the
    map holds with their quotes (a real string, without)."""
    field = "concat('rows[', i, '].{}')"
    checks = []
    for key in numeric + categorical:
        value, head = f"r[{string(key)}]", _head(key)
        non_finite = (
            f"{head} IN ('\"N', '\"I', '\"-') AND "
            f"{value} IN ('\"NaN\"', '\"Infinity\"', '\"-Infinity\"')"
        )
        first = f"ascii({head})"
        given = f"map_contains_key(r, {string(key)}) AND {value} IS NOT NULL"
        if key in numeric:
            problems = [
                (f"{given} AND {non_finite}", "Input should be a finite number"),
                (
                    f"{given} AND NOT ({non_finite}) AND NOT ({first} = 45 OR {first} "
                    "BETWEEN 48 AND 57)",
                    "Input should be a valid number",
                ),
            ]
        else:
            string_value = f"{first} = 34 AND NOT ({non_finite})"
            problems = [
                (f"{given} AND NOT ({string_value})", "Input should be a valid string"),
                (
                    f"{given} AND length({value}) > {MAX_CATEGORY_LENGTH}",
                    f"String should have at most {MAX_CATEGORY_LENGTH} characters",
                ),
            ]
        checks.append(
            "CASE "
            + " ".join(
                f"WHEN {condition} THEN named_struct('field', {field.format(key)}, "
                f"'problem', {string(problem)})"
                for condition, problem in problems
            )
            + " END"
        )
    unknown = (
        f"transform(filter(map_keys(r), k -> NOT array_contains({names}, k)), "
        f"k -> named_struct('field', concat('rows[', i, '].', {_ECHOED}), "
        "'problem', 'Extra inputs are not permitted'))"
    )
    return (
        "IF(r IS NULL, array(named_struct('field', concat('rows[', i, ']'), 'problem', "
        "'Input should be a valid dictionary or instance of Row')), "
        f"concat(filter(array({', '.join(checks)}), e -> e IS NOT NULL), {unknown}))"
    )


def _scored(frame: DataFrame, sql: ClickSQL, categorical: list[str], valid: str) -> DataFrame:
    """``frame`` with ``probabilities``: the click probability of each row of ``records``
    when ``valid``; each row's positions, then its features, then the trees, one projection
    each (so that each is computed once per row)."""
    lookups = ", ".join(sql.position(c, f"r.{quoted(c)}") for c in categorical)
    slot = {c: j + 1 for j, c in enumerate(categorical)}
    features = sql.features(
        lambda c: f"coalesce(CAST(r.{quoted(c)} AS DOUBLE), double('NaN'))",
        lambda c: f"element_at(element_at(positions, i + 1), {slot[c]})",
    )
    probability = sql.probability(lambda j: f"x[{j}]")
    return (
        frame.selectExpr(
            "*", f"IF({valid}, transform(records, r -> array({lookups})), NULL) AS positions"
        )
        .selectExpr(
            "*",
            "IF(positions IS NULL, NULL, transform(records, (r, i) -> "
            f"array({', '.join(features)}))) AS encoded",
        )
        .selectExpr("*", f"transform(encoded, x -> {probability}) AS probabilities")
    )
