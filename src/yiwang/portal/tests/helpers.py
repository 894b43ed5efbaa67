"""Shared test helpers: a tiny HTML inspector for CSP and accessibility rules."""

from html.parser import HTMLParser


class InlineCodeFinder(HTMLParser):
    """Collects what CSP would block: inline scripts, style="", <style>, on* handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        if "style" in names:
            self.problems.append(f'style="" on <{tag}>')
        self.problems.extend(
            f"{name} handler on <{tag}>" for name in names if name.startswith("on")
        )


def inline_code(html: str) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(html)
    return finder.problems
