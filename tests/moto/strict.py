"""Strict mode: the rules AWS enforces that moto 5.2.1 skips.

On when the server starts with `EKSPEC_MOTO_STRICT=1` (the end-to-end and crash tests, and
`scripts/demo.sh`). Each rule lives in a `strict_<area>.py` module beside this one, patches
moto on import and does nothing unless `ENABLED`; each cites its source (the AWS API reference,
or an anchor's issue) in a comment, and answers in AWS's own error shape (code and message).

What is here is shared by those modules:
- `SECONDS`: how long a transitional state (CREATING, UPDATING, DELETING) lasts
  (`EKSPEC_MOTO_STATE_SECONDS`, default 1.5): long enough for a test to act in it, short enough
  for CI.
- `timed_status(cls)`: makes `obj.status` of a moto model follow a timeline set with
  `transition(obj, "CREATING", "ACTIVE")`.
- `later(seconds, fn)`: runs `fn` after a delay (a deletion that completes after DELETING).
- `control(name)`: registers a test hook, `POST /moto-api/ekspec/<name>` with a JSON body,
  answered with the handler's JSON (tests use it to put a resource in a state AWS can reach but
  an emulator cannot: CREATE_FAILED, DEGRADED, another tool's update in progress).
"""

import json
import os
import threading
import time

from moto.moto_api._internal import urls as moto_api_urls

ENABLED = os.environ.get("EKSPEC_MOTO_STRICT") == "1"
SECONDS = float(os.environ.get("EKSPEC_MOTO_STATE_SECONDS", "1.5"))

# A lock for rules that read and then change shared state from several request threads.
LOCK = threading.RLock()


def now():
    return time.monotonic()


def timed_status(cls, attribute="status"):
    """Turns `cls.<attribute>` into a property that reports the transitional state of the
    object's timeline while it lasts, and the stored value after it. Plain assignments keep
    working (they set the stored value and end any transition)."""
    stored = "_strict_" + attribute

    def get(self):
        transition = self.__dict__.get("_strict_transition")
        if transition is not None:
            state, until = transition
            if now() < until:
                return state
            self.__dict__["_strict_transition"] = None
        return self.__dict__.get(stored)

    def set_(self, value):
        self.__dict__[stored] = value
        self.__dict__["_strict_transition"] = None

    setattr(cls, attribute, property(get, set_))
    cls._strict_attribute = attribute


def transition(obj, state, then, seconds=None):
    """`obj` reports `state` for `seconds` (default `SECONDS`), then `then`."""
    attribute = type(obj)._strict_attribute
    obj.__dict__["_strict_" + attribute] = then
    obj.__dict__["_strict_transition"] = (state, now() + (SECONDS if seconds is None else seconds))


def in_transition(obj):
    """Whether `obj` is in a transitional state right now."""
    transition_ = obj.__dict__.get("_strict_transition")
    return transition_ is not None and now() < transition_[1]


def later(seconds, fn, *args):
    """Runs `fn(*args)` after `seconds` on a daemon thread."""
    timer = threading.Timer(seconds, _locked, args=(fn, *args))
    timer.daemon = True
    timer.start()
    return timer


def _locked(fn, *args):
    with LOCK:
        fn(*args)


_CONTROLS = {}


def control(name):
    """Registers `fn(body: dict) -> dict` as the test hook `POST /moto-api/ekspec/<name>`."""

    def register(fn):
        _CONTROLS[name] = fn
        return fn

    return register


def _dispatch(request, full_url, headers):
    name = full_url.rstrip("/").rsplit("/", 1)[-1].split("?")[0]
    handler = _CONTROLS.get(name)
    if handler is None:
        return 404, {}, json.dumps({"error": f"no ekspec control `{name}`"})
    body = request.data.decode() if request.data else ""
    try:
        with LOCK:
            answer = handler(json.loads(body) if body else {})
    except KeyError as error:
        return 400, {}, json.dumps({"error": f"missing or unknown {error}"})
    return 200, {}, json.dumps(answer if answer is not None else {"status": "ok"})


moto_api_urls.url_paths["{0}/moto-api/ekspec/(?P<name>[^/]+)$"] = _dispatch


@control("strict")
def _strict(_body):
    """Whether strict mode is on (tests check it before relying on a rule)."""
    return {"strict": ENABLED, "seconds": SECONDS}
