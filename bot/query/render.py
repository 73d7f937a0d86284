"""Turning a node tree back into text: the canonical query string and a plain-English summary.

The canonical form is built from the parts of nodes that take part in equality (stems, not the
words as typed), so equal queries have equal canonical strings, and it parses back to the same
tree: operators are upper case, AND is a space, a field shared by a whole group is written
once (`ti:(a OR b)`), and parentheses appear only where precedence needs them.
"""

from __future__ import annotations

from bot.query.nodes import And, Category, Field, Node, Not, Or, Prefix, Terms, uniform_field

MAX_DESCRIPTION = 300


def canonical(node: Node, context: Field = Field.ANY) -> str:
    if isinstance(node, Not):
        return "-" + _grouped(node.child, context, needed=isinstance(node.child, Or | And))
    if isinstance(node, And | Or):
        field = _group_field(node, context)
        if field is not None:
            return f"{field.value}:({canonical(node, field)})"
        if isinstance(node, Or):
            return " OR ".join(canonical(c, context) for c in node.children)
        return " ".join(_grouped(c, context, needed=isinstance(c, Or)) for c in node.children)
    prefix = "" if node.field in (Field.ANY, context) else f"{node.field.value}:"
    if isinstance(node, Category):
        return prefix + node.value
    if isinstance(node, Prefix):
        return f"{prefix}{node.prefix}*"
    body = node.tokens[0] if len(node.tokens) == 1 else '"' + " ".join(node.tokens) + '"'
    return prefix + body


def _group_field(node: And | Or, context: Field) -> Field | None:
    """The field to write once in front of a group, if its leaves share one not yet in force."""
    field = uniform_field(node)
    return field if field is not None and field not in (Field.ANY, context) else None


def _grouped(node: Node, context: Field, needed: bool) -> str:
    text = canonical(node, context)
    # A group that gets a field prefix already carries its own parentheses.
    if needed and not (isinstance(node, And | Or) and _group_field(node, context)):
        return f"({text})"
    return text


_CONTAINS = {
    Field.ANY: "title or abstract contains",
    Field.TITLE: "title contains",
    Field.ABSTRACT: "abstract contains",
    Field.AUTHOR: "an author's name contains",
    Field.CATEGORY: "category",
}
_WHERE = {
    Field.ANY: "",
    Field.TITLE: " in the title",
    Field.ABSTRACT: " in the abstract",
    Field.AUTHOR: " in an author's name",
    Field.CATEGORY: "",
}


def describe(node: Node) -> str:
    """A short explanation such as `title or abstract contains "diffusion"; excluding "survey"`."""
    conjuncts = node.children if isinstance(node, And) else (node,)
    clauses: list[tuple[Field | None, list[str]]] = []
    categories: list[str] = []
    excluded: list[str] = []
    for part in conjuncts:
        if isinstance(part, Not):
            excluded.append(_excluded(part.child))
            continue
        field = uniform_field(part)
        if field is Field.CATEGORY:
            alternatives = part.children if isinstance(part, Or) else (part,)
            if all(isinstance(c, Category) for c in alternatives):
                categories.append("category " + " or ".join(map(_inner_top, alternatives)))
            else:
                categories.append("category " + _inner(part, top=True))
        elif field is not None and clauses and clauses[-1][0] is field:
            clauses[-1][1].append(_inner(part, top=False))  # "... contains "a" and "b""
        elif field is not None:
            clauses.append((field, [_inner(part, top=True)]))
        else:
            clauses.append((None, [_mixed(part, top=True)]))
    texts = [
        " and ".join(items) if field is None else f"{_CONTAINS[field]} " + " and ".join(items)
        for field, items in clauses
    ]
    texts += categories
    if excluded:
        texts.append("excluding " + ", ".join(excluded))
    text = "; ".join(texts)
    if len(text) > MAX_DESCRIPTION:
        text = text[: MAX_DESCRIPTION - 1].rstrip() + "…"
    return text


def _leaf(node: Terms | Prefix | Category) -> str:
    if isinstance(node, Category):
        return node.value
    if isinstance(node, Prefix):
        return f'a word starting with "{node.prefix}"'
    shown = node.display or " ".join(node.tokens)
    return f'the phrase "{shown}"' if node.is_phrase else f'"{shown}"'


def _inner(node: Node, top: bool) -> str:
    """Describe a subtree whose leaves all share one field, without naming the field."""
    if isinstance(node, Not):
        return "not " + _inner(node.child, top=False)
    if isinstance(node, Or):
        items = [_bracket(c, _inner(c, top=False)) for c in node.children]
        if top:
            return ", or ".join(items)
        return "either " + " or ".join(items)
    if isinstance(node, And):
        return " and ".join(_inner(c, top=False) for c in node.children)
    return _leaf(node)


def _inner_top(node: Node) -> str:
    return _inner(node, top=True)


def _mixed(node: Node, top: bool) -> str:
    """Describe a subtree whose leaves are in different fields, naming each."""
    if isinstance(node, Not):
        return "excluding " + _excluded(node.child)
    field = uniform_field(node)
    if field is not None and not (isinstance(node, And) and _has_negation(node)):
        return f"{_CONTAINS[field]} {_inner(node, top=top)}"
    if isinstance(node, Or):
        items = [_bracket(c, _mixed(c, top=False)) for c in node.children]
        return ", or ".join(items) if top else "either " + " or ".join(items)
    assert isinstance(node, And)  # a leaf always has a uniform field
    wanted = [_mixed(c, top=False) for c in node.children if not isinstance(c, Not)]
    unwanted = [_excluded(c.child) for c in node.children if isinstance(c, Not)]
    text = " and ".join(wanted)
    return f"{text}, excluding {', '.join(unwanted)}" if unwanted else text


def _has_negation(node: And) -> bool:
    return any(isinstance(c, Not) for c in node.children)


def _bracket(node: Node, text: str) -> str:
    # "a, or (b and c)" reads unambiguously where "a, or b and c" does not.
    return f"({text})" if isinstance(node, And) else text


def _excluded(node: Node) -> str:
    field = uniform_field(node)
    if field is Field.CATEGORY:
        return "category " + _inner(node, top=False)
    if field is not None:
        return _inner(node, top=False) + _WHERE[field]
    return "papers where " + _mixed(node, top=False)
