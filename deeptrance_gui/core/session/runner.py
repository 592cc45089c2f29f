"""Where a session's long work runs. The session decides *what* runs and what happens with
the result; a :class:`Runner` decides *where*: :class:`InlineRunner` runs it at once on the
calling thread (scripts, notebooks, core tests), the window's Qt runner on a worker thread,
handing results back on the GUI thread. Either way every callback runs on the session's
thread, so the session's state has one owner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]
Ended = Callable[[], None]


class Task(Protocol):
    """Work handed to a runner."""

    def stop(self) -> None:
        """Ask a generator job to stop at its next step (the session also tells the job itself,
        through the dream's cancel event: a runner may not be able to interrupt it)."""
        ...


class Runner(Protocol):
    """Runs jobs for a session; every callback runs on the session's thread."""

    def call(self, job: Callable[[], Any], *, done: Done, failed: Failed, ended: Ended | None = None) -> Task:
        """Run ``job()``; then ``done(result)`` or ``failed(error)``; then ``ended()``."""
        ...

    def iterate(self, job: Callable[[], Iterator[Any]], *, step: Done, failed: Failed, ended: Ended) -> Task:
        """Run the generator ``job()``: ``step(item)`` per item, ``failed(error)`` when it
        raised, ``ended()`` last in every case."""
        ...

    def busy(self) -> int:
        """Jobs still running."""
        ...

    def shutdown(self, timeout_s: float) -> bool:
        """Start no new job (later calls are dropped: a result that arrives while closing must
        not start more work), then wait until none runs; False if some still ran after
        ``timeout_s``."""
        ...


class _InlineTask:
    def __init__(self) -> None:
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


class InlineRunner:
    """Runs every job at once on the calling thread (the call returns when the job is done)."""

    def __init__(self) -> None:
        self.closed = False

    def call(self, job: Callable[[], Any], *, done: Done, failed: Failed, ended: Ended | None = None) -> Task:
        if self.closed:
            return _InlineTask()
        try:
            result = job()
        except Exception as err:
            failed(err)  # may raise again (a session that raises errors): ended() still runs
        else:
            done(result)
        finally:
            if ended is not None:
                ended()
        return _InlineTask()

    def iterate(self, job: Callable[[], Iterator[Any]], *, step: Done, failed: Failed, ended: Ended) -> Task:
        task = _InlineTask()
        if self.closed:
            return task
        try:
            for item in job():
                step(item)
        except Exception as err:
            failed(err)
        finally:
            ended()
        return task

    def busy(self) -> int:
        return 0

    def shutdown(self, timeout_s: float) -> bool:
        self.closed = True
        return True
