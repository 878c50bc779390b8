"""ECS tasks that run, write log lines and stop with an exit code.

moto 5.2.5 starts a task (RunTask) in RUNNING and never runs anything: its
containers keep exit code 0, nothing reaches CloudWatch Logs, and the task
only stops when asked. gantry's release tasks and ``gantry run`` start a
task, wait for it to stop, and read its exit code and the end of its log,
so the emulator now "runs" the task's essential container.

What it runs is read from the container's command (an override of RunTask
first, else the task definition's), without executing anything:

- ``["sh", "-c", SCRIPT]`` (also ``/bin/sh``, ``bash``, ``/bin/bash``):
  SCRIPT's statements, split at ``;``, ``&&`` and line breaks, are read in
  order. ``echo WORDS`` writes a log line (``$NAME`` and ``${NAME}`` are the
  container's environment; quotes are removed); ``sleep N`` keeps the task
  running N more seconds (wall clock; fractions allowed); ``exit N`` stops it
  with exit code N there. Anything else is logged as ``emulator: would run:
  STATEMENT``.
- any other command: one line ``emulator: would run: COMMAND``; exit 0.

The task is RUNNING until its statements' sleeps have passed, then STOPPED
with the container's ``exitCode``, ``stopCode`` EssentialContainerExited and
``stoppedReason`` "Essential container in task exited", as on AWS. A log line
is written to the container's ``awslogs`` group, stream
``PREFIX/CONTAINER/TASK_ID`` (made if missing), once its time has come: the
log grows as the task runs (it is brought up to date whenever tasks are
described or listed, which is how a client waits for one). StopTask stops it at once with exit code
143 (SIGTERM) and ``stopCode`` UserInitiated.

moto's RunTask also failed (a 500) for a Fargate task whose containers have
no memory of their own (Fargate takes the task's): it added None. Such a
container now counts as 0 MiB, as the task's memory holds it. And RunTask of
an awsvpc task failed in a VPC without DNS host names (the demo platform's),
whose network interfaces moto gives no private DNS name: they now have none
(null) instead of none at all.
"""

from __future__ import annotations

import re
import shlex
import threading
import time
from typing import Any

from moto.ecs.models import EC2ContainerServiceBackend, Task

_SHELLS = ("sh", "/bin/sh", "bash", "/bin/bash")
_VAR = re.compile(r"\$\{(\w+)\}|\$(\w+)")
_lock = threading.Lock()


class _Run:
    """What a task does: log lines at offsets (seconds), then its exit."""

    def __init__(self, lines: list[tuple[float, str]], duration: float, exit_code: int) -> None:
        self.lines = lines
        self.duration = duration
        self.exit_code = exit_code
        self.started = time.time()
        self.written = 0
        self.stopped_by_user = False


def _script(command: list[str], env: dict[str, str]) -> _Run:
    if len(command) >= 3 and command[0] in _SHELLS and command[1] == "-c":
        return _interpret(command[2], env)
    return _Run([(0.0, "emulator: would run: " + " ".join(command))], 0.0, 0)


def _interpret(script: str, env: dict[str, str]) -> _Run:
    lines: list[tuple[float, str]] = []
    at = 0.0
    for stmt in re.split(r";|&&|\n", script):
        stmt = stmt.strip()
        if not stmt:
            continue
        try:
            words = shlex.split(stmt)
        except ValueError:
            words = stmt.split()
        head, args = words[0], words[1:]
        if head == "echo":
            text = " ".join(args)
            lines.append((at, _VAR.sub(lambda m: env.get(m.group(1) or m.group(2), ""), text)))
        elif head == "sleep" and len(args) == 1:
            try:
                at += max(0.0, float(args[0]))
            except ValueError:
                lines.append((at, "emulator: would run: " + stmt))
        elif head == "exit":
            code = int(args[0]) if args and args[0].lstrip("-").isdigit() else 0
            return _Run(lines, at, code & 0xFF)
        else:
            lines.append((at, "emulator: would run: " + stmt))
    return _Run(lines, at, 0)


def _container_def(task: Task) -> dict[str, Any]:
    td = task._backend.describe_task_definition(task.task_definition_arn)
    defs = td.container_definitions or [{}]
    return next((d for d in defs if d.get("essential", True)), defs[0])


def _command_and_env(task: Task, cdef: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    command = list(cdef.get("command") or [])
    env = {e.get("name"): str(e.get("value", "")) for e in cdef.get("environment") or []}
    for o in (task.overrides or {}).get("containerOverrides") or []:
        if o.get("name") == cdef.get("name"):
            command = list(o.get("command") or command)
            env.update({e.get("name"): str(e.get("value", "")) for e in o.get("environment") or []})
    return command, env


def _flush(task: Task, until: float) -> None:
    """Write the run's log lines due by until (seconds since start)."""
    run: _Run = task._gantry_run  # type: ignore[attr-defined]
    due = [ln for ln in run.lines[run.written :] if ln[0] <= until]
    if not due:
        return
    cdef = _container_def(task)
    opts = (cdef.get("logConfiguration") or {}).get("options") or {}
    group, prefix = opts.get("awslogs-group"), opts.get("awslogs-stream-prefix")
    run.written += len(due)
    if not group or not prefix:
        return
    from moto.logs.models import logs_backends

    logs = logs_backends[task._account_id][task.region_name]
    stream = f"{prefix}/{cdef.get('name')}/{task.id}"
    try:
        logs.ensure_log_stream(group, stream)
    except Exception:  # noqa: BLE001 - no such group: the lines are lost, as on AWS
        return
    events = [{"timestamp": int((run.started + at) * 1000), "message": msg} for at, msg in due]
    logs.put_log_events(group, stream, events)


def _stop(task: Task, code: int, stop_code: str, reason: str) -> None:
    task.last_status = "STOPPED"
    task.desired_status = "STOPPED"
    task.stop_code = stop_code
    task.stopped_reason = reason
    task.stopped_at = time.time()
    for c in task.containers:
        c.last_status = "STOPPED"
        c.exitCode = code
        c.reason = reason if stop_code == "UserInitiated" else None


def _advance(task: Task) -> None:
    """Bring a task up to date with the clock: its log, and its stop."""
    run: _Run | None = getattr(task, "_gantry_run", None)
    if run is None or task.last_status == "STOPPED":
        return
    elapsed = time.time() - run.started
    _flush(task, elapsed)
    if elapsed >= run.duration:
        _flush(task, float("inf"))
        _stop(task, run.exit_code, "EssentialContainerExited", "Essential container in task exited")


def _with_sizes(cdef: dict[str, Any]) -> dict[str, Any]:
    """A container definition whose memory (and cpu) moto can add up."""
    out = dict(cdef)
    for key in ("memory", "Memory"):
        if key in out and out[key] is None:
            del out[key]
    if not any(k in out for k in ("memory", "Memory", "memoryReservation", "MemoryReservation")):
        out["memory"] = 0
    return out


def install() -> None:
    if getattr(EC2ContainerServiceBackend, "__gantry_tasks__", False):
        return
    EC2ContainerServiceBackend.__gantry_tasks__ = True  # type: ignore[attr-defined]
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface

    if not hasattr(NetworkInterface, "private_dns_name"):
        NetworkInterface.private_dns_name = None  # type: ignore[attr-defined]
    original_run = EC2ContainerServiceBackend.run_task
    original_describe = EC2ContainerServiceBackend.describe_tasks
    original_list = EC2ContainerServiceBackend.list_tasks
    original_stop = EC2ContainerServiceBackend.stop_task

    def run_task(self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> list[Task]:
        tasks = original_run(self, *args, **kwargs)
        with _lock:
            for task in tasks:
                command, env = _command_and_env(task, _container_def(task))
                task._gantry_run = _script(command, env)  # type: ignore[attr-defined]
                task.last_status = "RUNNING"
                task.started_at = time.time()
                for c in task.containers:
                    c.last_status = "RUNNING"
                    c.exitCode = None
                _advance(task)
        return tasks

    def describe_tasks(self: EC2ContainerServiceBackend, cluster_str: str, tasks: list[str]) -> list[Task]:
        found = original_describe(self, cluster_str, tasks)
        with _lock:
            for task in found:
                _advance(task)
        return found

    def list_tasks(self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> list[Task]:
        with _lock:
            for cluster_tasks in self.tasks.values():
                for task in cluster_tasks.values():
                    _advance(task)
        return original_list(self, *args, **kwargs)

    def stop_task(self: EC2ContainerServiceBackend, cluster_str: str, task_str: str, reason: str) -> Task:
        task = original_stop(self, cluster_str, task_str, reason)
        with _lock:
            if getattr(task, "_gantry_run", None) is not None:
                task._gantry_run.stopped_by_user = True  # type: ignore[attr-defined]
                _flush(task, time.time() - task._gantry_run.started)  # type: ignore[attr-defined]
            _stop(task, 143, "UserInitiated", reason or "Task stopped by user")
        return task

    # moto's tasks move through their states on every describe (its managed
    # state); a task of the emulator moves by the clock instead.
    def status_get(self: Task) -> str | None:
        if getattr(self, "_gantry_run", None) is not None:
            return self._gantry_status  # type: ignore[attr-defined,no-any-return]
        return Task.status.fget(self)  # type: ignore[attr-defined]

    def status_set(self: Task, value: str) -> None:
        self._gantry_status = value  # type: ignore[attr-defined]
        self._status = value

    original_needs = EC2ContainerServiceBackend._calculate_task_resource_requirements

    def needs(task_definition: Any) -> dict[str, Any]:
        saved = task_definition.container_definitions
        task_definition.container_definitions = [_with_sizes(d) for d in saved]
        try:
            return original_needs(task_definition)  # type: ignore[no-any-return]
        finally:
            task_definition.container_definitions = saved

    EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(needs)  # type: ignore[method-assign,assignment]
    EC2ContainerServiceBackend.run_task = run_task  # type: ignore[method-assign]
    EC2ContainerServiceBackend.describe_tasks = describe_tasks  # type: ignore[method-assign]
    EC2ContainerServiceBackend.list_tasks = list_tasks  # type: ignore[method-assign]
    EC2ContainerServiceBackend.stop_task = stop_task  # type: ignore[method-assign]
    Task.last_status = property(status_get, status_set)  # type: ignore[assignment]
