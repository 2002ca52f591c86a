"""An HTML page read with the standard library's parser, for tests that compare the
numbers a report prints: the text of an element by its id, and a table's cells."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

#: elements that have no end tag
VOID = frozenset({"area", "br", "col", "hr", "img", "input", "link", "meta", "source", "wbr"})


@dataclass
class Element:
    """One element: its tag, attributes and children (elements and text, in order)."""

    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    def text(self) -> str:
        """The element's text, its runs of white space made one space."""
        return " ".join("".join(_texts(self)).split())

    def find(self, tag: str) -> list[Element]:
        """The descendants with ``tag``, in document order."""
        found = []
        for child in self.children:
            if isinstance(child, Element):
                if child.tag == tag:
                    found.append(child)
                found += child.find(tag)
        return found


def _texts(e: Element) -> list[str]:
    out = []
    for child in e.children:
        out += [child] if isinstance(child, str) else _texts(child)
    return out


class Page(HTMLParser):
    """A page's elements, those with an id looked up by it."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("document", {})
        self.ids: dict[str, Element] = {}
        self._open = [self.root]
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self._open[-1].children.append(element)
        if "id" in element.attrs:
            assert element.attrs["id"] not in self.ids, f"id {element.attrs['id']} twice"
            self.ids[element.attrs["id"]] = element
        if tag not in VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        assert any(e.tag == tag for e in self._open), f"</{tag}> closes no open element"
        while self._open.pop().tag != tag:
            pass

    def handle_data(self, data: str) -> None:
        self._open[-1].children.append(data)

    def __contains__(self, id_: str) -> bool:
        return id_ in self.ids

    def text(self, id_: str) -> str:
        """The text of the element ``id_`` (white space collapsed)."""
        return self.ids[id_].text()

    def rows(self, id_: str) -> list[list[str]]:
        """The cells' texts of the table ``id_``, row by row, its header row first."""
        return [
            [c.text() for c in tr.children if isinstance(c, Element)]
            for tr in _rows(self.ids[id_])
        ]

    def row_elements(self, id_: str) -> list[Element]:
        """The ``tr`` elements of the table ``id_``."""
        return _rows(self.ids[id_])


def _rows(table: Element) -> list[Element]:
    return table.find("tr")
