"""A fake OpenAI-compatible Chat Completions server for tests (loopback only, no model inside).

It speaks enough of the real protocol for the real `openai.AsyncOpenAI` client:
``POST /v1/chat/completions`` answers ``chat.completion`` objects (id, object, created, model,
choices[0].message.content/refusal, finish_reason, usage) and validates requests the way OpenAI
does, answering 400/401/404 with OpenAI's ``{"error": {...}}`` body: a model and a non-empty
messages list are required, ``response_format`` must be ``text``, ``json_object`` (and then some
message must mention JSON) or ``json_schema`` (a valid name and schema; with ``strict`` every
object needs ``additionalProperties: false`` and all its properties required).

What it answers is scripted with `Reply` values::

    with FakeLLMServer() as server:                # server.base_url → http://127.0.0.1:PORT/v1
        server.enqueue(RATE_LIMITED, VALID)          # the next two requests, whatever they are
        server.when("LipSync-XL", CHATTER, VALID)    # requests mentioning "LipSync-XL", in order
        server.when("Slow paper", slow(2.0), then=VALID)
        ...
        assert server.calls == 3 and server.max_in_flight <= 4

Per-text scripts take precedence over the queue, and the queue over `default` (VALID unless
set). A VALID answer is built from the prompt ("Title:", "Abstract:", "Target language:" lines):
in English it reuses the abstract's sentences; in Chinese, Japanese, German or Russian it is a
canned text around the title's key term (the part before a colon). Other faults:
INVALID_JSON, REPETITION, WRONG_LANGUAGE, CHATTER, INVENTED_URL (``https://link.to.paper``),
TOO_FEW takeaways, RATE_LIMITED (429 with ``retry-after-ms``), SERVER_ERROR (500; it also sends a
short ``retry-after-ms`` so the SDK's backoff does not slow the tests), ``slow(seconds)``,
REFUSAL, LENGTH (cut-off JSON with ``finish_reason: "length"``), ``raw(content)``.
``reject_json_schema=True`` makes it answer json_schema requests with DeepSeek's 400.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

JSON = dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """One scripted answer. `kind` selects the behaviour; the other fields tune it."""

    kind: str
    delay: float = 0.0
    content: str | None = None
    retry_after: float = 0.01  # seconds, sent as retry-after-ms on 429 and 500


VALID = Reply("valid")
INVALID_JSON = Reply("invalid_json")
REPETITION = Reply("repetition")
WRONG_LANGUAGE = Reply("wrong_language")
CHATTER = Reply("chatter")
INVENTED_URL = Reply("invented_url")
TOO_FEW = Reply("too_few")
RATE_LIMITED = Reply("rate_limited")
SERVER_ERROR = Reply("server_error")
REFUSAL = Reply("refusal")
LENGTH = Reply("length")


def slow(seconds: float) -> Reply:
    """A valid answer sent only after `seconds` (use with a shorter client timeout)."""
    return Reply("valid", delay=seconds)


def raw(content: str) -> Reply:
    """Exactly this message content, finish_reason "stop"."""
    return Reply("raw", content=content)


@dataclass
class _Script:
    text: str
    replies: list[Reply]
    then: Reply | None


@dataclass
class Recorded:
    """One request as received, and the status it got."""

    body: JSON
    status: int
    reply: str  # the Reply kind, or "rejected" when the request itself was invalid

    def text(self) -> str:
        return _all_text(self.body)


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    queue: list[Reply] = field(default_factory=list)
    scripts: list[_Script] = field(default_factory=list)
    recorded: list[Recorded] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0


class FakeLLMServer:
    """The server; a context manager that runs it in a background thread."""

    def __init__(
        self,
        *,
        api_key: str | None = "test-key",
        reject_json_schema: bool = False,
        latency: float = 0.0,
        default: Reply = VALID,
    ) -> None:
        self.api_key = api_key
        self.reject_json_schema = reject_json_schema
        self.latency = latency  # added to every answer, so concurrent requests overlap
        self.default = default
        self._state = _State()
        self._stopping = threading.Event()
        self._httpd = _QuietServer(("127.0.0.1", 0), _make_handler(self))
        # A short poll interval: shutdown() waits for it, and tests start many servers.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stopping.set()  # wakes slow replies so their threads finish
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    # --- scripting -------------------------------------------------------------------------

    def enqueue(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order."""
        with self._state.lock:
            self._state.queue.extend(replies)

    def when(self, text: str, *replies: Reply, then: Reply | None = None) -> None:
        """Requests whose messages contain `text` get `replies` in order, then `then`.

        When the replies are used up and `then` is None, such requests fall back to the queue
        and the default.
        """
        with self._state.lock:
            self._state.scripts.append(_Script(text, list(replies), then))

    # --- observations ----------------------------------------------------------------------

    @property
    def recorded(self) -> list[Recorded]:
        with self._state.lock:
            return list(self._state.recorded)

    @property
    def requests(self) -> list[JSON]:
        """Bodies of every chat completion request received (including rejected ones)."""
        return [r.body for r in self.recorded]

    @property
    def calls(self) -> int:
        """Chat completion requests received, including the SDK's own retries."""
        return len(self.recorded)

    def calls_matching(self, text: str) -> int:
        return sum(text in r.text() for r in self.recorded)

    @property
    def max_in_flight(self) -> int:
        """The most requests that were being answered at the same time."""
        with self._state.lock:
            return self._state.max_in_flight

    # --- internals -------------------------------------------------------------------------

    def _next_reply(self, body: JSON) -> Reply:
        text = _all_text(body)
        with self._state.lock:
            for script in self._state.scripts:
                if script.text in text:
                    if script.replies:
                        return script.replies.pop(0)
                    if script.then is not None:
                        return script.then
            if self._state.queue:
                return self._state.queue.pop(0)
        return self.default

    def _record(self, body: JSON, status: int, reply: str) -> None:
        with self._state.lock:
            self._state.recorded.append(Recorded(body, status, reply))

    @contextmanager
    def _tracking(self) -> Iterator[None]:
        with self._state.lock:
            self._state.in_flight += 1
            self._state.max_in_flight = max(self._state.max_in_flight, self._state.in_flight)
        try:
            yield
        finally:
            with self._state.lock:
                self._state.in_flight -= 1

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def handle_completion(
        self, headers: dict[str, str], raw_body: bytes
    ) -> tuple[int, JSON, dict[str, str]]:
        """Status, JSON body and extra headers for one POST /v1/chat/completions."""
        try:
            body = json.loads(raw_body or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._record({}, 400, "rejected")
            return _error(400, "We could not parse the JSON body of your request.", None)
        if self.api_key is not None:
            auth = headers.get("authorization", "")
            given = auth.removeprefix("Bearer ").strip()
            if given != self.api_key:
                self._record(body, 401, "rejected")
                return _error(
                    401,
                    f"Incorrect API key provided: {given}. You can find your API key in your"
                    " account settings.",
                    None,
                    code="invalid_api_key",
                )
        problem = _request_problem(body, reject_json_schema=self.reject_json_schema)
        if problem is not None:
            message, param = problem
            self._record(body, 400, "rejected")
            return _error(400, message, param)
        reply = self._next_reply(body)
        status = {"rate_limited": 429, "server_error": 500}.get(reply.kind, 200)
        self._record(body, status, reply.kind)
        with self._tracking():
            self._wait(self.latency + reply.delay)
            return _answer(reply, body)


# --- request validation ------------------------------------------------------------------------

_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _request_problem(body: JSON, *, reject_json_schema: bool) -> tuple[str, str | None] | None:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return "you must provide a model parameter", "model"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "Invalid 'messages': empty array. Expected an array with minimum length 1.", (
            "messages"
        )
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in _ROLES:
            return f"Invalid value for 'messages[{i}].role'.", f"messages[{i}].role"
        content = msg.get("content")
        if not (
            isinstance(content, str | list) or (content is None and msg["role"] == "assistant")
        ):
            return f"Invalid type for 'messages[{i}].content'.", f"messages[{i}].content"
    if body.get("stream"):
        return "This fake server does not stream.", "stream"
    for name in ("max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if value is not None and (not isinstance(value, int) or value < 1):
            return f"Invalid '{name}': expected a positive integer.", name
    return _response_format_problem(body, reject_json_schema=reject_json_schema)


def _response_format_problem(
    body: JSON, *, reject_json_schema: bool
) -> tuple[str, str | None] | None:
    fmt = body.get("response_format")
    if fmt is None:
        return None
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind not in {"text", "json_object", "json_schema"}:
        return (
            "Invalid value for 'response_format.type': expected one of 'text', 'json_object',"
            " 'json_schema'.",
            "response_format.type",
        )
    if kind == "json_object" and "json" not in _all_text(body).lower():
        return (
            "'messages' must contain the word 'json' in some form, to use 'response_format' of"
            " type 'json_object'.",
            "messages",
        )
    if kind != "json_schema":
        return None
    if reject_json_schema:  # DeepSeek's answer
        return "This response_format type is unavailable now", None
    spec = fmt.get("json_schema")
    if not isinstance(spec, dict) or not _NAME_RE.match(str(spec.get("name", ""))):
        return "Invalid 'response_format.json_schema.name'.", "response_format.json_schema.name"
    schema = spec.get("schema")
    if not isinstance(schema, dict):
        return "Invalid 'response_format.json_schema.schema'.", "response_format.json_schema"
    if spec.get("strict"):
        problem = _strict_problem(schema, ())
        if problem:
            return f"Invalid schema for response_format '{spec['name']}': {problem}", (
                "response_format"
            )
    return None


def _strict_problem(schema: JSON, context: tuple[str, ...]) -> str | None:
    where = f"In context={context!r}"
    if schema.get("type") == "object":
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is not False:
            return f"{where}, 'additionalProperties' is required to be supplied and to be false."
        if sorted(schema.get("required", [])) != sorted(props):
            return (
                f"{where}, 'required' is required to be supplied and to be an array including"
                " every key in properties."
            )
        for name, sub in props.items():
            problem = _strict_problem(sub, (*context, "properties", name))
            if problem:
                return problem
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        return _strict_problem(schema["items"], (*context, "items"))
    return None


def _all_text(body: JSON) -> str:
    parts: list[str] = []
    for msg in body.get("messages") or []:
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts += [str(p.get("text", "")) for p in content if isinstance(p, dict)]
    return "\n".join(parts)


# --- answers -----------------------------------------------------------------------------------


def _error(
    status: int, message: str, param: str | None, *, code: str | None = None
) -> tuple[int, JSON, dict[str, str]]:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return status, {"error": {"message": message, "type": kind, "param": param, "code": code}}, {}


_counter = 0
_counter_lock = threading.Lock()


def _completion(
    body: JSON, content: str | None, *, finish: str = "stop", refusal: str | None = None
) -> JSON:
    global _counter
    with _counter_lock:
        _counter += 1
        n = _counter
    prompt_tokens = max(1, len(_all_text(body)) // 4)
    completion_tokens = max(1, len(content or refusal or "") // 4)
    return {
        "id": f"chatcmpl-fake{n:06d}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "refusal": refusal,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _answer(reply: Reply, body: JSON) -> tuple[int, JSON, dict[str, str]]:
    retry_header = {"retry-after-ms": str(max(1, int(reply.retry_after * 1000)))}
    if reply.kind == "rate_limited":
        status, payload, _ = _error(429, "Rate limit reached for requests.", None)
        payload["error"]["type"] = "requests"
        payload["error"]["code"] = "rate_limit_exceeded"
        return status, payload, retry_header
    if reply.kind == "server_error":
        status, payload, _ = _error(
            500, "The server had an error while processing your request. Sorry about that!", None
        )
        return status, payload, retry_header
    if reply.kind == "refusal":
        refusal = "I'm sorry, but I can't help with that request."
        return 200, _completion(body, None, refusal=refusal), {}
    if reply.kind == "raw":
        return 200, _completion(body, reply.content), {}
    prompt = _Prompt.from_body(body)
    tldr, takeaways = _faulty(reply.kind, prompt)
    content = json.dumps({"tldr": tldr, "takeaways": takeaways}, ensure_ascii=False)
    if reply.kind == "invalid_json":
        return 200, _completion(body, content[: len(content) // 2] + '", "takeaways": [}'), {}
    if reply.kind == "length":
        return 200, _completion(body, content[: len(content) // 2], finish="length"), {}
    return 200, _completion(body, content), {}


# --- deterministic summaries -------------------------------------------------------------------


@dataclass(frozen=True)
class _Prompt:
    title: str
    abstract: str
    language: str  # the name given in "Target language: …"

    @classmethod
    def from_body(cls, body: JSON) -> _Prompt:
        messages = body.get("messages") or []
        first_user = next(
            (m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"),
            "",
        )
        text = first_user if isinstance(first_user, str) else ""
        title = re.search(r"^Title:\s*(.+)$", text, re.MULTILINE)
        abstract = re.search(r"^Abstract:\s*(.+?)(?:\n\n|\Z)", text, re.MULTILINE | re.DOTALL)
        language = re.search(r"Target language:\s*([^\n(]+)", text)
        return cls(
            title=title.group(1).strip() if title else "this paper",
            abstract=abstract.group(1).strip() if abstract else "",
            language=language.group(1).strip() if language else "English",
        )

    @property
    def term(self) -> str:
        return self.title.split(":")[0].strip()[:40]

    @property
    def is_english(self) -> bool:
        return self.language.lower() == "english"


def _trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def english_summary(prompt: _Prompt) -> tuple[str, list[str]]:
    sentences = [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", prompt.abstract) if s.strip()]
    first = next(
        (s for s in sentences if re.search(r"\b(?:propose|present|introduce)", s, re.I)),
        sentences[0] if sentences else f"This paper presents {prompt.term}.",
    )
    rest = [_trim(s, 240) for s in sentences if s is not first][:5]
    fillers = [
        f"The work centres on {prompt.term} and its evaluation.",
        "The abstract states the setting, the method and the main findings.",
        "Further details and experiments are given in the full paper.",
    ]
    while len(rest) < 3:
        rest.append(fillers[len(rest)])
    return _trim(first, 280), rest


_CANNED: dict[str, tuple[str, list[str]]] = {
    "chinese": (
        "本文提出了{t}，一种新的方法，并在多个基准上验证了其有效性。",
        [
            "{t}的核心思想是将复杂问题分解为更简单的子任务。",
            "实验表明{t}在主要评价指标上优于现有方法。",
            "作者还分析了该方法的局限性以及未来的改进方向。",
        ],
    ),
    "japanese": (
        "本論文は{t}という新しい手法を提案し、複数のベンチマークでその有効性を示した。",
        [
            "{t}の中心的なアイデアは、複雑な問題をより単純な部分問題に分解することである。",
            "実験では、{t}が主要な評価指標で既存手法を上回ることが示された。",
            "著者らは手法の限界と今後の改善の方向についても議論している。",
        ],
    ),
    "german": (
        "Die Arbeit stellt {t} vor, ein neues Verfahren, das auf mehreren Benchmarks überzeugt.",
        [
            "Die Kernidee von {t} ist die Zerlegung des Problems in einfachere Teilaufgaben.",
            "In den Experimenten übertrifft {t} bisherige Verfahren bei den wichtigsten Metriken.",
            "Die Autoren diskutieren auch die Grenzen des Verfahrens und mögliche Verbesserungen.",
        ],
    ),
    "russian": (
        "В работе предложен метод {t}, показывающий высокое качество на нескольких наборах.",
        [
            "Основная идея {t} состоит в разбиении сложной задачи на более простые подзадачи.",
            "Эксперименты показывают, что {t} превосходит известные методы по основным метрикам.",
            "Авторы также обсуждают ограничения метода и направления дальнейшей работы.",
        ],
    ),
}


def summary_in(prompt: _Prompt, language: str) -> tuple[str, list[str]]:
    """A plausible summary in `language` (a name such as "Simplified Chinese")."""
    for name, (tldr, items) in _CANNED.items():
        if name in language.lower():
            return tldr.format(t=prompt.term), [i.format(t=prompt.term) for i in items]
    return english_summary(prompt)  # unknown languages get English, which validation rejects


def _faulty(kind: str, prompt: _Prompt) -> tuple[str, list[str]]:
    tldr, items = summary_in(prompt, prompt.language)
    zh = not prompt.is_english
    if kind == "wrong_language":
        return summary_in(prompt, "Simplified Chinese" if prompt.is_english else "English")
    if kind == "chatter":
        if zh:
            return "以下是摘要：" + tldr, [*items, "希望以上回答对您有帮助。"]
        return "Sure! Here is the summary: " + tldr, [
            *items,
            "I hope this meets your requirements.",
        ]
    if kind == "repetition":
        loop = "效果很好，" * 10 if zh else "and the results improve " * 8
        return tldr, [items[0], loop.strip(), items[0], *items[1:]]
    if kind == "invented_url":
        extra = "代码见 https://link.to.paper。" if zh else "Code is at https://link.to.paper."
        return tldr, [*items[:-1], f"{items[-1]} {extra}"]
    if kind == "too_few":
        return tldr, items[:2]
    return tldr, items


# --- HTTP plumbing -----------------------------------------------------------------------------


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (timeout tests) is expected; anything else is a bug to show.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def _make_handler(server: FakeLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                self._send(200, {"object": "list", "data": []}, {})
            else:
                self._send(*_error(404, f"Unknown request URL: GET {self.path}", None))

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw_body = self.rfile.read(length) if length else b""
            if self.path.split("?")[0].rstrip("/") != "/v1/chat/completions":
                self._send(*_error(404, f"Unknown request URL: POST {self.path}", None))
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            self._send(*server.handle_completion(headers, raw_body))

        def _send(self, status: int, payload: JSON, headers: dict[str, str]) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-request-id", f"req_fake_{id(payload):x}")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
            except OSError:
                self.close_connection = True  # the client gave up (a timeout test)

    return Handler


@contextmanager
def running_fake_llm(**kwargs: Any) -> Iterator[FakeLLMServer]:
    """`with running_fake_llm(reject_json_schema=True) as server: ...`"""
    with FakeLLMServer(**kwargs) as server:
        yield server
