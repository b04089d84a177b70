"""Variable names that Stata and R accept, made once and shared by every table.

Stata: 1-32 characters, a letter or ``_`` first, then letters, digits and
``_``; no reserved word (Stata's own list in [U] 11.3 plus the Mata words
pandas also avoids, such as ``end``). R accepts every such name too.
"""

import re
import unicodedata
from collections.abc import Iterable

# Stata [U] 11.3 "Naming conventions" and the Mata reserved words.
RESERVED = frozenset(
    [
        "_all",
        "_b",
        "byte",
        "_coef",
        "_cons",
        "double",
        "float",
        "if",
        "in",
        "int",
        "long",
        "_n",
        "_N",
        "_pi",
        "_pred",
        "_rc",
        "_skip",
        "strL",
        "using",
        "with",
        "aggregate",
        "array",
        "boolean",
        "break",
        "case",
        "catch",
        "class",
        "colvector",
        "complex",
        "const",
        "continue",
        "default",
        "delegate",
        "delete",
        "do",
        "else",
        "eltypedef",
        "end",
        "enum",
        "explicit",
        "export",
        "external",
        "for",
        "friend",
        "function",
        "global",
        "goto",
        "inline",
        "local",
        "NULL",
        "numeric",
        "pointer",
        "pragma",
        "protected",
        "quad",
        "real",
        "rowvector",
        "scalar",
        "short",
        "string",
        "struct",
        "transmorphic",
        "typedef",
        "typename",
        "vector",
        "virtual",
        "void",
        "volatile",
        "matrix",
    ]
)
_STR_TYPE = re.compile(r"^str([1-9][0-9]{0,3}|L)$")
MAX_NAME = 32


def is_valid_name(name: str) -> bool:
    """Whether Stata accepts ``name`` as a variable name.

    >>> is_valid_name("end"), is_valid_name("end_"), is_valid_name("str80")
    (False, True, False)
    """
    return (
        0 < len(name) <= MAX_NAME
        and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None
        and name not in RESERVED
        and _STR_TYPE.match(name) is None
    )


def slug(text: str) -> str:
    """Lower-case ASCII letters, digits and single underscores.

    >>> slug("Law enforcement / Europol"), slug("قناة")
    ('law_enforcement_europol', '')
    """
    ascii_text = (
        unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    )
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]+", "_", ascii_text.lower())).strip("_")


def safe_name(wanted: str, taken: set[str], *, fallback: str = "v") -> str:
    """A valid, unused name close to ``wanted``; adds it to ``taken``.

    Reserved words get a trailing ``_``; names starting with a digit get a
    leading ``v``; clashes get ``_2``, ``_3``... within 32 characters.

    >>> taken = {"start"}
    >>> safe_name("end", taken), safe_name("start", taken), safe_name("1st", taken)
    ('end_', 'start_2', 'v1st')
    """
    name = re.sub(r"[^A-Za-z0-9_]", "_", wanted) or fallback
    if not re.match(r"[A-Za-z_]", name):
        name = fallback + name
    name = name[:MAX_NAME]
    if name in RESERVED or _STR_TYPE.match(name):
        name = (name + "_")[:MAX_NAME]
    candidate, n = name, 1
    while candidate in taken or not is_valid_name(candidate):
        n += 1
        suffix = f"_{n}"
        candidate = name[: MAX_NAME - len(suffix)] + suffix
    taken.add(candidate)
    return candidate


def code_variables(
    codes: Iterable[tuple[int, str, str]], *, room: int = 28
) -> dict[int, str]:
    """Column stems for codes given as ``(id, name, path)``: readable, unique,
    at most ``room`` characters so ``has_`` + stem fits in 32.

    The stem is the slug of the name, of the path when two codes share a name,
    and ``code<id>`` when nothing ASCII is left (an Arabic code name, say).

    >>> code_variables([(1, "actor", "actor"), (2, "actor", "target/actor"),
    ...                 (3, "قناة", "قناة")])
    {1: 'actor', 2: 'target_actor', 3: 'code3'}
    """
    codes = list(codes)
    by_name: dict[str, int] = {}
    for _, name, _ in codes:
        by_name[slug(name)] = by_name.get(slug(name), 0) + 1
    taken: set[str] = set()
    result = {}
    for code_id, name, path in codes:
        stem = slug(name)
        if by_name.get(stem, 0) > 1:
            stem = slug(path)
        stem = stem[:room].strip("_") or f"code{code_id}"
        if not re.match(r"[a-z]", stem):
            stem = f"c{stem}"[:room]
        candidate, n = stem, 1
        while candidate in taken:
            n += 1
            candidate = f"{stem[: room - len(str(n)) - 1]}_{n}"
        taken.add(candidate)
        result[code_id] = candidate
    return result
