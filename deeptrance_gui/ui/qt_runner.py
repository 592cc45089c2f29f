"""The session's long work on Qt worker threads (superqt's generator and function workers,
QThreadPool): the job runs on a worker, its results come back through queued signals to the
GUI thread, where the session's callbacks run. This and the window's poll timer are all the
threading the UI adds to the core's own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QThreadPool
from superqt.utils import create_worker

from deeptrance_gui.core.session.runner import Done, Ended, Failed


class _WorkerTask:
    def __init__(self, worker: Any) -> None:
        self.worker = worker

    def stop(self) -> None:
        self.worker.quit()


class QtRunner:
    """A :class:`~deeptrance_gui.core.session.Runner` over superqt workers (GUI thread)."""

    def __init__(self) -> None:
        self._workers: set[Any] = set()
        self.closed = False

    def _start(self, worker: Any, ended: Callable[[], None] | None) -> _WorkerTask:
        if self.closed:  # closing: a result that arrives now starts no more work
            return _WorkerTask(worker)
        self._workers.add(worker)
        worker.finished.connect(lambda w=worker: self._workers.discard(w))
        if ended is not None:
            worker.finished.connect(lambda *_: ended())
        worker.start()
        return _WorkerTask(worker)

    def call(self, job: Callable[[], Any], *, done: Done, failed: Failed, ended: Ended | None = None) -> _WorkerTask:
        worker = create_worker(job, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(done)
        worker.errored.connect(failed)
        return self._start(worker, ended)

    def iterate(self, job: Callable[[], Iterator[Any]], *, step: Done, failed: Failed, ended: Ended) -> _WorkerTask:
        worker = create_worker(job, _start_thread=False, _ignore_errors=True)
        worker.yielded.connect(step)
        worker.errored.connect(failed)
        return self._start(worker, ended)

    def busy(self) -> int:
        return len(self._workers)

    def shutdown(self, timeout_s: float) -> bool:
        self.closed = True
        return bool(QThreadPool.globalInstance().waitForDone(int(timeout_s * 1000)))
