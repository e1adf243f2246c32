"""Reading responses as a user would: the page's text and the messages it shows."""

import html


def page_text(response) -> str:
    """The response body as text, with HTML entities turned back into characters."""
    return html.unescape(response.content.decode())


def messages_of(response) -> list[str]:
    """The flash messages rendered with this response."""
    return [str(m) for m in response.context["messages"]]
