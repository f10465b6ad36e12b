"""The detail view of one exchange: tabs for headers, bodies, timing, connection and notes;
and messages on a WebSocket or event stream."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, TabbedContent, TabPane

from httptap.model import Body, Exchange, Headers, find_header
from httptap.present.body import decode_request, decode_response
from httptap.present.messages import carries_messages
from httptap.present.text import Decoded
from httptap.present.units import human_size
from httptap.ui.body_view import BodyView
from httptap.ui.detail_text import (
    connection_text,
    headers_text,
    notes_text,
    timing_text,
    title_text,
)
from httptap.ui.messages_pane import MessagesPane

if TYPE_CHECKING:
    from httptap.content.proto_schema import ProtoSchemas

TABS = ("headers", "request", "response", "timing", "connection", "notes", "messages")
_TITLES = ("Headers", "Request", "Response", "Timing", "Connection", "Notes", "Messages")


class DetailScreen(Screen[None]):
    """Tabs of one exchange; updated in place when a pending exchange completes."""

    DEFAULT_CSS = """
    DetailScreen #title { height: 1; background: $panel; padding: 0 1; }
    DetailScreen TabbedContent { height: 1fr; }
    DetailScreen TabPane { padding: 0; }
    DetailScreen .body-info { height: auto; max-height: 4; color: $text-muted; padding: 0 1; }
    DetailScreen .tab-text { padding: 0 1; }
    DetailScreen #search-bar { height: 1; display: none; }
    DetailScreen #search-bar.-open { display: block; }
    DetailScreen #search { width: 1fr; }
    DetailScreen #search-count { width: auto; padding: 0 1; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back"),
        Binding("slash", "search", "Search"),
        Binding("n", "next_match(1)", "Next", show=False),
        Binding("N", "next_match(-1)", "Prev", show=False),
        Binding("o,v", "pager", "Pager"),
        Binding("y", "copy_curl", "Copy curl"),
        *(Binding(str(i + 1), f"tab('{name}')", _TITLES[i], show=False)
          for i, name in enumerate(TABS)),
    ]

    def __init__(
        self, exchange: Exchange, *, tab: str = "headers", schemas: ProtoSchemas | None = None
    ) -> None:
        super().__init__()
        self.exchange = exchange
        self.schemas = schemas
        self._first_tab = tab
        self.request_decoded = decode_request(exchange, schemas)
        self.response_decoded = decode_response(exchange, schemas)

    def compose(self) -> ComposeResult:
        ex = self.exchange
        yield Static(title_text(ex), id="title")
        with TabbedContent(initial=self._first_tab):
            with TabPane("Headers", id="headers"), VerticalScroll():
                yield Static(headers_text(ex), id="headers-text", classes="tab-text")
            with TabPane("Request", id="request"), Vertical():
                yield Static(id="request-info", classes="body-info")
                yield BodyView(id="request-body")
            with TabPane("Response", id="response"), Vertical():
                yield Static(id="response-info", classes="body-info")
                yield BodyView(id="response-body")
            with TabPane("Timing", id="timing"), VerticalScroll():
                yield Static(timing_text(ex), id="timing-text", classes="tab-text")
            with TabPane("Connection", id="connection"), VerticalScroll():
                yield Static(connection_text(ex), id="connection-text", classes="tab-text")
            with TabPane("Notes", id="notes"), VerticalScroll():
                yield Static(notes_text(ex), id="notes-text", classes="tab-text")
            with TabPane("Messages", id="messages"):
                yield MessagesPane(ex, id="messages-pane")
        with Horizontal(id="search-bar"):
            yield Input(placeholder="search body (enter: find, n/N: next/prev, esc: close)",
                        id="search", compact=True)
            yield Static("", id="search-count")
        yield Footer()

    def on_mount(self) -> None:
        self._show_bodies()
        if not carries_messages(self.exchange):
            self.query_one(TabbedContent).hide_tab("messages")

    # -- content ------------------------------------------------------------------------

    def update_exchange(self, ex: Exchange) -> None:
        """Show the newer state of the same exchange (a pending one that completed)."""
        self.exchange = ex
        self.request_decoded = decode_request(ex, self.schemas)
        self.response_decoded = decode_response(ex, self.schemas)
        self.query_one("#title", Static).update(title_text(ex))
        self.query_one("#headers-text", Static).update(headers_text(ex))
        self.query_one("#timing-text", Static).update(timing_text(ex))
        self.query_one("#connection-text", Static).update(connection_text(ex))
        self.query_one("#notes-text", Static).update(notes_text(ex))
        self._show_bodies()
        self.query_one(MessagesPane).set_exchange(ex)
        self.sync_messages()

    def sync_messages(self) -> None:
        """Show the messages that arrived since (the tab appears with the first one)."""
        if carries_messages(self.exchange):
            self.query_one(TabbedContent).show_tab("messages")
        self.query_one(MessagesPane).sync()

    def _show_bodies(self) -> None:
        ex = self.exchange
        resp_body = ex.response.body if ex.response is not None else Body()
        resp_headers = ex.response.headers if ex.response is not None else []
        for name, decoded, body, headers in (
            ("request", self.request_decoded, ex.request.body, ex.request.headers),
            ("response", self.response_decoded, resp_body, resp_headers),
        ):
            self.query_one(f"#{name}-info", Static).update(_body_info(decoded, body, headers))
            self.query_one(f"#{name}-body", BodyView).set_text(decoded.text)

    @property
    def active_tab(self) -> str:
        """Id of the tab shown (one of ``TABS``)."""
        return self.query_one(TabbedContent).active

    def body_view(self) -> BodyView:
        """The body shown on the active tab (the response body from the other tabs)."""
        name = "request" if self.active_tab == "request" else "response"
        return self.query_one(f"#{name}-body", BodyView)

    def body_text(self) -> tuple[str, str]:
        """``(name, text)`` of the body the pager opens from the active tab."""
        if self.active_tab == "request":
            return "request", self.request_decoded.text
        return "response", self.response_decoded.text

    # -- actions ------------------------------------------------------------------------

    def action_tab(self, name: str) -> None:
        if name == "messages" and not carries_messages(self.exchange):
            return  # the tab is hidden: not a WebSocket or an event stream
        self.query_one(TabbedContent).active = name
        if name == "messages":
            self.query_one("#messages-list").focus()

    def action_back(self) -> None:
        bar = self.query_one("#search-bar")
        if bar.has_class("-open"):
            self._close_search()
            return
        self.app.pop_screen()

    def action_search(self) -> None:
        if self.active_tab not in ("request", "response"):
            self.action_tab("response")
        bar = self.query_one("#search-bar")
        bar.add_class("-open")
        self.query_one("#search", Input).focus()

    def _close_search(self) -> None:
        self.query_one("#search-bar").remove_class("-open")
        self.body_view().focus()

    def action_next_match(self, step: int) -> None:
        view = self.body_view()
        view.next_match(step)
        self._show_count(view)

    def action_pager(self) -> None:
        name, text = self.body_text()
        self.app.show_in_pager(text, name)  # type: ignore[attr-defined]

    def action_copy_curl(self) -> None:
        self.app.copy_curl(self.exchange)  # type: ignore[attr-defined]

    @on(Input.Submitted, "#search")
    def _on_search(self, event: Input.Submitted) -> None:
        view = self.body_view()
        view.search(event.value)
        self._show_count(view)
        view.focus()

    def _show_count(self, view: BodyView) -> None:
        count = self.query_one("#search-count", Static)
        if not view.term:
            count.update("")
        elif not view.matches:
            count.update(Text("no match", style="red"))
        else:
            count.update(f"{view.current + 1}/{len(view.matches)}")


def _body_info(decoded: Decoded, body: Body, headers: Headers) -> Text:
    out = Text()
    if decoded.kind == "empty":
        return Text("\n".join(decoded.notes), style="yellow")
    ctype = find_header(headers, "content-type") or "no content-type"
    out.append(f"{ctype} · {human_size(body.size)}", "bold")
    if decoded.encodings:
        out.append(" · " + " + ".join(decoded.encodings))
    out.append(f" · shown as {decoded.kind}")
    for note in decoded.notes:
        out.append(f"\n{note}", "yellow")
    return out
